import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BackupMeta, BackupPreview } from "../../src/backups/types.ts";
import { ADMIN, bootWithAdmin, createUser, loginCookie, loginToken, ORIGIN } from "../support/auth.ts";

async function setup() {
  const lb = await bootWithAdmin();
  await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second'), ('third')");
  const token = await loginToken(lb, ADMIN.username, ADMIN.password);
  const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
  const api = (method: string, url: string) => lb.app.request(url, { method, headers: { Authorization: `Bearer ${token}` } });
  const created = await api("POST", "/api/backups");
  expect(created.status).toBe(201);
  const backup = (await created.json()) as BackupMeta;
  return { lb, api, cookie, backup, dir: lb.config.backupDir };
}

async function folder(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const f of await fs.readdir(dir)) out[f] = (await fs.stat(path.join(dir, f))).mtimeMs;
  return out;
}

describe("restore preview", () => {
  it("shows the kind, checksum, rows per table next to the live database and the admins afterwards — and changes nothing", async () => {
    const { lb, api, backup, dir } = await setup();
    // After the backup: a note deleted, a table added, another admin created.
    await lb.db.execute("DELETE FROM notes WHERE body = 'second'");
    await lb.db.execute("CREATE TABLE extra (x)");
    await createUser(lb, "ivy", "ivy's long password", "admin");
    const before = await folder(dir);

    const res = await api("GET", `/api/backups/${encodeURIComponent(backup.name)}/preview`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const p = (await res.json()) as BackupPreview;
    expect(p.backup.name).toBe(backup.name);
    expect(p.kind).toBe("lifeboat");
    expect(p.checksum).toEqual({ state: "matches", recorded: backup.sha256, actual: backup.sha256 });
    expect(p.restorable).toBe(true);
    expect(p.problem).toBeNull();
    expect(p.tablesKnown).toBe(true);
    const byName = Object.fromEntries(p.tables.map((t) => [t.name, t]));
    expect(byName.notes).toEqual({ name: "notes", backupRows: 3, liveRows: 2 });
    expect(byName.extra).toEqual({ name: "extra", backupRows: null, liveRows: 0 });
    expect(byName.lifeboat_users).toEqual({ name: "lifeboat_users", backupRows: 1, liveRows: 2 });
    expect(p.admins).toEqual({ after: [ADMIN.username], now: [ADMIN.username, "ivy"].sort() });

    // Nothing changed: the live rows, the tables, the folder.
    expect((await lb.db.execute("SELECT count(*) AS n FROM notes")).rows[0]!.n).toBe(2n);
    expect((await lb.db.execute("SELECT name FROM sqlite_schema WHERE name = 'extra'")).rows).toHaveLength(1);
    expect(await folder(dir)).toEqual(before);

    // The page's face: the same facts in the dialog, differences highlighted, import confirmed there.
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const page = await lb.app.request(`/admin/backups/${encodeURIComponent(backup.name)}/preview`, {
      headers: { Cookie: cookie, Origin: ORIGIN, "HX-Request": "true" },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`Restore ${backup.name}?`);
    expect(html).toContain("Lifeboat backup");
    expect(html).toMatch(/<tr class="differs"><th scope="row"><code>notes<\/code><\/th><td class="num">3<\/td><td class="num">2<\/td><td><strong>\+1 rows<\/strong>/);
    expect(html).toMatch(/<tr class="differs gone"><th scope="row"><code>extra<\/code><\/th>.*removed by the restore/s);
    expect(html).toMatch(/No longer admins afterwards: <code>ivy<\/code>/);
    expect(html).toContain(`hx-post="/admin/backups/${encodeURIComponent(backup.name)}/import"`);
    const undo = await lb.app.request(`/admin/backups/${encodeURIComponent(backup.name)}/preview?purpose=undo`, {
      headers: { Cookie: cookie, Origin: ORIGIN, "HX-Request": "true" },
    });
    expect(await undo.text()).toContain("Undo the import?");
  });

  it("says when the file changed since it was taken, and when a hand-dropped file holds application data only", async () => {
    const { lb, api, backup, dir } = await setup();
    await fs.appendFile(path.join(dir, backup.name), "-- edited by hand\n");
    const changed = (await (await api("GET", `/api/backups/${encodeURIComponent(backup.name)}/preview`)).json()) as BackupPreview;
    expect(changed.checksum.state).toBe("differs");
    expect(changed.checksum.recorded).toBe(backup.sha256);
    expect(changed.checksum.actual).toMatch(/^[0-9a-f]{64}$/);
    expect(changed.checksum.actual).not.toBe(backup.sha256);

    // A sqlite3-style dump of the application's tables only, dropped into the folder by hand.
    await fs.writeFile(
      path.join(dir, "app-only.sql"),
      "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nINSERT INTO notes VALUES(1,'only');\nCOMMIT;\n",
    );
    const res = await api("GET", "/api/backups/app-only.sql/preview");
    expect(res.status).toBe(200);
    const p = (await res.json()) as BackupPreview;
    expect(p.kind).toBe("plain");
    expect(p.checksum.state).toBe("not-recorded");
    // The import's own verdict, in its own words (a restore must never lock every admin out).
    const imported = await api("POST", "/api/backups/app-only.sql/import");
    if (imported.status === 200) {
      expect(p.restorable).toBe(true);
    } else {
      expect(p.restorable).toBe(false);
      const { error } = (await imported.json()) as { error: { message: string } };
      expect(error.message).toContain(p.problem!);
    }
  });

  it("answers 404 for a backup that is not there and 400 for a name that cannot be one", async () => {
    const { api } = await setup();
    expect((await api("GET", "/api/backups/lifeboat-20000101-000000-manual.sql/preview")).status).toBe(404);
    expect((await api("GET", "/api/backups/..%2Fetc.sql/preview")).status).toBe(400);
  });
});
