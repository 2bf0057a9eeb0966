import { bootLifeboat, type BootOptions, type Lifeboat } from "../../src/lifeboat.ts";
import type { Clock, Timers } from "../../src/clock.ts";
import { TEST_PASSWORD_COST } from "./password-cost.ts";
import { tempDir } from "./temp.ts";
import { afterEachTest } from "./cleanup.ts";

const open: Lifeboat[] = [];

/**
 * Timers that never fire: by default the backup schedule and the 5 s change
 * backups do not run on their own in a test, so a test sees only the backups
 * it makes and never a surprise "busy" (a pending change backup is still
 * written at close). test/schedule/support/manual-time.ts drives them instead.
 */
const STILL_TIMERS: Timers = { setTimeout: () => null, clearTimeout: () => {} };

export interface TestLifeboat extends Lifeboat {
  dataDir: string;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
}

/**
 * Boots a real Lifeboat (real libSQL file, real backup folder) in a temp
 * folder. Closed after the current test.
 */
export async function bootTestLifeboat(
  env: Record<string, string | undefined> = {},
  options: {
    clock?: Clock;
    dataDir?: string;
    timers?: Timers;
    offsite?: BootOptions["offsite"];
    /** The scrypt cost (default the fast `TEST_PASSWORD_COST`); a backup another process restores needs Lifeboat's own. */
    passwordCost?: BootOptions["passwordCost"];
  } = {},
): Promise<TestLifeboat> {
  const dataDir = options.dataDir ?? (await tempDir());
  const logs: Record<string, unknown>[] = [];
  const lifeboat = await bootLifeboat({
    env: { DATA_DIR: dataDir, LOG_LEVEL: "debug", ...env },
    ...(options.clock ? { clock: options.clock } : {}),
    timers: options.timers ?? STILL_TIMERS,
    passwordCost: options.passwordCost ?? TEST_PASSWORD_COST,
    ...(options.offsite ? { offsite: options.offsite } : {}),
    logWrite: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  open.push(lifeboat);
  return Object.assign(lifeboat, { dataDir, logs });
}

afterEachTest(async () => {
  while (open.length) await open.pop()!.close();
});
