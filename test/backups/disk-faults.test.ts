import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BackupMeta } from "../../src/backups/types.ts";
import type { TestLifeboat } from "../support/app.ts";
import { ADMIN, bootWithAdmin, loginToken } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { tempDir } from "../support/temp.ts";

/**
 * A full disk and a deleted backup folder, for real: the backup folder is a
 * small tmpfs mounted for the test (CI runs as root, as this machine does), so
 * the kernel itself answers ENOSPC. Each refusal is a named 507 or 503 with a
 * readable message, and leaves the database, the listed backups and the
 * folder's files as they were.
 */

const mounted: string[] = [];

afterEach(async () => {
  while (mounted.length) execFileSync("umount", ["-l", mounted.pop()!]);
});

/** A fresh tmpfs of `kib` KiB; fails (never skips) where mounting is not allowed. */
async function smallDisk(kib: number): Promise<string> {
  const dir = await tempDir("lifeboat-tmpfs-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    throw new Error(`these tests mount a small tmpfs as the backup folder and need root (CI runs as root): ${(err as Error).message}`);
  }
  mounted.push(dir);
  return dir;
}

interface Ctx {
  lb: TestLifeboat;
  auth: Record<string, string>;
  dbPath: string;
  backupDir: string;
}

async function boot(backupDir: string, env: Record<string, string> = {}): Promise<Ctx> {
  const lb = await bootWithAdmin({ BACKUP_DIR: backupDir, ...env });
  await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  await lb.db.execute("INSERT INTO notes (body) VALUES ('kept')");
  const token = await loginToken(lb, ADMIN.username, ADMIN.password);
  return { lb, auth: { Authorization: `Bearer ${token}` }, dbPath: path.join(lb.dataDir, "app.db"), backupDir };
}

/** About `mb` MB of data no compression shrinks much (random bytes, dumped as hex). */
async function growDatabase(ctx: Ctx, mb: number): Promise<void> {
  await ctx.lb.db.execute("CREATE TABLE IF NOT EXISTS bulk (id INTEGER PRIMARY KEY, data BLOB)");
  for (let i = 0; i < mb * 4; i++) await ctx.lb.db.execute("INSERT INTO bulk (data) VALUES (randomblob(250000))");
}

const sqliteDump = (dbPath: string) => execFileSync("sqlite3", [dbPath, ".dump"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

/** Every file in the folder with its bytes (temp files included: none may be left). */
async function folderFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) out[name] = (await fs.readFile(path.join(dir, name))).toString("base64");
  return out;
}

async function listed(ctx: Ctx): Promise<string[]> {
  const res = await ctx.lb.app.request("/api/backups", { headers: ctx.auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as BackupMeta[]).map((b) => b.name);
}

async function expectRefusal(res: Response, status: number, code: string): Promise<string> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(res.status, body.error.message).toBe(status);
  expect(body.error.code).toBe(code);
  return body.error.message;
}

/** A dump of `bytes` of incompressible text in one table, as an upload would carry it. */
function bigDump(bytes: number): Uint8Array {
  const rows: string[] = [];
  for (let n = 0; n < bytes; n += 100_000) {
    const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(50_000))).toString("hex");
    rows.push(`INSERT INTO blobs VALUES(X'${hex}');`);
  }
  return new TextEncoder().encode(["BEGIN TRANSACTION;", "CREATE TABLE blobs(b BLOB);", ...rows, "COMMIT;", ""].join("\n"));
}

const upload = (ctx: Ctx, url: string, file: Uint8Array) => {
  const body = multipartBody(file);
  return ctx.lb.app.request(url, {
    method: "POST",
    headers: { ...ctx.auth, "Content-Type": MULTIPART_TYPE, "Content-Length": String(body.length) },
    body,
  });
};

