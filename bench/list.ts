/**
 * The backup list at scale: `npm run bench -- --list 5000` fills a backup
 * folder with N backups (each with its sidecar, as Lifeboat writes them),
 * boots Lifeboat on it in this process and times what an admin's browser and
 * scripts ask for: a page of the JSON list, the whole list, the admin page,
 * and the first listing after the folder changed.
 */
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const fmt = (n: number, digits = 1) => n.toFixed(digits);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(times: number, fn: () => Response | Promise<Response>): Promise<{ median: number; p95: number; max: number }> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const res = await fn();
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
    out.push(performance.now() - t0);
  }
  out.sort((a, b) => a - b);
  return { median: percentile(out, 50), p95: percentile(out, 95), max: out.at(-1)! };
}

export async function benchList(count: number): Promise<void> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), "lifeboat-bench-list-"));
  try {
    const dataDir = path.join(root, "data");
    const backupDir = path.join(dataDir, "backups");
    await fsp.mkdir(backupDir, { recursive: true });
    process.stdout.write(`Writing ${count.toLocaleString("en")} backups with sidecars in ${backupDir} …\n`);
    const triggers = ["scheduled", "change", "manual", "upload"] as const;
    const start = Date.UTC(2020, 0, 1);
    for (let i = 0; i < count; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, count - i) }, async (_, j) => {
          const n = i + j;
          const at = new Date(start + n * 3_600_000);
          const stamp = at.toISOString().replace(/[-:]/g, "").slice(0, 15).replace("T", "-");
          const trigger = triggers[n % triggers.length]!;
          const name = `lifeboat-${stamp}-${trigger}.sql`;
          const body = `-- Lifeboat bench backup ${n}\n`;
          await fsp.writeFile(path.join(backupDir, name), body);
          await fsp.writeFile(
            path.join(backupDir, `${name}.json`),
            JSON.stringify({
              format: 1,
              size: body.length,
              createdAt: at.toISOString(),
              trigger,
              actor: "bench",
              sha256: "0".repeat(64),
              rowCounts: { notes: n, lifeboat_users: 1 },
              pinned: n % 97 === 0,
              periodKey: null,
            }),
          );
        }),
      );
    }
    const { bootLifeboat } = await import("../src/lifeboat.ts");
    const lb = await bootLifeboat({
      env: { DATA_DIR: dataDir, LOG_LEVEL: "error", ADMIN_USERNAME: "bench", ADMIN_PASSWORD: "bench-password-123", BACKUP_SCHEDULE: "off" },
    });
    try {
      const login = await lb.app.request("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: "bench", password: "bench-password-123" }),
      });
      const { token } = (await login.json()) as { token: string };
      const auth = { Authorization: `Bearer ${token}` };
      const get = (url: string) => () => lb.app.request(url, { headers: auth });

      const t0 = performance.now();
      await (await get("/api/backups?limit=50")()).arrayBuffer();
      const cold = performance.now() - t0;
      const page = await timed(50, get("/api/backups?limit=50"));
      const filtered = await timed(50, get("/api/backups?trigger=manual&sort=size&limit=50"));
      const whole = await timed(10, get("/api/backups"));
      const admin = await timed(20, get("/admin/backups"));
      // A change in the folder (a new backup): the next listing looks again, re-reading only what changed.
      const changed: number[] = [];
      for (let i = 0; i < 5; i++) {
        await lb.backups.createBackup({ trigger: "manual", actor: "bench" });
        const t1 = performance.now();
        await (await get("/api/backups?limit=50")()).arrayBuffer();
        changed.push(performance.now() - t1);
      }
      changed.sort((a, b) => a - b);
      const lines = [
        "",
        `Lifeboat list bench: ${count.toLocaleString("en")} backups in the folder, in-process app.request (no network)`,
        "",
        "| Request | median (ms) | p95 (ms) | max (ms) |",
        "|---|---:|---:|---:|",
        `| GET /api/backups?limit=50 | ${fmt(page.median)} | ${fmt(page.p95)} | ${fmt(page.max)} |`,
        `| GET /api/backups?trigger=manual&sort=size&limit=50 | ${fmt(filtered.median)} | ${fmt(filtered.p95)} | ${fmt(filtered.max)} |`,
        `| GET /admin/backups (the page) | ${fmt(admin.median)} | ${fmt(admin.p95)} | ${fmt(admin.max)} |`,
        `| GET /api/backups (all ${count.toLocaleString("en")}) | ${fmt(whole.median)} | ${fmt(whole.p95)} | ${fmt(whole.max)} |`,
        `| first page after a new backup | ${fmt(percentile(changed, 50))} | – | ${fmt(changed.at(-1)!)} |`,
        `| first listing after start (builds the index) | ${fmt(cold)} | – | – |`,
        "",
        `A page in under 50 ms with ${count.toLocaleString("en")} backups (median of the paged list): ${fmt(page.median)} ms ${page.median < 50 ? "PASS" : "FAIL"}`,
        "",
      ];
      process.stdout.write(lines.join("\n"));
    } finally {
      await lb.close();
    }
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}
