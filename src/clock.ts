/** The one source of "now", injected so scheduling and retention can be tested with a moved clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** What `Timers.setTimeout` returns; only ever handed back to `clearTimeout`. */
export type TimerHandle = unknown;

/**
 * Delayed callbacks, injected beside the clock so tests move time without
 * patching globals. The system timers ignore a callback's returned promise;
 * a test's manual timers may await it so one step of time finishes its work.
 */
export interface Timers {
  setTimeout(fn: () => unknown, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The largest delay `setTimeout` honours (2^31-1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export const systemTimers: Timers = {
  setTimeout: (fn, ms) =>
    setTimeout(() => void fn(), Math.min(Math.max(ms, 0), MAX_TIMER_DELAY_MS)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Starts a stopwatch: the returned function gives the whole milliseconds since
 * the call, from the monotonic `performance.now()`. Durations are measured
 * with it, never computed from the clock, which tests move and the system may
 * step.
 */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => Math.round(performance.now() - start);
}
