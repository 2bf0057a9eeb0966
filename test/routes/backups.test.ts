import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BackupMeta, ImportResult } from "../../src/backups/types.ts";
import { ScheduleStatusSchema } from "../../src/routes/backups-schemas.ts";
import type { TestLifeboat } from "../support/app.ts";
import { ADMIN, bootWithAdmin, createUser, loginCookie, loginToken, ORIGIN } from "../support/auth.ts";
import { chunkedStream, MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { tempDir } from "../support/temp.ts";
import { eventually } from "../support/wait.ts";

interface Ctx {
  lb: TestLifeboat;
  admin: string;
  user: string;
  adminCookie: string;
  userCookie: string;
  dir: string;
}

/** A Lifeboat with an admin, a `user`, their tokens and cookies, and a small app table. */
async function setup(env: Record<string, string> = {}): Promise<Ctx> {
  const lb = await bootWithAdmin(env);
  await createUser(lb, "uma", "uma's long password");
  await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second'), ('it''s third')");
  return {
    lb,
    admin: await loginToken(lb, ADMIN.username, ADMIN.password),
    user: await loginToken(lb, "uma", "uma's long password"),
    adminCookie: await loginCookie(lb, ADMIN.username, ADMIN.password),
    userCookie: await loginCookie(lb, "uma", "uma's long password"),
    dir: lb.config.backupDir,
  };
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
/** What htmx sends from the page: the session cookie, our Origin, HX-Request. */
const htmx = (cookie: string) => ({ Cookie: cookie, Origin: ORIGIN, "HX-Request": "true" });

async function api(ctx: Ctx, method: string, url: string, init: RequestInit = {}): Promise<Response> {
  return ctx.lb.app.request(url, { method, ...init, headers: { ...auth(ctx.admin), ...(init.headers as Record<string, string>) } });
}

async function createBackup(ctx: Ctx): Promise<BackupMeta> {
  const res = await api(ctx, "POST", "/api/backups");
  expect(res.status).toBe(201);
  const meta = (await res.json()) as BackupMeta;
  expect(res.headers.get("location")).toBe(`/api/backups/${encodeURIComponent(meta.name)}`);
  return meta;
}

async function listBackups(ctx: Ctx): Promise<BackupMeta[]> {
  const res = await api(ctx, "GET", "/api/backups");
  expect(res.status).toBe(200);
  return (await res.json()) as BackupMeta[];
}

async function notes(ctx: Ctx): Promise<string[]> {
  const rs = await ctx.lb.db.execute("SELECT body FROM notes ORDER BY id");
  return rs.rows.map((r) => String(r.body));
}

/** Files of the backup folder (temp files included), sorted. */
async function folder(ctx: Ctx): Promise<string[]> {
  return (await fs.readdir(ctx.dir)).sort();
}

async function upload(ctx: Ctx, url: string, content: Uint8Array, headers: Record<string, string> = auth(ctx.admin)): Promise<Response> {
  const body = multipartBody(content);
  return ctx.lb.app.request(url, {
    method: "POST",
    headers: { ...headers, "Content-Type": MULTIPART_TYPE, "Content-Length": String(body.length) },
    body,
  });
}

async function download(ctx: Ctx, name: string): Promise<Uint8Array<ArrayBuffer>> {
  const res = await api(ctx, "GET", `/api/backups/${encodeURIComponent(name)}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe("access to the backups routes", () => {
  it("answers 401 without credentials, 403 for the user role, on every API and page route, and changes nothing", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const n = encodeURIComponent(b.name);
    const before = await folder(ctx);
    const dump = await download(ctx, b.name);
    const routes: [string, string, "upload"?][] = [
      ["GET", "/api/backups"],
      ["POST", "/api/backups"],
      ["GET", "/api/backups/status"],
      ["POST", "/api/backups/upload", "upload"],
      ["POST", "/api/backups/import", "upload"],
      ["GET", `/api/backups/${n}`],
      ["DELETE", `/api/backups/${n}`],
      ["POST", `/api/backups/${n}/import`],
      ["GET", `/api/backups/${n}/preview`],
      ["POST", `/api/backups/${n}/pin`],
      ["DELETE", `/api/backups/${n}/pin`],
    ];
    for (const [method, url, kind] of routes) {
      const send = (headers: Record<string, string>) =>
        kind === "upload" ? upload(ctx, url, dump, headers) : ctx.lb.app.request(url, { method, headers });
      // No credentials at all (a script that forgot its token): 401, whatever the method.
      const anonymous = await send({});
      expect(anonymous.status, `${method} ${url} without credentials`).toBe(401);
      expect((await errorOf(anonymous)).code).toBe("unauthorized");
      const forged = await send(auth("not.a.token"));
      expect(forged.status, `${method} ${url} with an invalid token`).toBe(401);
      expect(forged.headers.get("www-authenticate")).toContain("Bearer");
      const user = await send(auth(ctx.user));
      expect(user.status, `${method} ${url}`).toBe(403);
      expect((await errorOf(user)).code).toBe("forbidden");
      const userPage = await send({ Cookie: ctx.userCookie, Origin: ORIGIN });
      expect(userPage.status, `${method} ${url} with a user's session`).toBe(403);
    }
    const pages: [string, string, "upload"?][] = [
      ["GET", "/admin/backups"],
      ["GET", "/admin/backups/table"],
      ["GET", "/admin/backups/status"],
      ["POST", "/admin/backups"],
      ["POST", "/admin/backups/upload", "upload"],
      ["POST", "/admin/backups/import", "upload"],
      ["GET", `/admin/backups/${n}/download`],
      ["DELETE", `/admin/backups/${n}`],
      ["POST", `/admin/backups/${n}/import`],
      ["GET", `/admin/backups/${n}/preview`],
      ["POST", `/admin/backups/${n}/pin`],
      ["DELETE", `/admin/backups/${n}/pin`],
    ];
    for (const [method, url, kind] of pages) {
      const send = (headers: Record<string, string>) =>
        kind === "upload" ? upload(ctx, url, dump, headers) : ctx.lb.app.request(url, { method, headers });
      const signedOut = await send({ "HX-Request": "true", Origin: ORIGIN });
      expect(signedOut.status, `${method} ${url}`).toBe(401);
      expect(signedOut.headers.get("hx-redirect")).toMatch(/^\/login/);
      const user = await send(htmx(ctx.userCookie));
      expect(user.status, `${method} ${url}`).toBe(403);
      expect(await user.text()).toContain("admin");
    }
    const browser = await ctx.lb.app.request("/admin/backups");
    expect(browser.status).toBe(303);
    expect(browser.headers.get("location")).toBe("/login?next=%2Fadmin%2Fbackups");
    expect(await folder(ctx)).toEqual(before);
    expect(await notes(ctx)).toEqual(["first", "second", "it's third"]);
  });

  it("refuses a cross-site form post from the page with 403", async () => {
    const ctx = await setup();
    const res = await ctx.lb.app.request("/admin/backups", {
      method: "POST",
      headers: { Cookie: ctx.adminCookie, Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(res.status).toBe(403);
    expect(await listBackups(ctx)).toEqual([]);
  });
});

describe("JSON API", () => {
  it("creates a manual backup (201) and lists backups newest first", async () => {
    const ctx = await setup();
    expect(await listBackups(ctx)).toEqual([]);
    const first = await createBackup(ctx);
    const second = await createBackup(ctx);
    expect(first).toMatchObject({ trigger: "manual", actor: ADMIN.username, pinned: false, compressed: false });
    expect(first.name).toMatch(/^lifeboat-\d{8}-\d{6}-manual(-\d+)?\.sql$/);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    const listed = await api(ctx, "GET", "/api/backups");
    expect(listed.headers.get("cache-control")).toBe("no-store");
    const list = (await listed.json()) as BackupMeta[];
    expect(list.map((b) => b.name)).toEqual([second.name, first.name]);
    // The list adds where each backup is (no off-site storage here: only in the folder).
    expect(list[1]).toEqual({ ...first, location: "here", offsite: null });
    const stat = await fs.stat(path.join(ctx.dir, first.name));
    expect(first.size).toBe(stat.size);
  });

  it("downloads a backup as an attachment with the exact bytes on disk", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const res = await api(ctx, "GET", `/api/backups/${encodeURIComponent(b.name)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${b.name}"`);
    expect(res.headers.get("content-type")).toBe("application/sql");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(bytes).toEqual(new Uint8Array(await fs.readFile(path.join(ctx.dir, b.name))));
    expect(new TextDecoder().decode(bytes)).toContain("it''s third");
  });

  it("deletes a backup (204), then answers 404 for it", async () => {
    const ctx = await setup();
    const keep = await createBackup(ctx);
    const gone = await createBackup(ctx);
    const res = await api(ctx, "DELETE", `/api/backups/${encodeURIComponent(gone.name)}`);
    expect(res.status).toBe(204);
    expect((await listBackups(ctx)).map((b) => b.name)).toEqual([keep.name]);
    await expect(fs.access(path.join(ctx.dir, gone.name))).rejects.toThrow();
    for (const [method, suffix] of [["DELETE", ""], ["GET", ""], ["POST", "/import"], ["POST", "/pin"], ["DELETE", "/pin"]] as const) {
      const again = await api(ctx, method, `/api/backups/${encodeURIComponent(gone.name)}${suffix}`);
      expect(again.status, `${method} …${suffix}`).toBe(404);
      expect(await errorOf(again)).toMatchObject({ code: "not_found", message: expect.stringContaining(gone.name) });
    }
  });

  it("pins and unpins a backup", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const pinned = await api(ctx, "POST", `/api/backups/${encodeURIComponent(b.name)}/pin`);
    expect(pinned.status).toBe(200);
    expect(await pinned.json()).toMatchObject({ name: b.name, pinned: true, sha256: b.sha256 });
    expect((await listBackups(ctx))[0]!.pinned).toBe(true);
    const unpinned = await api(ctx, "DELETE", `/api/backups/${encodeURIComponent(b.name)}/pin`);
    expect(unpinned.status).toBe(200);
    expect(await unpinned.json()).toMatchObject({ name: b.name, pinned: false });
    expect((await listBackups(ctx))[0]!.pinned).toBe(false);
  });

  it("reports the status: the schedule, the last run of each kind, nothing running", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const res = await api(ctx, "GET", "/api/backups/status");
    expect(res.status).toBe(200);
    const status = ScheduleStatusSchema.parse(await res.json());
    expect(status.running).toBeNull();
    expect(status.schedule).toBe("0 0 * * *");
    expect(status.timezone).toBe("UTC");
    expect(Date.parse(status.nextRun!)).toBeGreaterThan(Date.now());
    expect(status.lastRuns.manual).toMatchObject({ name: b.name, size: b.size, error: null });
  });

  it("stores an upload as a backup (201, trigger upload), checked but not imported", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const dump = await download(ctx, b.name);
    await ctx.lb.db.execute("INSERT INTO notes (body) VALUES ('after the backup')");
    const res = await upload(ctx, "/api/backups/upload", dump);
    expect(res.status).toBe(201);
    const stored = (await res.json()) as BackupMeta;
    expect(stored).toMatchObject({ trigger: "upload", actor: ADMIN.username, size: dump.length });
    expect(await download(ctx, stored.name)).toEqual(dump);
    expect((await listBackups(ctx)).map((x) => x.name)).toEqual([stored.name, b.name]);
    expect(await notes(ctx)).toContain("after the backup");
    expect((await folder(ctx)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("uploads and imports in one step (200): the safety backup comes first, the rows come back", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const dump = await download(ctx, b.name);
    await ctx.lb.db.execute("DELETE FROM notes WHERE body = 'first'");
    await ctx.lb.db.execute("INSERT INTO notes (body) VALUES ('after the backup')");
    const res = await upload(ctx, "/api/backups/import", dump);
    expect(res.status).toBe(200);
    const result = (await res.json()) as ImportResult;
    expect(result.tables).toBeGreaterThanOrEqual(1);
    expect(result.rows).toBeGreaterThanOrEqual(3);
    expect(await notes(ctx)).toEqual(["first", "second", "it's third"]);
    const list = await listBackups(ctx);
    const safety = list.find((x) => x.name === result.safetyBackup);
    expect(safety?.trigger).toBe("pre-import");
    // The safety backup holds the database as it was just before.
    expect(new TextDecoder().decode(await download(ctx, result.safetyBackup))).toContain("after the backup");
    expect(list.find((x) => x.name === result.source)?.trigger).toBe("upload");
    // Still signed in: the admin survives the import.
    expect((await api(ctx, "GET", "/api/backups")).status).toBe(200);
  });

  it("restores from a listed backup (200); the source stays listed and a safety backup appears", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    await ctx.lb.db.execute("UPDATE notes SET body = 'changed'");
    const res = await api(ctx, "POST", `/api/backups/${encodeURIComponent(b.name)}/import`);
    expect(res.status).toBe(200);
    const result = (await res.json()) as ImportResult;
    expect(result.source).toBe(b.name);
    expect(await notes(ctx)).toEqual(["first", "second", "it's third"]);
    const list = await listBackups(ctx);
    expect(list.map((x) => x.name)).toContain(b.name);
    expect(list.find((x) => x.name === result.safetyBackup)?.trigger).toBe("pre-import");
    expect(new TextDecoder().decode(await download(ctx, result.safetyBackup))).toContain("changed");
  });
});

