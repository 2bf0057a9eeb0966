import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ADMIN, bootScheduled } from "./support/boot.ts";
import { eventually } from "../support/wait.ts";
import { webhookServer } from "./support/webhook-server.ts";

type Readiness = { status: string; checks: Record<string, { ok: boolean; reason?: string; degraded?: boolean }> };

describe("failed automatic backups", () => {
  it("reach the status, the log, the webhook (after a retry) and /readyz", async () => {
    const hook = await webhookServer([500]);
    const lb = await bootScheduled({ BACKUP_WEBHOOK_URL: hook.url }, { at: "2026-11-25T23:00:00Z" });
    // A virtual table of a module Lifeboat does not support (geopoly): the engine refuses to back up.
    await lb.db.execute("CREATE VIRTUAL TABLE notes USING geopoly(body)");

    await lb.time.advanceTo("2026-11-26T00:00:30Z");
    await lb.scheduler.idle();
    expect(await lb.files()).toEqual([]);

    const status = await lb.scheduler.scheduleStatus();
    expect(status.lastRuns.scheduled).toMatchObject({ name: null, size: null, periodKey: "2026-11-26T00:00" });
    expect(status.lastRuns.scheduled?.error).toMatch(/virtual table/);

    const logged = lb.logs.find((l) => l.msg === "automatic backup failed");
    expect(logged).toMatchObject({ level: "error", trigger: "scheduled", periodKey: "2026-11-26T00:00" });
    expect(String(logged!.error)).toMatch(/virtual table/);

    // first delivery answered 500; the retry waits 2 s on the (manual) clock
    await hook.waitFor(1);
    await eventually(() => lb.logs.some((l) => l.msg === "webhook delivery failed; will retry" && l.retryInMs === 2000), "webhook retry");
    expect(hook.received).toHaveLength(1); // nothing more until the back-off has passed
    await lb.time.advance(2000);
    await hook.waitFor(2);
    expect(hook.received.map((r) => r.status)).toEqual([500, 204]);
    expect(hook.received[1]!.body).toEqual({
      event: "backup.failed",
      trigger: "scheduled",
      error: expect.stringMatching(/virtual table/),
      at: "2026-11-26T00:00:00.000Z",
      instance: lb.scheduler.instanceId,
      periodKey: "2026-11-26T00:00",
    });

    const ready = await lb.app.request("/readyz");
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as Readiness;
    expect(body.status).toBe("degraded");
    expect(body.checks.scheduledBackups).toMatchObject({ ok: false, degraded: true });
    expect(body.checks.scheduledBackups?.reason).toMatch(/last scheduled backup \(period 2026-11-26T00:00\) failed/);

    // fixed: the next run succeeds and /readyz is ready again
    await lb.db.execute("DROP TABLE notes");
    await lb.time.advanceTo("2026-11-27T00:00:30Z");
    await lb.scheduler.idle();
    expect(((await (await lb.app.request("/readyz")).json()) as Readiness).status).toBe("ready");
    expect((await lb.scheduler.scheduleStatus()).lastRuns.scheduled).toMatchObject({ error: null, periodKey: "2026-11-27T00:00" });
  });

  it("reports a failed change backup the same way", async () => {
    const hook = await webhookServer([]);
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "off", BACKUP_WEBHOOK_URL: hook.url }, { at: "2026-11-26T10:00:00Z" });
    await lb.db.execute("CREATE VIRTUAL TABLE notes USING geopoly(body)");
    await lb.users.createUser(ADMIN.username, { username: "changed", password: "a long password 1", role: "user" });
    await lb.time.advance(5000);
    await lb.scheduler.idle();
    await hook.waitFor(1);
    expect(hook.received[0]!.body).toMatchObject({ event: "backup.failed", trigger: "change", periodKey: null });
    expect((await lb.scheduler.scheduleStatus()).lastRuns.change?.error).toMatch(/virtual table/);
    expect(lb.logs.some((l) => l.msg === "automatic backup failed" && l.trigger === "change" && l.level === "error")).toBe(true);
  });

  it("/readyz turns degraded when the scheduled backup is overdue by more than the grace period", async () => {
    const lb = await bootScheduled({}, { at: "2026-11-25T10:00:00Z" });
    const check = async () => ((await (await lb.app.request("/readyz")).json()) as Readiness).checks.scheduledBackups;
    expect(await check()).toEqual({ ok: true });
    lb.time.set("2026-11-26T01:59:00Z"); // the timer has not fired (say, the host was suspended): within the grace
    expect(await check()).toEqual({ ok: true });
    lb.time.set("2026-11-26T02:00:01Z");
    const overdue = await check();
    expect(overdue).toMatchObject({ ok: false, degraded: true });
    expect(overdue?.reason).toMatch(/no scheduled backup since the run due at 2026-11-26T00:00 \(UTC\)/);
    await lb.time.advance(1); // the late timer fires
    await lb.scheduler.idle();
    expect(await check()).toEqual({ ok: true });
  });

  it("/readyz does not judge the schedule when it is off", async () => {
    const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" }, { at: "2026-11-25T10:00:00Z" });
    lb.time.set("2026-12-25T10:00:00Z");
    const body = (await (await lb.app.request("/readyz")).json()) as Readiness;
    expect(body.checks.scheduledBackups).toEqual({ ok: true });
  });

  it("a shutdown does not wait long for a folder another host keeps busy: the pending change backup is reported", async () => {
    const hook = await webhookServer([]);
    const lb = await bootScheduled(
      { BACKUP_SCHEDULE: "off", BACKUP_WEBHOOK_URL: hook.url },
      { at: "2026-11-26T10:00:00Z", scheduler: { shutdownBusyWaitMs: 1500, busyRetryMs: 200 } },
    );
    await lb.users.createUser(ADMIN.username, { username: "unsaved", password: "a long password 1", role: "user" });
    // What another Lifeboat sharing the folder leaves while it backs up (on another host, so it is not stale).
    const lock = {
      kind: "import",
      trigger: null,
      host: "elsewhere",
      pid: 4242,
      token: "x",
      startedAt: new Date().toISOString(),
    };
    await fs.writeFile(path.join(lb.config.backupDir, ".lifeboat.lock"), JSON.stringify(lock));

    await lb.close();

    expect((await lb.files()).filter((b) => b.trigger === "change")).toEqual([]);
    const failed = lb.logs.find((l) => l.msg === "automatic backup failed");
    expect(failed).toMatchObject({ level: "error", trigger: "change" });
    expect(String(failed!.error)).toMatch(/Another backup or import is running: an import \(process 4242 on elsewhere/);
    expect(hook.received.map((r) => (r.body as { trigger: string }).trigger)).toEqual(["change"]);
  });
});
