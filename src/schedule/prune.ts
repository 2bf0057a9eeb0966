import type { Clock } from "../clock.ts";
import type { BackupMeta } from "../backups/types.ts";
import { NotFoundError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { selectBackupsToPrune, type PruneDecision, type RetentionPolicy } from "./retention.ts";

export interface PrunerDeps {
  listBackups(): Promise<BackupMeta[]>;
  deleteBackup(name: string): Promise<void>;
  policy: RetentionPolicy;
  clock: Clock;
  logger: Logger;
}

export interface Pruner {
  /**
   * Applies retention now, or right after a pruning already under way (so
   * bursts of backups prune once or twice, never concurrently). Never throws:
   * a failure is logged and the next backup tries again.
   */
  prune(): Promise<PruneDecision[]>;
  /** Resolves when no pruning is running or queued. */
  idle(): Promise<void>;
}

/** Runs retention against the backup folder and logs each removal (`backup pruned`, name, reason). */
export function createPruner(deps: PrunerDeps): Pruner {
  let running: Promise<PruneDecision[]> | null = null;
  let again: Promise<PruneDecision[]> | null = null;

  async function once(): Promise<PruneDecision[]> {
    const removed: PruneDecision[] = [];
    try {
      const decisions = selectBackupsToPrune(await deps.listBackups(), deps.policy, deps.clock.now());
      for (const d of decisions) {
        try {
          await deps.deleteBackup(d.name);
          removed.push(d);
          deps.logger.info("backup pruned", { name: d.name, reason: d.reason });
        } catch (err) {
          // Another instance sharing the folder may have pruned it first.
          if (err instanceof NotFoundError) continue;
          deps.logger.warn("could not prune backup", { name: d.name, reason: d.reason, error: (err as Error).message });
        }
      }
    } catch (err) {
      deps.logger.warn("retention could not run", { error: (err as Error).message });
    }
    return removed;
  }

  function prune(): Promise<PruneDecision[]> {
    if (!running) {
      running = once().finally(() => (running = null));
      return running;
    }
    again ??= running.then(() => {
      again = null;
      return prune();
    });
    return again;
  }

  return {
    prune,
    async idle() {
      while (running || again) await (again ?? running);
    },
  };
}
