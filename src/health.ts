import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Client } from "@libsql/client";
import { redactCredentials } from "./redact.ts";

interface CheckResult {
  ok: boolean;
  /** Plain-language reason when not ok. */
  reason?: string;
  /** A check that fails with `degraded` makes /readyz report degraded, not unready. */
  degraded?: boolean;
}

/** A named readiness check; later modules (the scheduler) add their own. */
export interface ReadinessCheck {
  name: string;
  run(): Promise<CheckResult>;
}

export interface Readiness {
  status: "ready" | "degraded" | "unready";
  checks: Record<string, CheckResult>;
}

/** The database answers a trivial query. */
export function databaseCheck(db: Client): ReadinessCheck {
  return {
    name: "database",
    async run() {
      try {
        await db.execute("SELECT 1");
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `database does not answer: ${redactCredentials((err as Error).message)}` };
      }
    },
  };
}

/**
 * The backup folder exists and a file can really be created in it. Checking
 * mode bits is not enough (root ignores them, read-only mounts do not show there).
 */
export function backupDirCheck(backupDir: string): ReadinessCheck {
  return {
    name: "backupDir",
    async run() {
      const probe = path.join(backupDir, `.lifeboat-probe-${randomBytes(6).toString("hex")}`);
      try {
        const fh = await fs.open(probe, "wx", 0o600);
        await fh.close();
        await fs.unlink(probe);
        return { ok: true };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return {
          ok: false,
          reason:
            code === "ENOENT"
              ? `backup folder ${backupDir} does not exist`
              : `backup folder ${backupDir} is not writable (${code ?? (err as Error).message})`,
        };
      }
    },
  };
}

/** Runs all checks concurrently; any hard failure makes the service unready. */
export async function checkReadiness(checks: readonly ReadinessCheck[]): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        return [c.name, await c.run()] as const;
      } catch (err) {
        return [c.name, { ok: false, reason: (err as Error).message } as CheckResult] as const;
      }
    }),
  );
  const checksOut = Object.fromEntries(results);
  const failed = results.filter(([, r]) => !r.ok);
  const status = failed.some(([, r]) => !r.degraded)
    ? "unready"
    : failed.length > 0
      ? "degraded"
      : "ready";
  return { status, checks: checksOut };
}
