import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { DENO_ENTRY, serveEntry, signInOverHttp } from "./support/entries.ts";
import { MULTIPART_TYPE, multipartBody } from "./support/multipart.ts";
import { ADMIN } from "./support/auth.ts";


describe("backups over HTTP under Deno", () => {
  it("backs up, downloads, uploads (streamed multipart) and imports; refuses an oversized upload with 413", async () => {
    const { proc, base, dataDir } = await serveEntry(DENO_ENTRY, {
      LOG_LEVEL: "warn",
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      MAX_UPLOAD_BYTES: "1MiB",
    });
    const auth = await signInOverHttp(base);
    // Values the fast page format cannot carry: the page scan (WebAssembly under Deno) must send their page down the exact path.
    const app = createClient({ url: `file:${path.join(dataDir, "app.db")}` });
    await app.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, x REAL)");
    await app.execute("INSERT INTO notes(body, x) SELECT 'line ' || value || char(13, 10) || 'next', CASE WHEN value = 150 THEN 9e999 ELSE value / 7.0 END FROM generate_series(1, 300)");
    app.close();

    const created = await fetch(`${base}/api/backups`, { method: "POST", headers: auth });
    expect(created.status).toBe(201);
    const { name } = (await created.json()) as { name: string };
    const download = await fetch(`${base}/api/backups/${name}`, { headers: auth });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe(`attachment; filename="${name}"`);
    const dump = new Uint8Array(await download.arrayBuffer());
    expect(dump).toEqual(new Uint8Array(await fs.readFile(path.join(dataDir, "backups", name))));
    // sqlite3 restores the CR LF and the infinity exactly.
    const restored = path.join(dataDir, "restored.db");
    execFileSync("sqlite3", [restored], { input: dump });
    const check = execFileSync("sqlite3", [restored, "SELECT count(*), sum(body = 'line ' || id || char(13, 10) || 'next'), sum(x > 1e308) FROM notes"], { encoding: "utf8" });
    expect(check.trim()).toBe("300|300|1");

    const form = new FormData();
    form.append("file", new Blob([dump]), "backup.sql");
    const stored = await fetch(`${base}/api/backups/upload`, { method: "POST", headers: auth, body: form });
    expect(stored.status).toBe(201);
    expect(((await stored.json()) as { trigger: string }).trigger).toBe("upload");

    const imported = await fetch(`${base}/api/backups/import`, {
      method: "POST",
      headers: { ...auth, "Content-Type": MULTIPART_TYPE },
      body: multipartBody(dump),
    });
    expect(imported.status).toBe(200);
    expect(((await imported.json()) as { safetyBackup: string }).safetyBackup).toMatch(/-pre-import(-\d+)?\.sql$/);

    const big = new Uint8Array(2 * 1024 * 1024).fill(0x2d);
    const tooLarge = await fetch(`${base}/api/backups/upload`, {
      method: "POST",
      headers: { ...auth, "Content-Type": MULTIPART_TYPE },
      body: multipartBody(big),
    });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe("too_large");
    expect((await fs.readdir(path.join(dataDir, "backups"))).filter((f) => f.startsWith("."))).toEqual([]);

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});
