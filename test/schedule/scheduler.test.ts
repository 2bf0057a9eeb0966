import { describe, expect, it } from "vitest";
import { tempDir } from "../support/temp.ts";
import { ADMIN, bootScheduled } from "./support/boot.ts";

const scheduledOf = async (lb: Awaited<ReturnType<typeof bootScheduled>>) =>
  (await lb.files()).filter((b) => b.trigger === "scheduled").map((b) => `${b.periodKey} ${b.createdAt}`);

describe("the in-process schedule", () => {
  it("takes the Europe/Berlin midnight backup exactly once on each day around the spring DST change", async () => {
    const lb = await bootScheduled({ BACKUP_TIMEZONE: "Europe/Berlin" }, { at: "2026-03-27T12:00:00Z" });
    await lb.time.advanceTo("2026-03-31T12:00:00Z");
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual([
      "2026-03-28T00:00 2026-03-27T23:00:00.000Z",
      "2026-03-29T00:00 2026-03-28T23:00:00.000Z", // the night the clocks go forward
      "2026-03-30T00:00 2026-03-29T22:00:00.000Z", // now CEST: midnight is 22:00 UTC
      "2026-03-31T00:00 2026-03-30T22:00:00.000Z",
    ]);
    const status = await lb.scheduler.scheduleStatus();
    expect(status.nextRun).toBe("2026-03-31T22:00:00.000Z");
    expect(status.nextPeriodKey).toBe("2026-04-01T00:00");
  });

  it("takes the Europe/Berlin midnight backup exactly once on each day around the autumn DST change", async () => {
    const lb = await bootScheduled({ BACKUP_TIMEZONE: "Europe/Berlin" }, { at: "2026-10-23T12:00:00Z" });
    await lb.time.advanceTo("2026-10-27T12:00:00Z");
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual([
      "2026-10-24T00:00 2026-10-23T22:00:00.000Z",
      "2026-10-25T00:00 2026-10-24T22:00:00.000Z", // the night the clocks go back (25 hours)
      "2026-10-26T00:00 2026-10-25T23:00:00.000Z", // now CET: midnight is 23:00 UTC
      "2026-10-27T00:00 2026-10-26T23:00:00.000Z",
    ]);
  });

  it("catches up a missed midnight once at start, and not again on the next start", async () => {
    const dataDir = await tempDir();
    // First start: a fresh install did not miss the midnight before it existed.
    let lb = await bootScheduled({}, { at: "2026-11-24T10:00:00Z", dataDir });
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual([]);
    await lb.close();

    // Down over two midnights: the most recent one is taken once, at start.
    lb = await bootScheduled({}, { at: "2026-11-26T08:00:00Z", dataDir });
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual(["2026-11-26T00:00 2026-11-26T08:00:00.000Z"]);
    expect(lb.logs.some((l) => l.msg === "taking a missed scheduled backup (catch-up)" && l.periodKey === "2026-11-26T00:00")).toBe(true);
    await lb.close();

    // Restarted in the same period: nothing to catch up.
    lb = await bootScheduled({}, { at: "2026-11-26T09:00:00Z", dataDir });
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toHaveLength(1);
    expect(lb.logs.some((l) => l.msg === "taking a missed scheduled backup (catch-up)")).toBe(false);

    // The timer takes the next midnight as usual.
    await lb.time.advanceTo("2026-11-27T00:00:01Z");
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual([
      "2026-11-26T00:00 2026-11-26T08:00:00.000Z",
      "2026-11-27T00:00 2026-11-27T00:00:00.000Z",
    ]);
  });

  it("takes no scheduled backup with BACKUP_SCHEDULE=off", async () => {
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" }, { at: "2026-11-25T12:00:00Z" });
    expect(lb.time.pendingTimers()).toEqual([]);
    await lb.time.advanceTo("2026-11-28T12:00:00Z");
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual([]);
    const status = await lb.scheduler.scheduleStatus();
    expect(status).toMatchObject({ schedule: null, nextRun: null });
  });

  it("sleeps in bounded steps across gaps longer than setTimeout allows (2^31-1 ms)", async () => {
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "0 0 1 1 *" }, { at: "2026-11-25T12:00:00Z" });
    for (const due of lb.time.pendingTimers()) {
      expect(Date.parse(due) - Date.parse("2026-11-25T12:00:00Z")).toBeLessThanOrEqual(2 ** 31 - 1);
    }
    expect((await lb.scheduler.scheduleStatus()).nextRun).toBe("2027-01-01T00:00:00.000Z");
    await lb.time.advanceTo("2027-01-01T00:00:30Z");
    await lb.scheduler.idle();
    expect(await scheduledOf(lb)).toEqual(["2027-01-01T00:00 2027-01-01T00:00:00.000Z"]);
  });

  it("reports the next run, the last run of each kind and what is running, also after a restart", async () => {
    const dataDir = await tempDir();
    let lb = await bootScheduled({}, { at: "2026-11-25T23:00:00Z", dataDir });
    const manual = await lb.backups.createBackup({ trigger: "manual", actor: ADMIN.username });
    await lb.time.advanceTo("2026-11-26T00:00:10Z");
    await lb.users.createUser(ADMIN.username, { username: "someone", password: "a long password 1", role: "user" });
    await lb.time.advance(5000);
    await lb.scheduler.idle();

    let status = await lb.scheduler.scheduleStatus();
    expect(status).toMatchObject({
      schedule: "0 0 * * *",
      timezone: "UTC",
      nextRun: "2026-11-27T00:00:00.000Z",
      nextPeriodKey: "2026-11-27T00:00",
      running: null,
      pendingChange: null,
      instance: lb.scheduler.instanceId,
    });
    expect(status.lastRuns.manual).toMatchObject({ name: manual.name, size: manual.size, error: null, at: "2026-11-25T23:00:00.000Z" });
    expect(status.lastRuns.scheduled).toMatchObject({ periodKey: "2026-11-26T00:00", error: null, at: "2026-11-26T00:00:00.000Z" });
    expect(status.lastRuns.scheduled?.size).toBeGreaterThan(0);
    expect(status.lastRuns.change).toMatchObject({ error: null, at: "2026-11-26T00:00:15.000Z" });
    expect(status.lastRuns.upload).toBeNull();
    for (const kind of ["manual", "scheduled", "change"] as const) expect(status.lastRuns[kind]?.durationMs).toBeTypeOf("number");

    const running = lb.backups.createBackup({ trigger: "manual", actor: ADMIN.username });
    expect((await lb.scheduler.scheduleStatus()).running).toMatchObject({ kind: "backup", trigger: "manual", actor: ADMIN.username });
    await running;
    await lb.close();

    // After a restart the folder and the shared run records still tell the story.
    lb = await bootScheduled({}, { at: "2026-11-26T08:00:00Z", dataDir });
    status = await lb.scheduler.scheduleStatus();
    expect(status.lastRuns.scheduled).toMatchObject({ periodKey: "2026-11-26T00:00", error: null, durationMs: 0 });
    expect(status.lastRuns.change?.name).toMatch(/-change\.sql$/);
    expect(status.lastRuns.manual).toMatchObject({ durationMs: null, error: null });
  });
});