describe("names", () => {
  it("refuses traversal, absolute, hidden and encoded names (400/404) and touches no file outside the folder", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    // A file next to the backup folder that a traversal would reach.
    const outside = path.join(path.dirname(ctx.dir), "secret.sql");
    await fs.writeFile(outside, "-- not a backup\n");
    const outsideBefore = await fs.stat(outside);
    const before = await folder(ctx);
    const names = [
      "..%2Fsecret.sql",
      "%2e%2e%2fsecret.sql",
      "%2E%2E%2F..%2F..%2Fetc%2Fpasswd",
      "..%5Csecret.sql",
      encodeURIComponent(outside),
      "%2Fetc%2Fpasswd",
      ".lifeboat.lock",
      "..secret.sql",
      "a%00.sql",
      `${encodeURIComponent(b.name)}%2F..%2F..%2Fsecret.sql`,
      "lifeboat-20990101-000000-manual.sql",
      "notes.txt",
    ];
    for (const name of names) {
      for (const [method, suffix] of [["GET", ""], ["DELETE", ""], ["POST", "/import"], ["POST", "/pin"], ["DELETE", "/pin"]] as const) {
        const res = await api(ctx, method, `/api/backups/${name}${suffix}`);
        expect([400, 404], `${method} ${name}${suffix} → ${res.status}`).toContain(res.status);
        const body = await errorOf(res);
        expect(["invalid_input", "not_found"]).toContain(body.code);
      }
    }
    // Raw dot segments are resolved by URL parsing before routing: never a backup route.
    for (const raw of ["/api/backups/../../secret.sql", "/api/backups/./../secret.sql"]) {
      expect([400, 404]).toContain((await api(ctx, "GET", raw)).status);
    }
    expect(await fs.readFile(outside, "utf8")).toBe("-- not a backup\n");
    expect((await fs.stat(outside)).mtimeMs).toBe(outsideBefore.mtimeMs);
    expect(await folder(ctx)).toEqual(before);
    expect(await notes(ctx)).toEqual(["first", "second", "it's third"]);
  });

  it("does not follow a symlink planted in the backup folder", async () => {
    const ctx = await setup();
    const outsideDir = await tempDir();
    const target = path.join(outsideDir, "secret.sql");
    await fs.writeFile(target, "CREATE TABLE stolen (x);\n");
    const planted = "lifeboat-20200101-000000-manual.sql";
    await fs.symlink(target, path.join(ctx.dir, planted));
    expect((await listBackups(ctx)).map((b) => b.name)).not.toContain(planted);
    for (const [method, suffix] of [["GET", ""], ["DELETE", ""], ["POST", "/import"], ["POST", "/pin"]] as const) {
      const res = await api(ctx, method, `/api/backups/${planted}${suffix}`);
      expect(res.status, `${method} ${suffix}`).toBe(404);
    }
    expect(await fs.readFile(target, "utf8")).toBe("CREATE TABLE stolen (x);\n");
    expect((await fs.lstat(path.join(ctx.dir, planted))).isSymbolicLink()).toBe(true);
    const tables = await ctx.lb.db.execute("SELECT name FROM sqlite_schema WHERE name = 'stolen'");
    expect(tables.rows).toEqual([]);
  });
});

