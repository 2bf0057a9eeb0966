import type { Clock, Timers } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { UserChangeEvent } from "../users/events.ts";

export interface ChangeBackupOptions {
  /** A backup is taken once no change arrived for this long (default 5 s). */
  quietMs?: number;
  /** …but never later than this after the first change it covers (default 60 s). */
  maxDelayMs?: number;
}

export interface ChangeCoalescerDeps {
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /**
   * Takes one `change` backup (waiting while another backup or import runs)
   * and reports its failure itself; resolves either way.
   */
  takeBackup(actor: string | null): Promise<void>;
}

/** What is waiting, for the status: the first uncovered change and when the backup is due. */
export interface PendingChange {
  since: string;
  dueAt: string;
  changes: number;
}

export interface ChangeCoalescer {
  /** Notes a committed change; cheap and synchronous, so it can run on the request path. */
  notify(event: UserChangeEvent): void;
  /** Takes a pending backup now (after a running one ends) and resolves when nothing is left. */
  flush(): Promise<void>;
  /** Flushes, then ignores further changes (graceful shutdown). */
  close(): Promise<void>;
  pending(): PendingChange | null;
}

/**
 * Turns bursts of user changes into few `change` backups: the backup starts
 * after `quietMs` without changes, or `maxDelayMs` after the first uncovered
 * change, whichever comes first. Changes arriving while a backup runs may have
 * missed its snapshot, so they start a new window. Events come after the
 * commit (see users/events.ts), so the backup contains every change it covers.
 */
export function createChangeCoalescer(deps: ChangeCoalescerDeps, options: ChangeBackupOptions = {}): ChangeCoalescer {
  const quietMs = options.quietMs ?? 5000;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  let firstAt: number | null = null;
  let dueAt = 0;
  let count = 0;
  let actors = new Set<string>();
  let timer: unknown = null;
  let running: Promise<void> | null = null;
  let closed = false;

  function arm(): void {
    if (firstAt === null) return;
    const now = deps.clock.now().getTime();
    dueAt = Math.min(now + quietMs, firstAt + maxDelayMs);
    if (timer !== null) deps.timers.clearTimeout(timer);
    timer = deps.timers.setTimeout(fire, Math.max(0, dueAt - now));
  }

  /** Runs the pending backup; at most one at a time. Returns once it (and any it waited for) ended. */
  async function fire(): Promise<void> {
    timer = null;
    while (running) await running;
    if (firstAt === null) return;
    const who = [...actors];
    deps.logger.info("change backup starting", { changes: count, actors: who });
    firstAt = null;
    count = 0;
    actors = new Set();
    running = deps.takeBackup(who.length ? who.join(", ") : null).finally(() => {
      running = null;
    });
    await running;
  }

  return {
    notify(event) {
      if (closed) {
        deps.logger.warn("user change after shutdown began; it is in the database but not in a change backup", {
          action: event.action,
          target: event.target.username,
        });
        return;
      }
      firstAt ??= deps.clock.now().getTime();
      count++;
      actors.add(event.actor);
      arm();
    },
    async flush() {
      if (timer !== null) {
        deps.timers.clearTimeout(timer);
        timer = null;
      }
      await fire();
    },
    async close() {
      closed = true;
      await this.flush();
    },
    pending() {
      return firstAt === null
        ? null
        : { since: new Date(firstAt).toISOString(), dueAt: new Date(dueAt).toISOString(), changes: count };
    },
  };
}
