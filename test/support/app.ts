import { bootLifeboat, type Lifeboat } from "../../src/lifeboat.ts";
import type { Clock } from "../../src/clock.ts";
import { tempDir } from "./temp.ts";
import { afterEach } from "vitest";

const open: Lifeboat[] = [];

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
  options: { clock?: Clock; dataDir?: string } = {},
): Promise<TestLifeboat> {
  const dataDir = options.dataDir ?? (await tempDir());
  const logs: Record<string, unknown>[] = [];
  const lifeboat = await bootLifeboat({
    env: { DATA_DIR: dataDir, LOG_LEVEL: "debug", ...env },
    ...(options.clock ? { clock: options.clock } : {}),
    logWrite: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  open.push(lifeboat);
  return Object.assign(lifeboat, { dataDir, logs });
}

afterEach(async () => {
  while (open.length) await open.pop()!.close();
});