describe("uploads", () => {
  const LIMIT = 4096;

  it("answers 413 for a body over MAX_UPLOAD_BYTES with a Content-Length, leaving no temp file", async () => {
    const ctx = await setup({ MAX_UPLOAD_BYTES: String(LIMIT) });
    const big = new TextEncoder().encode("-- big\n" + "INSERT INTO notes VALUES(1,'x');\n".repeat(50_000));
    for (const url of ["/api/backups/upload", "/api/backups/import"]) {
      const res = await upload(ctx, url, big);
      expect(res.status).toBe(413);
      expect(await errorOf(res)).toMatchObject({ code: "too_large", message: expect.stringContaining(String(LIMIT)) });
    }
    expect(await folder(ctx)).toEqual([]);
  });

  it("answers 413 for a chunked body without Content-Length that grows past the limit, leaving no temp file", async () => {
    const ctx = await setup({ MAX_UPLOAD_BYTES: String(LIMIT) });
    const b = await createBackup(ctx);
    const before = await folder(ctx);
    const over = new TextEncoder().encode("-- big\n" + "INSERT INTO notes VALUES(1,'x');\n".repeat(200));
    expect(over.length).toBeGreaterThan(LIMIT);
    for (const url of ["/api/backups/upload", "/api/backups/import"]) {
      const res = await ctx.lb.app.request(url, {
        method: "POST",
        headers: { ...auth(ctx.admin), "Content-Type": MULTIPART_TYPE },
        body: chunkedStream(multipartBody(over)),
        duplex: "half",
      } as RequestInit);
      expect(res.status, url).toBe(413);
    }
    expect(await folder(ctx)).toEqual(before);
    expect((await listBackups(ctx)).map((x) => x.name)).toEqual([b.name]);
  });

  it("answers 400 for a body that is not multipart or has no `file` field", async () => {
    const ctx = await setup();
    const json = await api(ctx, "POST", "/api/backups/upload", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ file: "CREATE TABLE x(y);" }),
    });
    expect(json.status).toBe(400);
    expect((await errorOf(json)).message).toMatch(/multipart\/form-data/);
    const body = multipartBody(new TextEncoder().encode("CREATE TABLE x(y);\n"), { field: "dump" });
    const wrongField = await api(ctx, "POST", "/api/backups/import", { headers: { "Content-Type": MULTIPART_TYPE }, body });
    expect(wrongField.status).toBe(400);
    expect((await errorOf(wrongField)).message).toMatch(/"file"/);
    expect(await folder(ctx)).toEqual([]);
  });

  it("refuses hostile or broken files with 422 naming the line; the database and the list stay as they were", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const dump = new TextDecoder().decode(await download(ctx, b.name));
    const schemaBefore = (await ctx.lb.db.execute("SELECT type, name, sql FROM sqlite_schema ORDER BY name")).rows;
    const listBefore = await listBackups(ctx);
    const folderBefore = await folder(ctx);
    const hostile: [string, Uint8Array, RegExp][] = [
      ["ATTACH", new TextEncoder().encode("BEGIN TRANSACTION;\nCREATE TABLE t(x);\nATTACH DATABASE '/tmp/x.db' AS x;\nCOMMIT;\n"), /line 3: .*ATTACH/i],
      ["writefile", new TextEncoder().encode("CREATE TABLE t(x);\nINSERT INTO t VALUES(writefile('/tmp/pwned', 'x'));\n"), /line 2: .*writefile/i],
      ["drop after commit", new TextEncoder().encode(dump + "\nDROP TABLE notes;\n"), /DROP/i],
      ["binary junk", new Uint8Array(4096).map((_, i) => (i * 7919) % 256), /.+/],
      ["bogus gzip", new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5]), /.+/],
    ];
    for (const [label, content, message] of hostile) {
      for (const url of ["/api/backups/upload", "/api/backups/import"]) {
        const res = await upload(ctx, url, content);
        expect(res.status, `${label} → ${url}`).toBe(422);
        const error = await errorOf(res);
        expect(error.code).toBe("invalid_backup");
        expect(error.message, label).toMatch(message);
      }
    }
    await expect(fs.access("/tmp/pwned")).rejects.toThrow();
    expect(await notes(ctx)).toEqual(["first", "second", "it's third"]);
    expect((await ctx.lb.db.execute("SELECT type, name, sql FROM sqlite_schema ORDER BY name")).rows).toEqual(schemaBefore);
    expect(await listBackups(ctx)).toEqual(listBefore);
    expect(await folder(ctx)).toEqual(folderBefore);
  });

  it("accepts a gzipped dump, recognised by its content whatever its name and type", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const dump = await download(ctx, b.name);
    const gz = new Uint8Array(await new Response(new Blob([dump]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const body = multipartBody(gz, { filename: "holiday-photo.jpg", type: "image/jpeg" });
    const res = await api(ctx, "POST", "/api/backups/upload", { headers: { "Content-Type": MULTIPART_TYPE }, body });
    expect(res.status).toBe(201);
    const stored = (await res.json()) as BackupMeta;
    expect(stored.trigger).toBe("upload");
    expect(stored.name).toMatch(/\.sql(\.gz)?$/);
  });
});

