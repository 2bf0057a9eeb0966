import { describe, expect, it } from "vitest";
import { createSchedule } from "../../src/schedule/periods.ts";

const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("schedule periods (croner in a time zone)", () => {
  it("keeps a Europe/Berlin midnight at local midnight across both 2026 DST changes", () => {
    const s = createSchedule("0 0 * * *", "Europe/Berlin");
    const slots: string[] = [];
    let at = new Date("2026-03-27T12:00:00Z");
    for (let i = 0; i < 4; i++) slots.push(iso((at = s.nextSlot(at)!))!);
    expect(slots).toEqual([
      "2026-03-27T23:00:00.000Z", // 00:00 CET (+01:00)
      "2026-03-28T23:00:00.000Z", // 29 March 00:00 CET: clocks go forward at 02:00 that night
      "2026-03-29T22:00:00.000Z", // 00:00 CEST (+02:00)
      "2026-03-30T22:00:00.000Z",
    ]);
    expect(slots.map((x) => s.periodKey(new Date(x)))).toEqual([
      "2026-03-28T00:00",
      "2026-03-29T00:00",
      "2026-03-30T00:00",
      "2026-03-31T00:00",
    ]);
    at = new Date("2026-10-24T12:00:00Z");
    const autumn: string[] = [];
    for (let i = 0; i < 3; i++) autumn.push(s.periodKey((at = s.nextSlot(at)!)) + " " + at.toISOString());
    expect(autumn).toEqual([
      "2026-10-25T00:00 2026-10-24T22:00:00.000Z", // 00:00 CEST; clocks go back at 03:00
      "2026-10-26T00:00 2026-10-25T23:00:00.000Z", // 00:00 CET
      "2026-10-27T00:00 2026-10-26T23:00:00.000Z",
    ]);
  });

  it("finds the most recent slot at or before a moment, the slot itself included", () => {
    const s = createSchedule("0 0 * * *", "Europe/Berlin");
    expect(iso(s.latestSlot(new Date("2026-03-28T23:00:00.000Z")))).toBe("2026-03-28T23:00:00.000Z");
    expect(iso(s.latestSlot(new Date("2026-03-28T22:59:59.999Z")))).toBe("2026-03-27T23:00:00.000Z");
    expect(iso(s.latestSlot(new Date("2026-03-29T21:59:59.000Z")))).toBe("2026-03-28T23:00:00.000Z");
    expect(iso(s.latestSlot(new Date("2026-03-29T22:00:00.500Z")))).toBe("2026-03-29T22:00:00.000Z");
  });

  it("gives the repeated hour after a fall-back change its own period", () => {
    const s = createSchedule("0 * * * *", "Europe/Berlin");
    let at = new Date("2026-10-24T23:30:00Z");
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push(s.periodKey((at = s.nextSlot(at)!)));
    expect(keys).toEqual(["2026-10-25T02:00", "2026-10-25T02:00+01:00", "2026-10-25T03:00"]);
  });

  it("moves a slot inside the skipped spring hour to the first valid time", () => {
    const s = createSchedule("30 2 * * *", "Europe/Berlin");
    const slot = s.nextSlot(new Date("2026-03-28T12:00:00Z"))!;
    expect(slot.toISOString()).toBe("2026-03-29T01:00:00.000Z");
    expect(s.periodKey(slot)).toBe("2026-03-29T03:00");
  });

  it("names periods in UTC by default and keeps seconds when a schedule uses them", () => {
    expect(createSchedule("0 0 * * *", "UTC").periodKey(new Date("2026-11-26T00:00:00Z"))).toBe("2026-11-26T00:00");
    const everyMinuteAt30s = createSchedule("30 * * * * *", "UTC");
    expect(everyMinuteAt30s.periodKey(everyMinuteAt30s.nextSlot(new Date("2026-11-26T00:00:00Z"))!)).toBe("2026-11-26T00:00:30");
  });
});
