import { describe, expect, it } from "vitest";
import { ADMIN, bootScheduled } from "./support/boot.ts";

describe("retention after each backup", () => {
  it("keeps exactly the configured numbers, keeps pinned and newest backups, removes and logs the rest", async () => {
    const lb = await bootScheduled(
      { BACKUP_KEEP_SCHEDULED: "3", BACKUP_KEEP_CHANGE: "2", BACKUP_KEEP_OTHER_DAYS: "2" },
      { at: "2026-11-20T12:00:00Z" },
    );
    const oldManual = await lb.backups.createBackup({ trigger: "manual", actor: ADMIN.username });
    const pinnedManual = await lb.backups.createBackup({ trigger: "manual", actor: ADMIN.username });
    await lb.backups.setPinned(pinnedManual.name, true);

    // three bursts of user changes → three change backups
    for (const name of ["c-one", "c-two", "c-three"]) {
      await lb.users.createUser(ADMIN.username, { username: name, password: "a long password 1", role: "user" });
      await lb.time.advance(60_000);
    }
    await lb.time.advanceTo("2026-11-21T00:00:30Z"); // first scheduled backup
    await lb.scheduler.idle();
    const firstScheduled = (await lb.files()).find((b) => b.trigger === "scheduled")!;
    await lb.backups.setPinned(firstScheduled.name, true);

    await lb.time.advanceTo("2026-11-26T12:00:00Z"); // five more midnights
    await lb.scheduler.idle();

    const left = await lb.files();
    const scheduled = left.filter((b) => b.trigger === "scheduled");
    expect(scheduled.map((b) => `${b.periodKey}${b.pinned ? " pinned" : ""}`)).toEqual([
      "2026-11-21T00:00 pinned", // pinned: kept, not counted
      "2026-11-24T00:00",
      "2026-11-25T00:00",
      "2026-11-26T00:00",
    ]);
    expect(left.filter((b) => b.trigger === "change")).toHaveLength(2);
    const manual = left.filter((b) => b.trigger === "manual");
    expect(manual.map((b) => b.name)).toEqual([pinnedManual.name]); // the unpinned one was older than 2 days

    const changesTaken = lb.logs.filter((l) => l.msg === "change backup taken").map((l) => String(l.name));
    expect(changesTaken).toHaveLength(3);
    const pruned = lb.logs.filter((l) => l.msg === "backup pruned");
    expect(pruned.map((l) => l.name).sort()).toEqual(
      [
        oldManual.name,
        "lifeboat-20261122-000000-scheduled.sql",
        "lifeboat-20261123-000000-scheduled.sql",
        changesTaken[0],
      ].sort(),
    );
    for (const l of pruned) expect(String(l.reason)).toMatch(/BACKUP_KEEP_(SCHEDULED|CHANGE|OTHER_DAYS)/);
  });
});
