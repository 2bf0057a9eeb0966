import { systemTimers, type TimerHandle, type Timers } from "../clock.ts";
import { BusyError } from "../errors.ts";

/**
 * Serialises this process's writes to the database.
 *
 * SQLite's busy timeout is a synchronous wait inside the native call: if one
 * connection of this process holds the write lock (say, a long import) and
 * another connection of the same process tries to write, the wait blocks the
 * event loop that the lock holder needs to finish — a stall until the timeout.
 * Every in-process writer therefore queues here first (an async wait that keeps
 * the loop free); SQLite's own locking still protects against other processes.
 */
export interface WriteGate {
  /**
   * Runs `fn` once no other write holds the gate. Waits at most `waitMs`
   * (default 15 s), then throws `BusyError` with `busyMessage`.
   */
  run<T>(fn: () => Promise<T>, options?: { waitMs?: number; busyMessage?: string }): Promise<T>;
  /** True while some write holds the gate. */
  readonly busy: boolean;
}

/** `timers`: the app's injected timers, which also time the wait for the gate. */
export function createWriteGate(timers: Timers = systemTimers): WriteGate {
  let tail: Promise<void> = Promise.resolve();
  let holders = 0;
  /** Runs with a slot in the queue (holding or waiting) whose slot is not released yet. */
  let inLine = 0;
  return {
    get busy() {
      return holders > 0;
    },
    async run<T>(fn: () => Promise<T>, options: { waitMs?: number; busyMessage?: string } = {}): Promise<T> {
      const waitMs = options.waitMs ?? 15_000;
      const previous = tail;
      // Nobody ahead: no wait to time (a timer would only be armed and cleared again).
      const mustWait = inLine > 0;
      inLine++;
      let releaseSlot!: () => void;
      const mine = new Promise<void>((r) => (releaseSlot = r));
      const release = () => {
        inLine--;
        releaseSlot();
      };
      tail = previous.then(() => mine);
      let timer: TimerHandle | undefined;
      let timedOut = false;
      try {
        if (waitMs <= 0 && holders > 0) {
          timedOut = true;
        } else if (!mustWait) {
          await previous;
        } else {
          await Promise.race([
            previous,
            new Promise<void>((_, reject) => {
              timer = timers.setTimeout(() => {
                timedOut = true;
                reject(new BusyError(options.busyMessage));
              }, Math.max(waitMs, 0));
            }),
          ]);
        }
      } catch {
        // fall through: timedOut is set
      } finally {
        if (timer !== undefined) timers.clearTimeout(timer);
      }
      if (timedOut) {
        // Keep the queue order: our slot is released as soon as the one before us ends.
        void previous.then(release);
        throw new BusyError(options.busyMessage);
      }
      holders++;
      try {
        return await fn();
      } finally {
        holders--;
        release();
      }
    },
  };
}
