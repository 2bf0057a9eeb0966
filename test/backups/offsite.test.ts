import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListedBackup } from "../../src/backups/types.ts";
import { systemTimers, type Clock } from "../../src/clock.ts";
import { createS3Store } from "../../src/storage/s3.ts";
import { bootTestLifeboat, type TestLifeboat } from "../support/app.ts";
import { ADMIN, formHeaders, loginCookie, loginToken, ORIGIN, TEST_JWT_SECRET } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { destroyS3Server, S3RVER_KEY, startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { tempDir } from "../support/temp.ts";
import { webhookServer } from "../schedule/support/webhook-server.ts";
import { eventually } from "../support/wait.ts";

let server: TestS3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await destroyS3Server(server);
});

let prefixes = 0;
/** A prefix of its own per test, so tests sharing the server never see each other's backups. */
const freshPrefix = () => `t${process.pid}-${++prefixes}-${randomBytes(3).toString("hex")}`;

/** A Lifeboat with off-site copies in the test bucket; retries come quickly (100 ms). */
async function boot(
  prefix: string,
  env: Record<string, string> = {},
  options: { dataDir?: string; clock?: Clock } = {},
): Promise<TestLifeboat & { token: string }> {
  const lb = await bootTestLifeboat(
    {
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: TEST_JWT_SECRET,
      ...server.env(prefix),
      ...env,
    },
    {
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      offsite: { timers: systemTimers, retryDelaysMs: [100] },
    },
  );
  return Object.assign(lb, { token: await loginToken(lb, ADMIN.username, ADMIN.password) });
}

const bucket = (prefix: string) =>
  createS3Store({
    bucket: server.bucket,
    prefix,
    region: "us-east-1",
    endpoint: server.endpoint,
    forcePathStyle: true,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    sessionToken: undefined,
  });

async function api(lb: TestLifeboat & { token: string }, url: string, init: RequestInit = {}): Promise<Response> {
  return lb.app.request(url, { ...init, headers: { Authorization: `Bearer ${lb.token}`, ...(init.headers as Record<string, string>) } });
}

async function list(lb: TestLifeboat & { token: string }): Promise<ListedBackup[]> {
  const res = await api(lb, "/api/backups");
  expect(res.status).toBe(200);
  return (await res.json()) as ListedBackup[];
}