describe("busy", () => {
  it("answers 409 to a second backup or import while one runs, and the page shows it running", async () => {
    const ctx = await setup();
    await ctx.lb.db.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT)");
    await ctx.lb.db.execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) INSERT INTO big SELECT x, hex(randomblob(64)) FROM c",
    );
    const existing = await createBackup(ctx);
    const dump = await download(ctx, existing.name);
    const first = api(ctx, "POST", "/api/backups");
    let settled = false;
    void first.finally(() => (settled = true));
    // Wait until the engine says it runs (the service stays responsive meanwhile).
    let running = false;
    await eventually(
      async () => {
        const status = (await (await api(ctx, "GET", "/api/backups/status")).json()) as { running: unknown };
        running = status.running !== null;
        return running || settled;
      },
      "the first backup to show as running",
      { intervalMs: 5 },
    );
    expect(running, "the first backup finished before it could be observed running").toBe(true);
    // The page first (what a viewer sees right now), then the conflicting requests.
    const cardHtml = await (await ctx.lb.app.request("/admin/backups/status", { headers: htmx(ctx.adminCookie) })).text();
    const pageHtml = await (await ctx.lb.app.request("/admin/backups", { headers: htmx(ctx.adminCookie) })).text();
    const second = await api(ctx, "POST", "/api/backups");
    const importing = await api(ctx, "POST", `/api/backups/${encodeURIComponent(existing.name)}/import`);
    const uploadImport = await upload(ctx, "/api/backups/import", dump);
    expect((await first).status).toBe(201);
    for (const res of [second, importing, uploadImport]) {
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toMatchObject({ code: "busy", message: expect.stringMatching(/running/i) });
    }
    expect(cardHtml).toContain('hx-trigger="every 3s');
    expect(cardHtml).toMatch(/<button[^>]*data-conflicts[^>]*disabled/);
    expect(cardHtml).toContain("A manual backup is running");
    expect(pageHtml).toMatch(/<button[^>]*Import[^>]*disabled/);
    // Idle again: the card stops polling.
    const idle = await (await ctx.lb.app.request("/admin/backups/status", { headers: htmx(ctx.adminCookie) })).text();
    expect(idle).not.toContain("every 3s");
    expect(idle).not.toMatch(/<button[^>]*data-conflicts[^>]*disabled/);
    expect((await folder(ctx)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("answers 409 while another process holds the backup folder's lock, and changes nothing", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const dump = await download(ctx, b.name);
    // What a second Lifeboat (another host sharing the folder) leaves while it backs up.
    const lock = path.join(ctx.dir, ".lifeboat.lock");
    await fs.writeFile(lock, JSON.stringify({ kind: "backup", trigger: "scheduled", host: "elsewhere", pid: 4242, token: "x", startedAt: new Date().toISOString() }));
    const before = await folder(ctx);
    await ctx.lb.db.execute("INSERT INTO notes (body) VALUES ('after the backup')");
    const attempts = [
      await api(ctx, "POST", "/api/backups"),
      await api(ctx, "POST", `/api/backups/${encodeURIComponent(b.name)}/import`),
      await upload(ctx, "/api/backups/import", dump),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toMatchObject({ code: "busy", message: expect.stringContaining("elsewhere") });
    }
    const page = await ctx.lb.app.request("/admin/backups", { method: "POST", headers: htmx(ctx.adminCookie) });
    expect(page.status).toBe(409);
    expect(page.headers.get("hx-retarget")).toBe("#status");
    expect(await page.text()).toContain("Another backup or import is running");
    expect(await folder(ctx)).toEqual(before);
    expect(await notes(ctx)).toEqual(["first", "second", "it's third", "after the backup"]);
    // The other process finishes; the next backup goes through.
    await fs.rm(lock);
    expect((await api(ctx, "POST", "/api/backups")).status).toBe(201);
  });
});

