import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BackupMeta } from "../../src/backups/types.ts";
import type { TestLifeboat } from "../support/app.ts";
import { ADMIN, bootWithAdmin, loginToken } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { eventually } from "../support/wait.ts";
import { NODE_ENTRY, serveEntry, signInOverHttp } from "../support/entries.ts";

/**
 * Imports that would never end are stopped — at IMPORT_TIMEOUT_SECONDS, or by
 * an admin's cancel — rolled back, with the job lock released; meanwhile the
 * service keeps answering. And `verify` marks a listed backup that changed.
 */

/** 170 bytes: the trigger runs an endless recursive query when the row goes in. */
const ENDLESS = [
  "BEGIN TRANSACTION;",
  "CREATE TABLE t(a);",
  "CREATE TRIGGER spin AFTER INSERT ON t BEGIN SELECT (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c); END;",
  "INSERT INTO t VALUES(1);",
  "COMMIT;",
  "",
].join("\n");

interface Ctx {
  lb: TestLifeboat;
  auth: Record<string, string>;
}

async function setup(env: Record<string, string> = {}): Promise<Ctx> {
  const lb = await bootWithAdmin(env);
  await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  await lb.db.execute("INSERT INTO notes (body) VALUES ('kept')");
  const token = await loginToken(lb, ADMIN.username, ADMIN.password);
  return { lb, auth: { Authorization: `Bearer ${token}` } };
}

const sqliteDump = (lb: TestLifeboat) => execFileSync("sqlite3", [lb.config.databasePath!, ".dump"], { encoding: "utf8" });

async function names(ctx: Ctx): Promise<string[]> {
  const res = await ctx.lb.app.request("/api/backups", { headers: ctx.auth });
  return ((await res.json()) as BackupMeta[]).map((b) => b.name).sort();
}

async function importText(ctx: Ctx, text: string): Promise<Response> {
  const body = multipartBody(new TextEncoder().encode(text));
  return ctx.lb.app.request("/api/backups/import", {
    method: "POST",
    headers: { ...ctx.auth, "Content-Type": MULTIPART_TYPE, "Content-Length": String(body.length) },
    body,
  });
}

/** Waits until the engine reports an import running. */
async function untilImportRuns(ctx: Ctx): Promise<void> {
  await eventually(async () => {
    const res = await ctx.lb.app.request("/api/backups/status", { headers: ctx.auth });
    return ((await res.json()) as { running: { kind: string } | null }).running?.kind === "import";
  }, "the import to start");
}

/** What a user checks after a stopped import: same data, same list, the lock free again. */
async function expectUnchangedAndFree(ctx: Ctx, before: string, listed: string[]): Promise<void> {
  expect(sqliteDump(ctx.lb)).toBe(before);
  expect(await names(ctx)).toEqual(listed);
  const backup = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
  expect(backup.status).toBe(201);
  await ctx.lb.app.request(`/api/backups/${((await backup.json()) as BackupMeta).name}`, { method: "DELETE", headers: ctx.auth });
}

describe("imports that never end", () => {
  it("are stopped at IMPORT_TIMEOUT_SECONDS, rolled back, the lock released, and the answer says so", async () => {
    const ctx = await setup({ IMPORT_TIMEOUT_SECONDS: "5" });
    const before = sqliteDump(ctx.lb);
    const listed = await names(ctx);
    const res = await importText(ctx, ENDLESS);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("import_timeout");
    expect(body.error.message).toMatch(/did not finish within IMPORT_TIMEOUT_SECONDS \(5 s\) and was stopped; everything was rolled back/);
    await expectUnchangedAndFree(ctx, before, listed);
  });

  it("are stopped by POST /api/backups/import/cancel while the service keeps answering", async () => {
    const ctx = await setup();
    const before = sqliteDump(ctx.lb);
    const listed = await names(ctx);
    const running = importText(ctx, ENDLESS);
    await untilImportRuns(ctx);
    // The rest of the service answers meanwhile: health, reads, pages.
    expect((await ctx.lb.app.request("/healthz")).status).toBe(200);
    expect((await ctx.lb.app.request("/api/backups", { headers: ctx.auth })).status).toBe(200);
    expect((await ctx.lb.db.execute("SELECT body FROM notes")).rows.map((r) => r.body)).toEqual(["kept"]);
    const busy = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    expect(busy.status).toBe(409);

    const cancel = await ctx.lb.app.request("/api/backups/import/cancel", { method: "POST", headers: ctx.auth });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ cancelled: true });
    const res = await running;
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("import_cancelled");
    expect(body.error.message).toMatch(/cancelled by admin; everything was rolled back and the database is unchanged/);
    await expectUnchangedAndFree(ctx, before, listed);

    const none = await ctx.lb.app.request("/api/backups/import/cancel", { method: "POST", headers: ctx.auth });
    expect(none.status).toBe(409);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("not_running");
  });
});

