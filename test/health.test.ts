import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bootTestLifeboat } from "./support/app.ts";
import { bundled } from "./support/bundle.ts";
import { tempDir } from "./support/temp.ts";

describe("health and readiness", () => {
  it("GET /healthz answers 200 JSON while the process is alive", async () => {
    const lb = await bootTestLifeboat();
    const res = await lb.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { status: string; version: string };
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("GET /readyz is 200 when the database answers and the backup folder is writable", async () => {
    const lb = await bootTestLifeboat();
    const res = await lb.app.request("/readyz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe("ready");
    expect(body.checks.database?.ok).toBe(true);
    expect(body.checks.backupDir?.ok).toBe(true);
    // the probe file is gone again
    expect((await fs.readdir(lb.config.backupDir)).filter((f) => f.startsWith(".lifeboat-probe"))).toEqual([]);
  });

  it("GET /readyz is 503 naming the reason when the backup folder is gone", async () => {
    const lb = await bootTestLifeboat();
    await fs.rm(lb.config.backupDir, { recursive: true });
    const res = await lb.app.request("/readyz");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; reason?: string }> };
    expect(body.status).toBe("unready");
    expect(body.checks.backupDir?.ok).toBe(false);
    expect(body.checks.backupDir?.reason).toMatch(/does not exist/);
    expect(body.checks.database?.ok).toBe(true);
  });

  it("GET /readyz is 503 when the database is closed", async () => {
    const lb = await bootTestLifeboat();
    lb.db.close();
    const res = await lb.app.request("/readyz");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; reason?: string }> };
    expect(body.checks.database?.ok).toBe(false);
  });

  // Root ignores permission bits, so the read-only case runs the check in a child
  // process as an unprivileged user when the suite itself runs as root (as in CI).
  it("GET /readyz is 503 when the backup folder is read-only", async () => {
    const dir = await tempDir();
    await fs.chmod(dir, 0o777);
    const backups = path.join(dir, "backups");
    await fs.mkdir(backups, { mode: 0o777 });
    await fs.chmod(backups, 0o555);
    const asRoot = process.getuid?.() === 0;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bundled("readyz-probe")], {
        env: { ...process.env, DATA_DIR: dir, BACKUP_DIR: backups, LOG_LEVEL: "silent" },
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
        cwd: process.cwd(),
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(out.stderr).toBe("");
    const result = JSON.parse(out.stdout) as { status: number; body: { checks: Record<string, { ok: boolean; reason?: string }> } };
    expect(result.status).toBe(503);
    expect(result.body.checks.backupDir?.ok).toBe(false);
    expect(result.body.checks.backupDir?.reason).toMatch(/not writable/);
    expect(await fs.readdir(backups)).toEqual([]);
  });
});
