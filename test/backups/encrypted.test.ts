import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListedBackup } from "../../src/backups/types.ts";
import { systemTimers } from "../../src/clock.ts";
import { bootTestLifeboat, type TestLifeboat } from "../support/app.ts";
import { ADMIN, loginToken, TEST_JWT_SECRET } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { createS3Store } from "../../src/storage/s3.ts";
import { destroyS3Server, S3RVER_KEY, startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { tempDir } from "../support/temp.ts";
const SQLITE3 = "/usr/bin/sqlite3";

let server: TestS3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await destroyS3Server(server);
});

/** A key pair made by Debian's age-keygen. */
async function keygen(): Promise<{ file: string; recipient: string; secret: string }> {
  const file = path.join(await tempDir(), "key.txt");
  execFileSync("age-keygen", ["-o", file], { stdio: "pipe" });
  const recipient = execFileSync("age-keygen", ["-y", file]).toString().trim();
  const secret = (await fs.readFile(file, "utf8")).match(/AGE-SECRET-KEY-1\w+/)![0];
  return { file, recipient, secret };
}

async function boot(env: Record<string, string>, dataDir?: string): Promise<TestLifeboat & { token: string }> {
  const lb = await bootTestLifeboat(
    { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, JWT_SECRET: TEST_JWT_SECRET, ...env },
    { ...(dataDir ? { dataDir } : {}), offsite: { timers: systemTimers, retryDelaysMs: [100] } },
  );
  return Object.assign(lb, { token: await loginToken(lb, ADMIN.username, ADMIN.password) });
}

const auth = (lb: { token: string }) => ({ Authorization: `Bearer ${lb.token}` });
const sh = (script: string) => execFileSync("sh", ["-c", script], { stdio: "pipe" }).toString();

describe("age-encrypted backups", () => {
  it("writes .sql.gz.age (compressed, then encrypted) here and off-site; `age -d` + gunzip + sqlite3 restore it; Lifeboat imports it", async () => {
    const key = await keygen();
    const prefix = `enc-${process.pid}-${Date.now()}`;
    const lb = await boot({
      BACKUP_AGE_RECIPIENTS: key.recipient,
      BACKUP_AGE_IDENTITY_FILE: key.file,
      BACKUP_COMPRESSION: "gzip",
      ...server.env(prefix),
    });
    await lb.users.createUser(ADMIN.username, { username: "carol", password: "carol's long password", role: "user" });
    const res = await lb.app.request("/api/backups", { method: "POST", headers: auth(lb) });
    expect(res.status).toBe(201);
    const made = (await res.json()) as ListedBackup;
    expect(made.name).toMatch(/^lifeboat-\d{8}-\d{6}-manual\.sql\.gz\.age$/);
    expect(made).toMatchObject({ encrypted: true, compressed: true });

    const file = path.join(lb.dataDir, "backups", made.name);
    const bytes = await fs.readFile(file);
    expect(bytes.subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
    expect(bytes.includes(Buffer.from("lifeboat_users"))).toBe(false);

    // The standard tools, without Lifeboat.
    const restored = path.join(await tempDir(), "restored.db");
    sh(`age -d -i '${key.file}' '${file}' | gunzip | ${SQLITE3} '${restored}'`);
    expect(sh(`${SQLITE3} '${restored}' "SELECT username FROM lifeboat_users ORDER BY username"`).trim().split("\n")).toEqual(["admin", "carol"]);

    // Off-site, the same encrypted bytes.
    await lb.backups.offsiteIdle();
    const listed = ((await (await lb.app.request("/api/backups", { headers: auth(lb) })).json()) as ListedBackup[]).find((b) => b.name === made.name);
    expect(listed?.location).toBe("both");
    const remote = await createS3Store(
      { bucket: server.bucket, prefix, region: "us-east-1", endpoint: server.endpoint, forcePathStyle: true, accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY, sessionToken: undefined },
    ).get(made.name);
    const chunks: Buffer[] = [];
    for await (const c of remote!.stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);

    // Lifeboat itself decrypts for the import.
    await lb.users.deleteUser(ADMIN.username, (await lb.users.listUsers()).find((u) => u.username === "carol")!.id);
    const imported = await lb.app.request(`/api/backups/${made.name}/import`, { method: "POST", headers: auth(lb) });
    expect(imported.status).toBe(200);
    const users = await lb.db.execute("SELECT username FROM lifeboat_users ORDER BY username");
    expect(users.rows.map((r) => r.username)).toEqual(["admin", "carol"]);

    expect(JSON.stringify(lb.logs)).not.toContain(key.secret);
    expect(JSON.stringify(lb.logs)).not.toContain("AGE-SECRET-KEY");
  });

  it("imports a dump encrypted with `age -r`; refuses one without the identity, or for another key, and changes nothing", async () => {
    const key = await keygen();
    const other = await keygen();
    const lb = await boot({ BACKUP_AGE_IDENTITY_FILE: key.file });
    await lb.db.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
    await lb.db.execute("INSERT INTO notes(body) VALUES ('kept by age')");
    const dir = await tempDir();
    const dump = path.join(dir, "dump.sql.age");
    sh(`${SQLITE3} '${lb.config.databasePath}' .dump | age -r ${key.recipient} > '${dump}'`);
    const forOther = path.join(dir, "other.sql.age");
    sh(`${SQLITE3} '${lb.config.databasePath}' .dump | age -r ${other.recipient} > '${forOther}'`);
    await lb.db.execute("DELETE FROM notes");

    const wrong = await lb.app.request("/api/backups/import", {
      method: "POST",
      headers: { ...auth(lb), "Content-Type": MULTIPART_TYPE },
      body: multipartBody(await fs.readFile(forOther), { filename: "other.sql.age" }),
    });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toMatch(/encrypted with age for a different key/);
    expect(Number((await lb.db.execute("SELECT count(*) AS n FROM notes")).rows[0]!.n)).toBe(0);

    const res = await lb.app.request("/api/backups/import", {
      method: "POST",
      headers: { ...auth(lb), "Content-Type": MULTIPART_TYPE },
      body: multipartBody(await fs.readFile(dump), { filename: "dump.sql.age" }),
    });
    expect(res.status).toBe(200);
    const { source } = (await res.json()) as { source: string };
    expect(source).toMatch(/-upload\.sql\.age$/);
    expect((await lb.db.execute("SELECT body FROM notes")).rows.map((r) => r.body)).toEqual(["kept by age"]);

    // Without BACKUP_AGE_IDENTITY_FILE the same file is refused with the reason.
    const keyless = await boot({});
    const refused = await keyless.app.request("/api/backups/upload", {
      method: "POST",
      headers: { ...auth(keyless), "Content-Type": MULTIPART_TYPE },
      body: multipartBody(await fs.readFile(dump), { filename: "dump.sql.age" }),
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/BACKUP_AGE_IDENTITY_FILE/);
  });

  it("stops the start with a readable error for a bad identity file or recipient, naming neither key", async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, "bad.txt"), "AGE-SECRET-KEY-1NOTAKEY\n");
    await expect(boot({ BACKUP_AGE_IDENTITY_FILE: path.join(dir, "bad.txt") })).rejects.toThrow(/line 1 of the age identity file .* is not an age secret key/);
    await expect(boot({ BACKUP_AGE_RECIPIENTS: "age1nope" })).rejects.toThrow(/BACKUP_AGE_RECIPIENTS: entry 1 is not an age public key/);
  });
});
