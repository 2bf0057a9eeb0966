import type { Clock, Timers } from "../../../src/clock.ts";

/**
 * A clock and timers that move only when the test says so. `advanceTo` fires
 * due callbacks in time order, setting "now" to each one's due time first, and
 * awaits the promise a callback returns — so a scheduled backup finishes (real
 * files, real database) before time moves on.
 */
export interface ManualTime extends Clock, Timers {
  advanceTo(at: Date | string): Promise<void>;
  advance(ms: number): Promise<void>;
  /** Moves now without firing anything (a process that was not running). */
  set(at: Date | string): void;
  /** Due times of the timers waiting now, ISO strings in order. */
  pendingTimers(): string[];
}

export function manualTime(start: Date | string): ManualTime {
  let now = new Date(start).getTime();
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => unknown; seq: number }>();
  const time: ManualTime = {
    now: () => new Date(now),
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn, seq: id });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advanceTo(at) {
      const target = new Date(at).getTime();
      for (;;) {
        let next: [number, { at: number; fn: () => unknown; seq: number }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) {
            next = entry;
          }
        }
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        await next[1].fn();
      }
      now = Math.max(now, target);
    },
    advance(ms) {
      return time.advanceTo(new Date(now + ms));
    },
    set(at) {
      now = new Date(at).getTime();
    },
    pendingTimers: () => [...timers.values()].sort((a, b) => a.at - b.at).map((t) => new Date(t.at).toISOString()),
  };
  return time;
}