describe("the page and its fragments", () => {
  it("shows the empty state, the schedule, the upload form and the navigation", async () => {
    const ctx = await setup();
    const res = await ctx.lb.app.request("/admin/backups", { headers: { Cookie: ctx.adminCookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toContain("HX-Request");
    const html = await res.text();
    expect(html).toContain("<!DOCTYPE html>");
    expect(html).toContain("No backups yet");
    expect(html).toContain("Next scheduled backup");
    expect(html).toMatch(/<a href="\/admin\/backups" aria-current="page">Backups<\/a>/);
    expect(html).toMatch(/<input id="upload-file" type="file" name="file"/);
    expect(html).toContain('<label for="upload-file">');
    expect(html).toContain("<progress");
    expect(html).toContain('hx-encoding="multipart/form-data"');
    expect(html).not.toMatch(/\sstyle=|hx-on|<script>/);
  });

  it("lists each backup with local time, size, trigger, checksum and confirmed actions", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const html = await (await ctx.lb.app.request("/admin/backups", { headers: { Cookie: ctx.adminCookie } })).text();
    expect(html).toContain(`<code>${b.name}</code>`);
    expect(html).toContain(`<time datetime="${b.createdAt}" data-local`);
    expect(html).toMatch(/\d+(\.\d)? (B|kB|MB)/);
    expect(html).toContain(`>${b.sha256!.slice(0, 12)}</code>`);
    expect(html).toContain(`href="/admin/backups/${encodeURIComponent(b.name)}/download"`);
    // Import opens the restore preview (an in-page dialog), where it is confirmed.
    expect(html).toMatch(new RegExp(`<button[^>]*aria-label="Import ${b.name.replace(/\./g, "\\.")}"[^>]*aria-haspopup="dialog"[^>]*data-preview="${b.name.replace(/\./g, "\\.")}"`));
    expect(html).toContain('<dialog id="preview-dialog"');
    const preview = await (await ctx.lb.app.request(`/admin/backups/${encodeURIComponent(b.name)}/preview`, { headers: htmx(ctx.adminCookie) })).text();
    expect(preview).toMatch(/current database will be replaced[^<]+safety backup/);
    expect(html).toMatch(/hx-confirm="Delete [^"]+cannot be undone/);
    expect(html).toContain(`aria-label="Pin ${b.name}"`);
  });

  it("answers htmx with fragments: the content, the table, the status card", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const content = await (await ctx.lb.app.request("/admin/backups", { headers: htmx(ctx.adminCookie) })).text();
    expect(content).not.toContain("<html");
    expect(content).toContain('id="backup-table"');
    const table = await (await ctx.lb.app.request("/admin/backups/table", { headers: htmx(ctx.adminCookie) })).text();
    expect(table.startsWith('<div id="backup-table"')).toBe(true);
    expect(table).toContain(b.name);
    expect(table).toContain('hx-trigger="backups-changed from:body"');
    const card = await (await ctx.lb.app.request("/admin/backups/status", { headers: htmx(ctx.adminCookie) })).text();
    expect(card.startsWith('<section id="backup-status"')).toBe(true);
    expect(card).toContain("Last manual backup");
  });

  it("runs each action from the page and answers with a fragment that announces the change", async () => {
    const ctx = await setup();
    const res = await ctx.lb.app.request("/admin/backups", { method: "POST", headers: htmx(ctx.adminCookie) });
    expect(res.status).toBe(201);
    expect(res.headers.get("hx-trigger")).toBe("backups-changed");
    expect(await res.text()).toMatch(/hx-swap-oob[^>]*>.*Backup lifeboat-.*-manual\.sql taken/s);
    const [b] = await listBackups(ctx);
    const n = encodeURIComponent(b!.name);

    const pin = await ctx.lb.app.request(`/admin/backups/${n}/pin`, { method: "POST", headers: htmx(ctx.adminCookie) });
    expect(pin.status).toBe(200);
    const row = await pin.text();
    expect(row.startsWith("<tr")).toBe(true);
    expect(row).toContain('aria-pressed="true"');
    expect(row).toContain(">pinned<");
    expect(row).toMatch(/<button[^>]*aria-label="Delete [^"]+"[^>]*disabled[^>]*title="Pinned backups cannot be deleted/);

    await ctx.lb.db.execute("DELETE FROM notes");
    const imported = await ctx.lb.app.request(`/admin/backups/${n}/import`, { method: "POST", headers: htmx(ctx.adminCookie) });
    expect(imported.status).toBe(200);
    expect(imported.headers.get("hx-trigger")).toBe("backups-changed");
    const result = await imported.text();
    expect(result).toMatch(/Imported lifeboat-/);
    expect(result).toMatch(/<dt>Rows<\/dt><dd>\d+<\/dd>/);
    expect(result).toMatch(/<dt>Safety backup<\/dt><dd><code>lifeboat-\d{8}-\d{6}-pre-import(-\d+)?\.sql<\/code>/);
    expect(await notes(ctx)).toEqual(["first", "second", "it's third"]);

    const dump = await download(ctx, b!.name);
    const stored = await upload(ctx, "/admin/backups/upload", dump, htmx(ctx.adminCookie));
    expect(stored.status).toBe(201);
    expect(await stored.text()).toMatch(/Stored <code>lifeboat-\d{8}-\d{6}-upload(-\d+)?\.sql<\/code>/);

    // A pinned backup cannot be deleted: the button is disabled, the engine refuses.
    const refused = await ctx.lb.app.request(`/admin/backups/${n}`, { method: "DELETE", headers: htmx(ctx.adminCookie) });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("unpin it before deleting it");
    const unpin = await ctx.lb.app.request(`/admin/backups/${n}/pin`, { method: "DELETE", headers: htmx(ctx.adminCookie) });
    expect(unpin.status).toBe(200);
    expect(await unpin.text()).toContain('aria-pressed="false"');

    const del = await ctx.lb.app.request(`/admin/backups/${n}`, { method: "DELETE", headers: htmx(ctx.adminCookie) });
    expect(del.status).toBe(200);
    expect(del.headers.get("hx-trigger")).toBe("backups-changed");
    expect(await del.text()).toContain(`Backup ${b!.name} deleted.`);
    expect((await listBackups(ctx)).map((x) => x.name)).not.toContain(b!.name);
  });

  it("shows refusals inline in plain words, in the upload form's own result area", async () => {
    const ctx = await setup();
    const bad = new TextEncoder().encode("CREATE TABLE t(x);\nATTACH DATABASE 'x.db' AS x;\n");
    const res = await upload(ctx, "/admin/backups/import", bad, { ...htmx(ctx.adminCookie), "HX-Error-Target": "#upload-result" });
    expect(res.status).toBe(422);
    expect(res.headers.get("hx-retarget")).toBe("#upload-result");
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toMatch(/line 2: .*ATTACH/i);
    const missing = await ctx.lb.app.request("/admin/backups/lifeboat-20990101-000000-manual.sql/import", {
      method: "POST",
      headers: htmx(ctx.adminCookie),
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("hx-retarget")).toBe("#status");
    expect(await missing.text()).toContain("There is no backup named lifeboat-20990101-000000-manual.sql");
  });
});