async function backupNow(lb: TestLifeboat & { token: string }): Promise<ListedBackup> {
  const res = await api(lb, "/api/backups", { method: "POST" });
  expect(res.status).toBe(201);
  return (await res.json()) as ListedBackup;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("off-site copies in an S3-compatible bucket", () => {
  it("copies every backup off-site with its sha256 and metadata, checks it, and lists it as here + off-site", async () => {
    const prefix = freshPrefix();
    const lb = await boot(prefix);
    const made = await backupNow(lb);
    await lb.backups.offsiteIdle();

    const listed = (await list(lb)).find((b) => b.name === made.name)!;
    expect(listed.location).toBe("both");
    expect(listed.offsite).toBeNull();
    const local = await fs.readFile(path.join(lb.dataDir, "backups", made.name));
    const head = await bucket(prefix).head(made.name);
    expect(head).toMatchObject({ size: local.length, metadata: { sha256: sha(local), trigger: "manual", actor: "admin" } });
    expect((await readAll((await bucket(prefix).get(made.name))!.stream)).equals(local)).toBe(true);

    // An uploaded backup goes off-site too (every trigger does).
    const upload = await api(lb, "/api/backups/upload", {
      method: "POST",
      headers: { "Content-Type": MULTIPART_TYPE },
      body: multipartBody(local),
    });
    expect(upload.status).toBe(201);
    const stored = (await upload.json()) as ListedBackup;
    await lb.backups.offsiteIdle();
    expect((await list(lb)).find((b) => b.name === stored.name)?.location).toBe("both");

    const status = (await (await api(lb, "/api/backups/status")).json()) as { offsite: { reachable: boolean; pending: unknown[]; location: string } };
    expect(status.offsite).toMatchObject({ reachable: true, pending: [], location: `s3://${server.bucket}/${prefix}/` });
  });

  it("sends a backup larger than one part as a multipart upload, byte for byte", async () => {
    const prefix = freshPrefix();
    const lb = await boot(prefix, { BACKUP_S3_PART_SIZE: "5MiB" });
    await lb.db.execute("CREATE TABLE blobs(b BLOB)");
    for (let i = 0; i < 4; i++) await lb.db.execute({ sql: "INSERT INTO blobs VALUES (?)", args: [randomBytes(1024 * 1024)] });
    const made = await backupNow(lb);
    expect(made.size).toBeGreaterThan(5 * 1024 * 1024);
    await lb.backups.offsiteIdle();
    const local = await fs.readFile(path.join(lb.dataDir, "backups", made.name));
    const remote = await readAll((await bucket(prefix).get(made.name))!.stream);
    expect(remote.length).toBe(local.length);
    expect(sha(remote)).toBe(sha(local));
    expect(lb.logs.some((l) => l.msg === "backup copied off-site" && l.name === made.name)).toBe(true);
  });

  it("a second instance sharing the bucket lists, downloads and restores the first one's backups onto an empty data folder", async () => {
    const prefix = freshPrefix();
    const first = await boot(prefix);
    await first.users.createUser(ADMIN.username, { username: "carol", password: "carol's long password", role: "user" });
    const made = await backupNow(first);
    await first.backups.offsiteIdle();
    const bytes = await fs.readFile(path.join(first.dataDir, "backups", made.name));

    const emptyDir = await tempDir();
    const second = await boot(prefix, {}, { dataDir: emptyDir });
    const seen = (await list(second)).find((b) => b.name === made.name);
    expect(seen).toMatchObject({ location: "offsite", sha256: made.sha256, trigger: "manual", size: made.size });

    const download = await api(second, `/api/backups/${made.name}`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-length")).toBe(String(bytes.length));
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    const restored = await api(second, `/api/backups/${made.name}/import`, { method: "POST" });
    expect(restored.status).toBe(200);
    const users = await second.db.execute("SELECT username FROM lifeboat_users ORDER BY username");
    expect(users.rows.map((r) => r.username)).toEqual(["admin", "carol"]);
    // The restored accounts are the first instance's: sign in again.
    second.token = await loginToken(second, ADMIN.username, ADMIN.password);
    expect((await list(second)).find((b) => b.name === made.name)?.location).toBe("both");

    // The first instance sees the second one's safety backup in the same list.
    const { safetyBackup } = (await restored.json()) as { safetyBackup: string };
    await second.backups.offsiteIdle();
    await eventually(async () => (await list(first)).some((b) => b.name === safetyBackup && b.location === "offsite"), "the shared list");
  });

  it("refuses a download whose off-site bytes no longer match the recorded sha256", async () => {
    const prefix = freshPrefix();
    const first = await boot(prefix);
    const made = await backupNow(first);
    await first.backups.offsiteIdle();
    // Damage the object in the bucket (same size, other bytes), as a faulty store would.
    const damaged = await fs.readFile(path.join(first.dataDir, "backups", made.name));
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 1;
    const file = path.join(await tempDir(), "damaged.sql");
    await fs.writeFile(file, damaged);
    await bucket(prefix).putFile(made.name, file, { metadata: { sha256: made.sha256! } });

    const second = await boot(prefix, {}, { dataDir: await tempDir() });
    const res = await api(second, `/api/backups/${made.name}/import`, { method: "POST" });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/does not match its recorded sha256/);
    expect(await fs.readdir(path.join(second.dataDir, "backups")).then((f) => f.filter((n) => n.endsWith(".sql")))).toEqual([]);
  });

  it("deletes the copies it is asked to, and says which in the page", async () => {
    const prefix = freshPrefix();
    const lb = await boot(prefix);
    const made = await backupNow(lb);
    await lb.backups.offsiteIdle();

    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const table = await (await lb.app.request("/admin/backups/table", { headers: { Cookie: cookie, "HX-Request": "true" } })).text();
    expect(table).toContain("Both copies are removed: the one here and the off-site one.");
    expect(table).toContain("here + off-site");

    expect((await api(lb, `/api/backups/${made.name}?from=here`, { method: "DELETE" })).status).toBe(204);
    await expect(fs.stat(path.join(lb.dataDir, "backups", made.name))).rejects.toThrow();
    expect((await list(lb)).find((b) => b.name === made.name)?.location).toBe("offsite");
    expect((await api(lb, `/api/backups/${made.name}?from=here`, { method: "DELETE" })).status).toBe(404);

    const page = await lb.app.request(`/admin/backups/${made.name}`, { method: "DELETE", headers: formHeaders(cookie, { "HX-Request": "true" }) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`Backup ${made.name} deleted (off-site).`);
    expect(await bucket(prefix).head(made.name)).toBeNull();
    expect((await list(lb)).some((b) => b.name === made.name)).toBe(false);
  });

  it("filters the list by location, previews an off-site-only backup without keeping it, and bulk-deletes the copies asked for", async () => {
    const prefix = freshPrefix();
    const lb = await boot(prefix);
    const [a, b, c] = [await backupNow(lb), await backupNow(lb), await backupNow(lb)];
    await lb.backups.offsiteIdle();
    // a: off-site only; b: both; c: here only (its off-site copy removed).
    expect((await api(lb, `/api/backups/${a.name}?from=here`, { method: "DELETE" })).status).toBe(204);
    expect((await api(lb, `/api/backups/${c.name}?from=offsite`, { method: "DELETE" })).status).toBe(204);

    const where = async (location: string) => {
      const res = await api(lb, `/api/backups?location=${location}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-total-count")).toBe("1");
      return ((await res.json()) as ListedBackup[]).map((x) => [x.name, x.location]);
    };
    expect(await where("offsite")).toEqual([[a.name, "offsite"]]);
    expect(await where("both")).toEqual([[b.name, "both"]]);
    expect(await where("here")).toEqual([[c.name, "here"]]);
    const bad = await api(lb, "/api/backups?location=moon");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/location/);

    // The page: a Where column and filter (off-site storage is on), and the filtered table.
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const headers = { Cookie: cookie, Origin: ORIGIN, "HX-Request": "true" };
    const page = await (await lb.app.request("/admin/backups", { headers: { Cookie: cookie } })).text();
    expect(page).toContain('<select id="filter-location" name="location">');
    const table = await (await lb.app.request("/admin/backups/table?location=offsite", { headers })).text();
    expect(table.match(/<tr id="backup-[^"]+" data-name="([^"]+)"/g)).toEqual([expect.stringContaining(a.name)]);
    expect(table).toContain("off-site");
    expect(table).toContain('<select id="bulk-from" name="from">');

    // The preview of the off-site-only backup downloads it for the dry run and keeps nothing.
    const before = (await fs.readdir(path.join(lb.dataDir, "backups"))).sort();
    const preview = await api(lb, `/api/backups/${a.name}/preview`);
    expect(preview.status).toBe(200);
    const p = (await preview.json()) as { backup: ListedBackup; checksum: { state: string }; restorable: boolean };
    expect(p).toMatchObject({ backup: { name: a.name, location: "offsite" }, checksum: { state: "matches" }, restorable: true });
    expect((await fs.readdir(path.join(lb.dataDir, "backups"))).sort()).toEqual(before);
    expect((await list(lb)).find((x) => x.name === a.name)?.location).toBe("offsite");
    const dialog = await (await lb.app.request(`/admin/backups/${a.name}/preview`, { headers })).text();
    expect(dialog).toContain("Off-site only: the import downloads it into the backup folder first");

    // Bulk delete, only the copies here: b stays off-site, a (nothing here) is refused and kept.
    const bulk = await api(lb, "/api/backups/delete", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ names: [a.name, b.name], from: "here" }),
    });
    expect(bulk.status).toBe(200);
    expect(await bulk.json()).toEqual({ deleted: [b.name], refused: [{ name: a.name, reason: expect.stringMatching(/no backup named .* here/) }] });
    expect((await list(lb)).filter((x) => [a.name, b.name].includes(x.name)).map((x) => x.location)).toEqual(["offsite", "offsite"]);
    // The page's form: every copy (its default choice is sent with it).
    const form = await lb.app.request("/admin/backups/delete", {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([["names", a.name], ["names", b.name], ["from", "all"]]).toString(),
    });
    expect(form.status).toBe(200);
    expect(await form.text()).toContain("Deleted 2 backups.");
    expect(await bucket(prefix).head(a.name)).toBeNull();
    expect(await bucket(prefix).head(b.name)).toBeNull();
    expect((await list(lb)).map((x) => x.name)).toEqual([c.name]);
  });

  it("keeps BACKUP_KEEP_* here and BACKUP_S3_KEEP_* in the bucket", async () => {
    const prefix = freshPrefix();
    const lb = await boot(prefix, { BACKUP_SCHEDULE: "off", CRON_SECRET: "cron-secret-0123456789abcdef", BACKUP_KEEP_SCHEDULED: "1", BACKUP_S3_KEEP_SCHEDULED: "2" });
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await lb.app.request("/api/cron/backup?force=true", { method: "POST", headers: { Authorization: "Bearer cron-secret-0123456789abcdef" } });
      expect(res.status).toBe(201);
      names.push(((await res.json()) as { name: string }).name);
      await lb.backups.offsiteIdle();
      await lb.scheduler.idle();
    }
    const byName = new Map((await list(lb)).map((b) => [b.name, b.location]));
    expect([byName.get(names[0]!), byName.get(names[1]!), byName.get(names[2]!)]).toEqual([undefined, "offsite", "both"]);
    expect(lb.logs.some((l) => l.msg === "backup pruned" && l.location === "offsite" && l.name === names[0])).toBe(true);
  });

  it("keeps the local backup when the bucket is away, retries with back-off, tells the webhook and /readyz, and catches up when it is back", async () => {
    const prefix = freshPrefix();
    const hook = await webhookServer([]);
    let now = Date.parse("2026-11-26T10:00:00Z");
    const clock = { now: () => new Date(now) };
    const lb = await boot(prefix, { BACKUP_WEBHOOK_URL: hook.url, CRON_SECRET: "cron-secret-0123456789abcdef" }, { clock });
    await server.stop();
    let made: { name: string };
    try {
      const res = await lb.app.request("/api/cron/backup?force=true", { method: "POST", headers: { Authorization: "Bearer cron-secret-0123456789abcdef" } });
      expect(res.status).toBe(201); // the local backup never waits for the bucket
      made = (await res.json()) as { name: string };
      await eventually(async () => ((await list(lb)).find((b) => b.name === made.name)?.offsite?.attempts ?? 0) >= 2, "a retry");
      const row = (await list(lb)).find((b) => b.name === made.name)!;
      expect(row.location).toBe("here");
      expect(row.offsite).toMatchObject({ state: expect.stringMatching(/failed|uploading/) });
      const status = (await (await api(lb, "/api/backups/status")).json()) as { offsite: { reachable: boolean; error: string; pending: { name: string }[] } };
      expect(status.offsite.reachable).toBe(false);
      expect(status.offsite.error).toMatch(/Could not reach 127\.0\.0\.1:\d+/);
      expect(status.offsite.pending.map((p) => p.name)).toEqual([made.name]);
      await hook.waitFor(1);
      expect(hook.received[0]!.body).toMatchObject({ event: "backup.offsite_failed", name: made.name, trigger: "scheduled" });
      expect(lb.logs.some((l) => l.msg === "off-site copy failed; will retry" && l.name === made.name)).toBe(true);

      // Still within its period: ready. Past the next slot (midnight) and still not off-site: degraded.
      expect(((await (await lb.app.request("/readyz")).json()) as { status: string }).status).toBe("ready");
      now = Date.parse("2026-11-27T00:30:00Z");
      lb.token = await loginToken(lb, ADMIN.username, ADMIN.password); // the old token expired with the hours that passed
      const ready = (await (await lb.app.request("/readyz")).json()) as { status: string; checks: Record<string, { reason?: string }> };
      expect(ready.status).toBe("degraded");
      expect(ready.checks.offsiteBackups?.reason).toMatch(new RegExp(`${made.name} is not off-site yet`));
    } finally {
      await server.start();
    }
    await eventually(async () => (await list(lb)).find((b) => b.name === made.name)?.location === "both", "the upload after the bucket came back");
    expect(((await (await lb.app.request("/readyz")).json()) as { status: string }).status).toBe("ready");
    expect(hook.received).toHaveLength(1); // once per backup, not per attempt
  });

  it("says clearly at start and in the status when the bucket refuses the credentials; backups still happen here", async () => {
    const prefix = freshPrefix();
    const lb = await boot(prefix, { BACKUP_S3_ACCESS_KEY_ID: "WRONGKEY", BACKUP_S3_SECRET_ACCESS_KEY: "wrong-secret-value" });
    await eventually(() => lb.logs.some((l) => l.msg === "off-site storage unavailable: backups stay local until it answers"), "the start check");
    const logged = lb.logs.find((l) => l.msg === "off-site storage unavailable: backups stay local until it answers")!;
    expect(logged.level).toBe("error");
    expect(String(logged.error)).toMatch(/refused the credentials.*InvalidAccessKeyId.*BACKUP_S3_ACCESS_KEY_ID/);

    const made = await backupNow(lb);
    await lb.backups.offsiteIdle();
    const row = (await list(lb)).find((b) => b.name === made.name)!;
    // Retried every 100 ms here, so the row may show the next attempt under way; the error stays.
    expect(row).toMatchObject({
      location: "here",
      offsite: { state: expect.stringMatching(/^(failed|uploading)$/), error: expect.stringMatching(/refused the credentials/) },
    });
    const status = (await (await api(lb, "/api/backups/status")).json()) as { offsite: { reachable: boolean; error: string } };
    expect(status.offsite).toMatchObject({ reachable: false, error: expect.stringMatching(/refused the credentials/) });
    expect(JSON.stringify(lb.logs)).not.toContain("wrong-secret-value");
  });
});
