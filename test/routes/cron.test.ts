import { describe, expect, it } from "vitest";
import { adminToken, ADMIN, bootScheduled, CRON_SECRET } from "../schedule/support/boot.ts";

type CronBody = { name: string; trigger: string; periodKey: string; created: boolean; actor: string | null };

function trigger(lb: { app: { request: (p: string, i?: RequestInit) => Response | Promise<Response> } }, auth?: string, query = "") {
  return lb.app.request(`/api/cron/backup${query}`, {
    method: "POST",
    headers: auth === undefined ? {} : { Authorization: auth },
  });
}

describe("POST /api/cron/backup", () => {
  it("shares the period with the timer: the timer's backup answers 200, force=true makes a new one (201)", async () => {
    const lb = await bootScheduled({ CRON_SECRET }, { at: "2026-11-25T23:59:00Z" });
    await lb.time.advanceTo("2026-11-26T00:00:30Z"); // the timer takes the midnight backup
    await lb.scheduler.idle();
    const [byTimer] = await lb.files();
    expect(byTimer).toMatchObject({ trigger: "scheduled", periodKey: "2026-11-26T00:00", actor: "scheduler" });

    const again = await trigger(lb, `Bearer ${CRON_SECRET}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ name: byTimer!.name, created: false, periodKey: "2026-11-26T00:00" });
    expect(await lb.files()).toHaveLength(1);

    const forced = await trigger(lb, `Bearer ${CRON_SECRET}`, "?force=true");
    expect(forced.status).toBe(201);
    const forcedBody = (await forced.json()) as CronBody;
    expect(forcedBody).toMatchObject({ created: true, trigger: "scheduled", periodKey: "2026-11-26T00:00", actor: "cron" });
    expect(forcedBody.name).not.toBe(byTimer!.name);
    expect(await lb.files()).toHaveLength(2);

    // the period now answers with the newest one
    const after = (await (await trigger(lb, `Bearer ${CRON_SECRET}`)).json()) as CronBody;
    expect(after).toMatchObject({ name: forcedBody.name, created: false });
  });

  it("makes the period's backup first (201), after which the timer makes none for that period", async () => {
    const lb = await bootScheduled({ CRON_SECRET }, { at: "2026-11-25T23:00:00Z" });
    lb.time.set("2026-11-26T00:00:00Z"); // the external cron is a moment faster than our timer
    const first = await trigger(lb, `Bearer ${CRON_SECRET}`);
    expect(first.status).toBe(201);
    const body = (await first.json()) as CronBody;
    expect(body).toMatchObject({ created: true, periodKey: "2026-11-26T00:00", trigger: "scheduled", actor: "cron" });
    expect(first.headers.get("cache-control")).toBe("no-store");

    await lb.time.advanceTo("2026-11-26T00:05:00Z"); // now the timer fires for the same period
    await lb.scheduler.idle();
    expect((await lb.files()).map((b) => b.name)).toEqual([body.name]);
    expect(lb.logs.some((l) => l.msg === "scheduled backup already taken for this period")).toBe(true);

    const second = await trigger(lb, `Bearer ${CRON_SECRET}`);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ name: body.name, created: false });
  });

  it("takes the period's backup again when the recorded one was deleted", async () => {
    const lb = await bootScheduled({ CRON_SECRET }, { at: "2026-11-26T06:00:00Z" });
    const first = (await (await trigger(lb, `Bearer ${CRON_SECRET}`)).json()) as CronBody;
    await lb.backups.deleteBackup(first.name);
    lb.time.set("2026-11-26T07:00:00Z");
    const res = await trigger(lb, `Bearer ${CRON_SECRET}`);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: "lifeboat-20261126-070000-scheduled.sql", periodKey: "2026-11-26T00:00" });
  });

  it("uses daily periods in BACKUP_TIMEZONE when the in-process schedule is off", async () => {
    const lb = await bootScheduled({ CRON_SECRET, BACKUP_SCHEDULE: "off", BACKUP_TIMEZONE: "Asia/Tokyo" }, { at: "2026-11-26T06:00:00Z" });
    const res = await trigger(lb, `Bearer ${CRON_SECRET}`);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ periodKey: "2026-11-26T00:00" }); // 15:00 in Tokyo
    lb.time.set("2026-11-26T14:59:00Z"); // 23:59 in Tokyo: same day
    expect((await trigger(lb, `Bearer ${CRON_SECRET}`)).status).toBe(200);
    lb.time.set("2026-11-26T15:00:00Z"); // midnight in Tokyo: a new period
    const next = await trigger(lb, `Bearer ${CRON_SECRET}`);
    expect(next.status).toBe(201);
    expect(await next.json()).toMatchObject({ periodKey: "2026-11-27T00:00" });
  });

  describe("authorization", () => {
    it("answers 404 when CRON_SECRET is unset and no credentials are presented", async () => {
      const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" });
      const res = await trigger(lb);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
      expect(await lb.files()).toEqual([]);
    });

    it("answers 401 to a wrong CRON_SECRET and makes no backup", async () => {
      const lb = await bootScheduled({ CRON_SECRET, BACKUP_SCHEDULE: "off" });
      for (const auth of [undefined, "Bearer wrong-secret-0123456789", `Bearer ${CRON_SECRET}x`, `Basic ${CRON_SECRET}`, "Bearer"]) {
        const res = await trigger(lb, auth);
        expect(res.status, String(auth)).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
      expect(await lb.files()).toEqual([]);
      // the secret never reaches the log
      expect(JSON.stringify(lb.logs)).not.toContain(CRON_SECRET);
    });

    it("accepts an admin token, with or without CRON_SECRET, and refuses a user token (403)", async () => {
      const lb = await bootScheduled({ BACKUP_SCHEDULE: "off" }, { at: "2026-11-26T06:00:00Z" });
      const token = await adminToken(lb);
      const res = await trigger(lb, `Bearer ${token}`);
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ actor: ADMIN.username, created: true });

      await lb.users.createUser(ADMIN.username, { username: "viewer", password: "viewer password 123", role: "user" });
      const login = await lb.app.request("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "viewer", password: "viewer password 123" }),
      });
      const userToken = ((await login.json()) as { token: string }).token;
      expect((await trigger(lb, `Bearer ${userToken}`)).status).toBe(403);
    });

    it("checks who is asking before the input: a bad force value is 400 only for an authorized caller", async () => {
      const lb = await bootScheduled({ CRON_SECRET, BACKUP_SCHEDULE: "off" });
      expect((await trigger(lb, "Bearer nope-nope-nope-nope", "?force=maybe")).status).toBe(401);
      const res = await trigger(lb, `Bearer ${CRON_SECRET}`, "?force=maybe");
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/force must be true or false/);
      expect(await lb.files()).toEqual([]);
    });

    it("answers 409 while another backup runs, and makes the period's backup on the next call", async () => {
      const lb = await bootScheduled({ CRON_SECRET, BACKUP_SCHEDULE: "off" }, { at: "2026-11-26T06:00:00Z" });
      const manual = lb.backups.createBackup({ trigger: "manual", actor: "admin" });
      const busy = await trigger(lb, `Bearer ${CRON_SECRET}`);
      expect(busy.status).toBe(409);
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe("busy");
      await manual;
      const res = await trigger(lb, `Bearer ${CRON_SECRET}`);
      expect(res.status).toBe(201);
      expect((await lb.files()).map((b) => b.trigger)).toEqual(["manual", "scheduled"]);
    });
  });
});
