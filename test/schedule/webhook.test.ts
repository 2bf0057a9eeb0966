import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { createWebhookNotifier, type BackupFailedPayload } from "../../src/schedule/webhook.ts";
import { manualTime } from "./support/manual-time.ts";
import { eventually } from "../support/wait.ts";
import { webhookServer } from "./support/webhook-server.ts";

function setup(url: string, attempts = 4) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const time = manualTime("2026-11-26T00:00:00Z");
  const notifier = createWebhookNotifier({ url, logger, timers: time, attempts, baseDelayMs: 1000 });
  return { lines, time, notifier };
}

const payload: BackupFailedPayload = {
  event: "backup.failed",
  trigger: "scheduled",
  error: "disk full",
  at: "2026-11-26T00:00:01.000Z",
  instance: "host/1/abc",
  periodKey: "2026-11-26T00:00",
};

describe("backup failure webhook", () => {
  it("retries after a failed attempt with growing back-off and delivers the JSON payload", async () => {
    const server = await webhookServer([500, 503]);
    const { lines, time, notifier } = setup(server.url);
    notifier.notify(payload); // returns at once
    await server.waitFor(1);
    await eventually(() => time.pendingTimers().length === 1, "first retry to be scheduled");
    expect(time.pendingTimers()).toEqual(["2026-11-26T00:00:01.000Z"]);
    await time.advance(1000);
    await server.waitFor(2);
    await eventually(() => time.pendingTimers().length === 1, "second retry to be scheduled");
    expect(time.pendingTimers()).toEqual(["2026-11-26T00:00:03.000Z"]); // 2 s later: doubled
    await time.advance(2000);
    await server.waitFor(3);
    await eventually(() => notifier.pending === 0, "delivery");
    expect(server.received.map((r) => r.status)).toEqual([500, 503, 204]);
    expect(server.received[2]!.body).toEqual(payload);
    expect(server.received[2]!.contentType).toBe("application/json");
    expect(lines.some((l) => l.msg === "webhook delivered")).toBe(true);
    // the URL's query (a secret) never reaches the log
    expect(JSON.stringify(lines)).not.toContain("s3cret-in-query");
  });

  it("gives up after the last attempt and logs it as an error", async () => {
    const server = await webhookServer([500, 500]);
    const { lines, time, notifier } = setup(server.url, 2);
    notifier.notify(payload);
    await server.waitFor(1);
    await eventually(() => time.pendingTimers().length === 1, "retry");
    await time.advance(1000);
    await server.waitFor(2);
    await eventually(() => notifier.pending === 0, "abandon");
    expect(lines.find((l) => l.msg === "webhook delivery abandoned")).toMatchObject({ level: "error", attempts: 2 });
  });

  it("does not retry a request the receiver refuses (4xx)", async () => {
    const server = await webhookServer([404]);
    const { time, notifier } = setup(server.url);
    notifier.notify(payload);
    await server.waitFor(1);
    await eventually(() => notifier.pending === 0, "abandon");
    expect(time.pendingTimers()).toEqual([]);
  });

  it("makes a last attempt at shutdown for a delivery waiting to retry", async () => {
    const server = await webhookServer([500]);
    const { time, notifier } = setup(server.url);
    notifier.notify(payload);
    await server.waitFor(1);
    await eventually(() => time.pendingTimers().length === 1, "retry");
    await notifier.close();
    expect(server.received.map((r) => r.status)).toEqual([500, 204]);
    expect(time.pendingTimers()).toEqual([]);
  });
});