describe("a full disk under the backup folder", () => {
  it("answers a backup with 507 insufficient_storage and the free space, and keeps everything as it was", async () => {
    const ctx = await boot(await smallDisk(1024));
    const first = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    expect(first.status).toBe(201);
    await growDatabase(ctx, 3);
    const dumpBefore = sqliteDump(ctx.dbPath);
    const filesBefore = await folderFiles(ctx.backupDir);
    const listBefore = await listed(ctx);

    const res = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    const message = await expectRefusal(res, 507, "insufficient_storage");
    expect(message).toMatch(/^Not enough free space for the backup on the disk of the backup folder .+ \(\d+(\.\d)? [kM]?B free; the database is [\d.]+ MB\)\. Nothing was stored/);

    expect(await listed(ctx)).toEqual(listBefore);
    expect(await folderFiles(ctx.backupDir)).toEqual(filesBefore); // no partial file, no temp file, no lock left
    expect(sqliteDump(ctx.dbPath)).toBe(dumpBefore);
    // The status card says why the last manual backup failed.
    const status = (await (await ctx.lb.app.request("/api/backups/status", { headers: ctx.auth })).json()) as { lastRuns: { manual: { error: string } } };
    expect(status.lastRuns.manual.error).toBe(message);

    // Once there is room again, backups work: nothing (a lock, a temp file) was left in the way.
    await ctx.lb.db.execute("DROP TABLE bulk");
    expect((await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth })).status).toBe(201);
  });

  it("answers a gzip backup the same way: 507 naming the free space, nothing left behind", async () => {
    const ctx = await boot(await smallDisk(1024), { BACKUP_COMPRESSION: "gzip" });
    await growDatabase(ctx, 3);
    const dumpBefore = sqliteDump(ctx.dbPath);
    const filesBefore = await folderFiles(ctx.backupDir);
    const res = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    const message = await expectRefusal(res, 507, "insufficient_storage");
    expect(message).toMatch(/^Not enough free space for the backup on the disk of the backup folder .+ free; the database is [\d.]+ MB\)\. Nothing was stored/);
    expect(await folderFiles(ctx.backupDir)).toEqual(filesBefore);
    expect(sqliteDump(ctx.dbPath)).toBe(dumpBefore);
  });

  it("answers an upload and an upload-and-import with 507 naming the free space and the upload's size", async () => {
    const ctx = await boot(await smallDisk(1024));
    const dumpBefore = sqliteDump(ctx.dbPath);
    const filesBefore = await folderFiles(ctx.backupDir);
    const file = bigDump(2_000_000);
    for (const url of ["/api/backups/upload", "/api/backups/import"]) {
      const message = await expectRefusal(await upload(ctx, url, file), 507, "insufficient_storage");
      expect(message, url).toMatch(/^Not enough free space for the upload on the disk of the backup folder .+ \([\d.]+ [kM]?B free; the upload needs about 2\.\d MB\)\. Nothing was stored/);
      expect(await folderFiles(ctx.backupDir), url).toEqual(filesBefore);
      expect(await listed(ctx), url).toEqual([]);
    }
    expect(sqliteDump(ctx.dbPath)).toBe(dumpBefore);
  });

  it("refuses an import whose safety backup does not fit, with the database unchanged", async () => {
    const ctx = await boot(await smallDisk(1024));
    const stored = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    const { name } = (await stored.json()) as BackupMeta;
    await growDatabase(ctx, 3);
    const dumpBefore = sqliteDump(ctx.dbPath);
    const filesBefore = await folderFiles(ctx.backupDir);
    const res = await ctx.lb.app.request(`/api/backups/${name}/import`, { method: "POST", headers: ctx.auth });
    expect(await expectRefusal(res, 507, "insufficient_storage")).toMatch(/free/);
    expect(sqliteDump(ctx.dbPath)).toBe(dumpBefore);
    expect(await folderFiles(ctx.backupDir)).toEqual(filesBefore);
  });
});

describe("a backup folder deleted while Lifeboat runs", () => {
  it("is created again (0700) by the next list, backup or upload; /readyz reports it meanwhile", async () => {
    const backupDir = path.join(await tempDir(), "backups");
    const ctx = await boot(backupDir);
    const mode = async () => (await fs.stat(backupDir)).mode & 0o777;

    await fs.rm(backupDir, { recursive: true });
    const ready = await ctx.lb.app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, { reason?: string }> }).checks.backupDir!.reason).toBe(`backup folder ${backupDir} does not exist`);
    expect(await listed(ctx)).toEqual([]);
    expect(await mode()).toBe(0o700);
    expect((await ctx.lb.app.request("/readyz")).status).toBe(200);

    await fs.rm(backupDir, { recursive: true });
    const backup = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    expect(backup.status).toBe(201);
    expect(await mode()).toBe(0o700);

    await fs.rm(backupDir, { recursive: true });
    const dump = new TextEncoder().encode("CREATE TABLE t(a);\nINSERT INTO t VALUES(1);\n");
    expect((await upload(ctx, "/api/backups/upload", dump)).status).toBe(201);
    expect(await mode()).toBe(0o700);
    expect(await listed(ctx)).toHaveLength(1);
  });

  it("answers a named 503 on every request while it cannot be created, and /readyz says why", async () => {
    const parent = await tempDir();
    const backupDir = path.join(parent, "backups");
    const ctx = await boot(backupDir);
    const dumpBefore = sqliteDump(ctx.dbPath);
    // A file where the folder was: it cannot be created again until someone removes it.
    await fs.rm(backupDir, { recursive: true });
    await fs.writeFile(backupDir, "not a folder");
    for (const [method, url] of [
      ["GET", "/api/backups"],
      ["POST", "/api/backups"],
      ["GET", "/api/backups"],
    ] as const) {
      const res = await ctx.lb.app.request(url, { method, headers: ctx.auth });
      expect(await expectRefusal(res, 503, "backup_folder_unavailable"), `${method} ${url}`).toContain(backupDir);
    }
    const upl = await upload(ctx, "/api/backups/upload", new TextEncoder().encode("CREATE TABLE t(a);\n"));
    expect(await expectRefusal(upl, 503, "backup_folder_unavailable")).toContain(backupDir);
    const ready = await ctx.lb.app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain(backupDir);
    expect(sqliteDump(ctx.dbPath)).toBe(dumpBefore);
    // Once the obstacle is gone, everything works again.
    await fs.rm(backupDir);
    expect((await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth })).status).toBe(201);
  });
});
