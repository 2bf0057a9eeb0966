import { spawn } from "node:child_process";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { bundled } from "../support/bundle.ts";
import { tempDir } from "../support/temp.ts";
import { ADMIN, bootScheduled, CRON_SECRET, listBackups } from "./support/boot.ts";

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  while (children.length) {
    const c = children.pop()!;
    if (c.exitCode === null) c.kill("SIGKILL");
  }
});

/** Starts one instance process; resolves `ready` when it has booted and `done` with its summary. */
function instance(env: Record<string, string>) {
  const child = spawn(process.execPath, [bundled("instance")], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => (out.includes("ready\n") ? resolve() : undefined);
    child.stdout!.on("data", check);
    child.on("close", (code) => reject(new Error(`instance exited (${code}) before ready:\n${err}`)));
  });
  const done = new Promise<{ instance: string; cron: { status: number; name: string; created: boolean } }>((resolve, reject) => {
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`instance exited with ${code}:\n${err}`));
      resolve(JSON.parse(out.slice(out.indexOf("ready\n") + 6)) as never);
    });
  });
  return { ready, done, go: () => child.stdin!.end("go\n") };
}

describe("several instances on one database", () => {
  // Separate processes, as real instances are (two in one process would share one event loop).
  it("make exactly one scheduled backup per period", async () => {
    const dataDir = await tempDir();
    const env = {
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      CRON_SECRET,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      START_AT: "2026-11-25T12:00:00Z",
      END_AT: "2026-12-02T12:00:00Z",
    };
    // Install once (migrations, first admin), as a deployment would before scaling out.
    const first = await bootScheduled(env, { at: env.START_AT, dataDir });
    await first.close();

    const a = instance(env);
    const b = instance(env);
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const [ra, rb] = await Promise.all([a.done, b.done]);

    const scheduled = (await listBackups(path.join(dataDir, "backups"))).filter((x) => x.trigger === "scheduled");
    const days = ["11-26", "11-27", "11-28", "11-29", "11-30", "12-01", "12-02"].map((d) => `2026-${d}T00:00`);
    expect(scheduled.map((x) => x.periodKey)).toEqual(days);

    // both instances' external trigger answered with the same, existing backup of the last period
    expect([ra.cron.status, rb.cron.status]).toEqual([200, 200]);
    expect(ra.cron.name).toBe(scheduled[6]!.name);
    expect(rb.cron.name).toBe(scheduled[6]!.name);

    const db = createClient({ url: `file:${path.join(dataDir, "app.db")}`, intMode: "bigint" });
    try {
      const rs = await db.execute("SELECT period_key, status, holder FROM lifeboat_scheduled_runs ORDER BY period_key");
      expect(rs.rows.map((r) => `${r.period_key} ${r.status}`)).toEqual(days.map((d) => `${d} done`));
      expect(rs.rows.every((r) => [ra.instance, rb.instance].includes(String(r.holder)))).toBe(true);
    } finally {
      db.close();
    }
  });
});