describe("one handler per action", () => {
  it("serves the JSON face and the htmx face of every action with the same handler function", async () => {
    const ctx = await setup();
    const handlerOf = (method: string, p: string) => {
      const matches = ctx.lb.app.routes.filter((r) => r.method === method && r.path === p);
      expect(matches.length, `${method} ${p}`).toBeGreaterThan(0);
      return matches.at(-1)!.handler;
    };
    const pairs: [string, string, string][] = [
      ["GET", "/api/backups", "/admin/backups/table"],
      ["POST", "/api/backups", "/admin/backups"],
      ["GET", "/api/backups/status", "/admin/backups/status"],
      ["POST", "/api/backups/upload", "/admin/backups/upload"],
      ["POST", "/api/backups/import", "/admin/backups/import"],
      ["GET", "/api/backups/:name", "/admin/backups/:name/download"],
      ["DELETE", "/api/backups/:name", "/admin/backups/:name"],
      ["POST", "/api/backups/:name/import", "/admin/backups/:name/import"],
      ["POST", "/api/backups/:name/pin", "/admin/backups/:name/pin"],
      ["DELETE", "/api/backups/:name/pin", "/admin/backups/:name/pin"],
    ];
    const seen = new Set<unknown>();
    for (const [method, apiPath, pagePath] of pairs) {
      const h = handlerOf(method, apiPath);
      expect(handlerOf(method, pagePath), `${method} ${apiPath} vs ${pagePath}`).toBe(h);
      seen.add(h);
    }
    expect(seen.size).toBe(pairs.length); // and each action has its own
  });

  it("gives both faces the same outcome: the same download bytes, the same refusal message", async () => {
    const ctx = await setup();
    const b = await createBackup(ctx);
    const n = encodeURIComponent(b.name);
    const viaApi = new Uint8Array(await (await api(ctx, "GET", `/api/backups/${n}`)).arrayBuffer());
    const viaPage = await ctx.lb.app.request(`/admin/backups/${n}/download`, { headers: { Cookie: ctx.adminCookie } });
    expect(viaPage.headers.get("content-disposition")).toBe(`attachment; filename="${b.name}"`);
    expect(new Uint8Array(await viaPage.arrayBuffer())).toEqual(viaApi);
    const apiRefusal = await errorOf(await api(ctx, "POST", "/api/backups/..%2Fx.sql/import"));
    const pageRefusal = await (
      await ctx.lb.app.request("/admin/backups/..%2Fx.sql/import", { method: "POST", headers: htmx(ctx.adminCookie) })
    ).text();
    expect(apiRefusal.code).toBe("invalid_input");
    expect(pageRefusal).toContain(apiRefusal.message.replace(/'/g, "&#39;"));
  });
});