describe("POST /api/backups/{name}/verify", () => {
  it("passes a good backup and marks one whose bytes changed; the list shows it", async () => {
    const ctx = await setup();
    const created = await ctx.lb.app.request("/api/backups", { method: "POST", headers: ctx.auth });
    const meta = (await created.json()) as BackupMeta;
    const good = await ctx.lb.app.request(`/api/backups/${meta.name}/verify`, { method: "POST", headers: ctx.auth });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ ok: true, message: null, kind: "lifeboat", backup: { name: meta.name, verification: { ok: true } } });

    const file = path.join(ctx.lb.config.backupDir, meta.name);
    await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace("'kept'", "'forged'"));
    const before = sqliteDump(ctx.lb);
    const bad = await ctx.lb.app.request(`/api/backups/${meta.name}/verify`, { method: "POST", headers: ctx.auth });
    expect(bad.status).toBe(200);
    const report = (await bad.json()) as { ok: boolean; message: string; backup: BackupMeta };
    expect(report.ok).toBe(false);
    expect(report.message).toMatch(new RegExp(`has changed since it was written: its sha256 [0-9a-f]{64} differs from the one recorded when it was written \\(${meta.sha256}\\)`));
    const listed = (await (await ctx.lb.app.request("/api/backups", { headers: ctx.auth })).json()) as BackupMeta[];
    expect(listed.find((b) => b.name === meta.name)!.verification).toMatchObject({ ok: false, message: report.message });
    expect(sqliteDump(ctx.lb)).toBe(before);
    // The page's table says so too.
    const table = await ctx.lb.app.request("/admin/backups/table", { headers: { ...ctx.auth, "HX-Request": "true" } });
    expect(table.status).toBe(200);
    const row = (await table.text()).split("<tr").find((r) => r.includes(meta.name))!;
    expect(row).toContain("failed verification");
  });
});

describe("SIGTERM during an endless import", () => {
  it("stops and rolls back the import, answers it 503, and the server exits cleanly", async () => {
    const { proc, base, dataDir } = await serveEntry(NODE_ENTRY, { LOG_LEVEL: "info", ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
    const auth = await signInOverHttp(base);
    const dbPath = path.join(dataDir, "app.db");
    const before = execFileSync("sqlite3", [dbPath, ".dump"], { encoding: "utf8" });
    const running = fetch(`${base}/api/backups/import`, { method: "POST", headers: { ...auth, "Content-Type": MULTIPART_TYPE }, body: multipartBody(new TextEncoder().encode(ENDLESS)) });
    await eventually(async () => {
      const status = (await (await fetch(`${base}/api/backups/status`, { headers: auth })).json()) as { running: { kind: string } | null };
      return status.running?.kind === "import";
    }, "the import to start");
    proc.child.kill("SIGTERM");
    const res = await running;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
    // Within the default grace (8 s, inside docker stop's 10 s): rolled back at 5 s, not killed at 8.
    expect(await proc.exited, proc.output()).toBe(0);
    expect(proc.output()).toContain("stopping the running import for the shutdown");
    expect(execFileSync("sqlite3", [dbPath, ".dump"], { encoding: "utf8" })).toBe(before);
  });
});
