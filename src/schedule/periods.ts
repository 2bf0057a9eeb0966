import { Cron } from "croner";

/**
 * The schedule's slots, computed by croner in the configured time zone. Both the
 * in-process timer and the external trigger map a slot to the same period key,
 * which is what makes "once per period" hold between them and across instances.
 */
export interface Schedule {
  readonly expression: string;
  readonly timezone: string;
  /** The first slot strictly after `after`, or null when the expression never fires again. */
  nextSlot(after: Date): Date | null;
  /** The most recent slot at or before `at`, or null when there is none. */
  latestSlot(at: Date): Date | null;
  /**
   * The slot's local date-time in the schedule's zone, e.g. `2026-11-26T00:00`.
   * The second occurrence of a repeated wall-clock time (the hour after a
   * fall-back change) carries its UTC offset, e.g. `2026-10-25T02:00+01:00`,
   * so an hourly schedule keeps one period per slot.
   */
  periodKey(slot: Date): string;
}

/** Daylight-saving shifts in use somewhere (30 min on Lord Howe Island, 1 h elsewhere). */
const REPEAT_SHIFTS_MS = [30 * 60_000, 60 * 60_000];

/** The periods the external trigger uses when the in-process timer is off: one per day. */
export const DAILY_EXPRESSION = "0 0 * * *";

/**
 * Builds a schedule from a cron expression (5 or 6 fields) and an IANA zone.
 * croner handles daylight-saving changes: a midnight slot stays at local
 * midnight, a slot inside a skipped hour moves to the first valid minute,
 * and a repeated hour fires once.
 */
export function createSchedule(expression: string, timezone: string): Schedule {
  // paused + no callback: croner only computes times and never starts a timer.
  const cron = new Cron(expression, { timezone, paused: true });
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  const offsets = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" });
  const localKey = (at: Date) => {
    const p = Object.fromEntries(parts.formatToParts(at).map((x) => [x.type, x.value]));
    const key = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
    return p.second === "00" ? key : `${key}:${p.second}`;
  };
  const utcOffset = (at: Date) => {
    const name = offsets.formatToParts(at).find((x) => x.type === "timeZoneName")?.value ?? "GMT";
    return name === "GMT" ? "+00:00" : name.slice(3);
  };
  return {
    expression,
    timezone,
    nextSlot(after) {
      return cron.nextRun(after);
    },
    latestSlot(at) {
      // previousRuns excludes a run exactly at the reference; 1 ms later includes it.
      return cron.previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
    },
    periodKey(slot) {
      const key = localKey(slot);
      const repeated = REPEAT_SHIFTS_MS.some((ms) => localKey(new Date(slot.getTime() - ms)) === key);
      return repeated ? key + utcOffset(slot) : key;
    },
  };
}
