import path from "node:path";
import { describe, expect, it } from "vitest";
import { adminToken, ADMIN, bootScheduled, type ScheduledLifeboat } from "./support/boot.ts";
import { queryBackup } from "./support/restore.ts";

async function changeBackups(lb: ScheduledLifeboat) {
  return (await lb.files()).filter((b) => b.trigger === "change");
}

describe("backups after admin changes", () => {
  it("turns fifty quick edits into two change backups (the 60 s cap splits the burst), the last holding all fifty", async () => {
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" }, { at: "2026-11-26T10:00:00Z" });
    const token = await adminToken(lb);
    const target = await lb.users.createUser(ADMIN.username, { username: "target", password: "target password 123", role: "user" });
    await lb.time.advance(10_000);
    await lb.scheduler.idle();
    const before = (await changeBackups(lb)).length; // the createUser above made one
    expect(before).toBe(1);

    // fifty PATCHes through the API, two seconds apart: a 100 s burst
    for (let i = 1; i <= 50; i++) {
      const res = await lb.app.request(`/api/users/${target.id}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ disabled: i % 2 === 1 }),
      });
      expect(res.status).toBe(200);
      await lb.time.advance(2000);
    }
    await lb.time.advance(5000);
    await lb.scheduler.idle();
    // Manual time makes the count exact: the first edit opens the window, the 60 s cap
    // closes it after edit 30 (t+60 s); edits 31–50 wait for 5 s of quiet after the last.
    const made = (await changeBackups(lb)).slice(before);
    expect(made).toHaveLength(2);
    expect(made.map((b) => b.actor)).toEqual([ADMIN.username, ADMIN.username]);
    const firstAudit = await queryBackup(
      path.join(lb.config.backupDir, made[0]!.name),
      "SELECT count(*) FROM lifeboat_audit WHERE target_username = 'target' AND action IN ('user.disable', 'user.enable')",
    );
    expect(firstAudit).toEqual(["30"]);

    // Restored with the sqlite3 CLI, the last change backup holds every edit and the final state.
    const file = path.join(lb.config.backupDir, made.at(-1)!.name);
    const audit = await queryBackup(
      file,
      "SELECT count(*) FROM lifeboat_audit WHERE target_username = 'target' AND action IN ('user.disable', 'user.enable')",
    );
    expect(audit).toEqual(["50"]);
    expect(await queryBackup(file, "SELECT disabled FROM lifeboat_users WHERE username = 'target'")).toEqual(["0"]);
  });

  it("writes a pending change backup during a graceful shutdown", async () => {
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" }, { at: "2026-11-26T10:00:00Z" });
    await lb.users.createUser(ADMIN.username, { username: "last-minute", password: "last minute pass 1", role: "user" });
    const status = await lb.scheduler.scheduleStatus();
    expect(status.pendingChange).toMatchObject({ changes: 1, since: "2026-11-26T10:00:00.000Z", dueAt: "2026-11-26T10:00:05.000Z" });
    expect(await changeBackups(lb)).toEqual([]);

    await lb.close(); // time never reached the quiet window

    const after = await changeBackups(lb);
    expect(after).toHaveLength(1);
    const rows = await queryBackup(path.join(lb.config.backupDir, after[0]!.name), "SELECT username FROM lifeboat_users ORDER BY username");
    expect(rows).toContain("last-minute");
  });

  it("waits for a running backup and then takes the change backup", async () => {
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" }, { at: "2026-11-26T10:00:00Z" });
    await lb.users.createUser(ADMIN.username, { username: "during-backup", password: "during backup 123", role: "user" });
    const manual = lb.backups.createBackup({ trigger: "manual", actor: "admin" }); // holds the engine
    await lb.time.advance(5000); // the change backup is due now, and finds the engine busy
    await manual;
    await lb.scheduler.idle();
    const files = await lb.files();
    expect(files.map((b) => b.trigger).sort()).toEqual(["change", "manual"]);
    expect(lb.logs.some((l) => l.msg === "change backup waits for the running backup or import to finish")).toBe(true);
    const change = files.find((b) => b.trigger === "change")!;
    const rows = await queryBackup(path.join(lb.config.backupDir, change.name), "SELECT username FROM lifeboat_users");
    expect(rows).toContain("during-backup");
  });
});
