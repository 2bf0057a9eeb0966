import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/backups/run-history.ts";
import type { BackupMeta } from "../../src/backups/types.ts";
import { ADMIN, bearer, bootWithAdmin, createUser, loginCookie, loginToken } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";

async function json<T>(res: Response): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

describe("the run history (GET /api/runs and /admin/runs)", () => {
  it("lists every finished backup and import, newest first, with result, duration, size and why one failed", async () => {
    const lb = await bootWithAdmin();
    const api = bearer(await loginToken(lb, ADMIN.username, ADMIN.password));
    await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    await lb.db.execute("INSERT INTO notes (body) VALUES ('one'), ('two')");

    const created = await lb.app.request("/api/backups", { method: "POST", headers: api });
    expect(created.status).toBe(201);
    const manual = (await created.json()) as BackupMeta;
    const restored = await json<{ safetyBackup: string; tables: number; rows: number }>(
      await lb.app.request(`/api/backups/${manual.name}/import`, { method: "POST", headers: api }),
    );
    // An upload that is no dump: refused (422), and the import's failure is recorded with its reason.
    const refused = await lb.app.request("/api/backups/import", {
      method: "POST",
      headers: { Authorization: api.Authorization!, "Content-Type": MULTIPART_TYPE },
      body: multipartBody(new TextEncoder().encode("SELECT readfile('/etc/passwd');\n")),
    });
    expect(refused.status).toBe(422);
    const refusal = ((await refused.json()) as { error: { message: string } }).error.message;
    // A table of a module Lifeboat cannot back up: the backup fails, and says why.
    await lb.db.execute("CREATE VIRTUAL TABLE shapes USING geopoly(body)");
    expect((await lb.app.request("/api/backups", { method: "POST", headers: api })).status).toBe(422);

    const res = await lb.app.request("/api/runs", { headers: api });
    const runs = await json<RunRecord[]>(res);
    expect(res.headers.get("X-Total-Count")).toBe(String(runs.length));
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    // Newest first: the failed backup, the refused upload's import, the import and its safety backup, the manual backup.
    expect(runs.map((r) => [r.kind, r.trigger, r.ok])).toEqual([
      ["backup", "manual", false],
      ["import", null, false],
      ["import", null, true],
      ["backup", "pre-import", true],
      ["backup", "manual", true],
    ]);
    const [failedBackup, failedImport, imported, safety, first] = runs as [RunRecord, RunRecord, RunRecord, RunRecord, RunRecord];
    expect(first).toMatchObject({ actor: ADMIN.username, backup: manual.name, size: manual.size, error: null });
    expect(Date.parse(first.finishedAt)).toBeGreaterThanOrEqual(Date.parse(first.startedAt));
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    expect(safety.backup).toBe(restored.safetyBackup);
    expect(imported).toMatchObject({
      backup: manual.name,
      safetyBackup: restored.safetyBackup,
      tables: restored.tables,
      rows: restored.rows,
      error: null,
    });
    expect(failedImport.error?.code).toBe("invalid_backup");
    expect(refusal).toContain(failedImport.error!.message);
    expect(failedBackup.error?.code).toBe("unsupported_database");
    expect(failedBackup.error?.message).toMatch(/geopoly/);
    expect(failedBackup.backup).toBeNull();

    // Filters and a limit.
    const failures = await json<RunRecord[]>(await lb.app.request("/api/runs?result=failed", { headers: api }));
    expect(failures.map((r) => r.kind)).toEqual(["backup", "import"]);
    const imports = await json<RunRecord[]>(await lb.app.request("/api/runs?kind=import&result=ok", { headers: api }));
    expect(imports).toEqual([imported]);
    const safetyOnly = await json<RunRecord[]>(await lb.app.request("/api/runs?trigger=pre-import", { headers: api }));
    expect(safetyOnly).toEqual([safety]);
    expect(await json<RunRecord[]>(await lb.app.request("/api/runs?limit=2", { headers: api }))).toEqual(runs.slice(0, 2));
    const bad = await lb.app.request("/api/runs?limit=0&kind=restore", { headers: api });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/limit/);

    // The page shows the same runs, the failure's reason included.
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const page = await lb.app.request("/admin/runs", { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("<h1>Run history</h1>");
    expect(html.match(/<tr class="failed">/g)).toHaveLength(2);
    expect(html).toContain(manual.name);
    expect(html).toContain(restored.safetyBackup);
    expect(html).toContain(failedBackup.error!.message.replaceAll("'", "&#39;").slice(0, 40));
    expect(html).toMatch(/aria-current="page"[^>]*>Runs</);
    // The filter's fragment, as htmx asks for it.
    const fragment = await (await lb.app.request("/admin/runs?kind=import", { headers: { Cookie: cookie, "HX-Request": "true" } })).text();
    expect(fragment).not.toContain("<html");
    expect(fragment.match(/<tbody>[\s\S]*<\/tbody>/)![0].match(/<tr/g)).toHaveLength(2);
  });

  it("is for admins only, and survives a restart", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "nora", "nora's long password");
    expect((await lb.app.request("/api/runs")).status).toBe(401);
    const user = bearer(await loginToken(lb, "nora", "nora's long password"));
    expect((await lb.app.request("/api/runs", { headers: user })).status).toBe(403);
    expect((await lb.app.request("/admin/runs", { headers: user })).status).toBe(403);

    await lb.backups.createBackup({ trigger: "manual", actor: ADMIN.username });
    const dataDir = lb.dataDir;
    await lb.close();
    const file = path.join(dataDir, "run-history.jsonl");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);

    const again = await bootWithAdmin({}, { dataDir });
    const api = bearer(await loginToken(again, ADMIN.username, ADMIN.password));
    const runs = await json<RunRecord[]>(await again.app.request("/api/runs", { headers: api }));
    // The manual backup, and the change backup of nora's account, written when the first instance stopped.
    expect(runs.map((r) => [r.kind, r.trigger, r.ok, r.actor])).toEqual([
      ["backup", "change", true, ADMIN.username],
      ["backup", "manual", true, ADMIN.username],
    ]);
  });
});
