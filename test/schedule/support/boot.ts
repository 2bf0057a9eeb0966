import path from "node:path";
import { afterEachTest } from "../../support/cleanup.ts";
import { createBackupStorage } from "../../../src/storage/folder.ts";
import type { BackupMeta } from "../../../src/backups/types.ts";
import { bootLifeboat, type Lifeboat } from "../../../src/lifeboat.ts";
import type { SchedulerOptions } from "../../../src/schedule/scheduler.ts";
import { TEST_PASSWORD_COST } from "../../support/password-cost.ts";
import { tempDir } from "../../support/temp.ts";
import { manualTime, type ManualTime } from "./manual-time.ts";

const open: Lifeboat[] = [];
afterEachTest(async () => {
  while (open.length) await open.pop()!.close();
});

export const ADMIN = { username: "admin", password: "correct horse battery staple" };
export const CRON_SECRET = "cron-secret-0123456789abcdef";

export interface ScheduledLifeboat extends Lifeboat {
  time: ManualTime;
  dataDir: string;
  logs: Record<string, unknown>[];
  /** Backups in the folder, oldest first (read from the folder: works after close too). */
  files(): Promise<BackupMeta[]>;
}

/**
 * Boots a real Lifeboat (real libSQL file, real backup folder, real engine)
 * whose clock and timers are a `ManualTime`, so the schedule moves only when
 * the test advances time. Closed after the test unless closed before.
 */
export async function bootScheduled(
  env: Record<string, string>,
  options: { at?: string; time?: ManualTime; dataDir?: string; scheduler?: SchedulerOptions } = {},
): Promise<ScheduledLifeboat> {
  const time = options.time ?? manualTime(options.at ?? "2026-11-25T12:00:00Z");
  const dataDir = options.dataDir ?? (await tempDir());
  const logs: Record<string, unknown>[] = [];
  const lb = await bootLifeboat({
    env: {
      DATA_DIR: dataDir,
      LOG_LEVEL: "debug",
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      ...env,
    },
    clock: time,
    timers: time,
    passwordCost: TEST_PASSWORD_COST,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    logWrite: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  open.push(lb);
  const close = lb.close.bind(lb);
  return Object.assign(lb, {
    time,
    dataDir,
    logs,
    close: async () => {
      const i = open.indexOf(lb);
      if (i >= 0) open.splice(i, 1);
      await close();
    },
    files: () => listBackups(path.join(dataDir, "backups")),
  });
}

/** A login token for the seeded admin. */
export async function adminToken(lb: Lifeboat): Promise<string> {
  const res = await lb.app.request("/api/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** The backups in a folder, oldest first. */
export async function listBackups(dir: string): Promise<BackupMeta[]> {
  return (await createBackupStorage(dir).list()).reverse();
}
