import type { Timers } from "../clock.ts";
import type { Logger } from "../logger.ts";

/** The JSON body POSTed to BACKUP_WEBHOOK_URL when a scheduled or change backup fails. @internal the webhook test reads it. */
export interface BackupFailedPayload {
  event: "backup.failed";
  trigger: "scheduled" | "change";
  error: string;
  /** ISO 8601 time of the failure. */
  at: string;
  /** Which Lifeboat instance failed (host/pid/random), useful with several instances. */
  instance: string;
  /** The scheduled period, for scheduled backups. */
  periodKey: string | null;
}

/** POSTed when a backup could not be copied off-site (its first failed attempt; retries continue). */
interface OffsiteFailedPayload {
  event: "backup.offsite_failed";
  /** The backup that is still only here. */
  name: string;
  trigger: string;
  error: string;
  at: string;
  instance: string;
  /** When the next attempt is due. */
  nextAttemptAt: string | null;
}

/** Every notice the webhook receives. */
type WebhookPayload = BackupFailedPayload | OffsiteFailedPayload;

export interface WebhookOptions {
  url: string;
  logger: Logger;
  timers: Timers;
  /** Attempts in all, the first included (default 6). */
  attempts?: number;
  /** Delay before the first retry; doubles each time (default 2 s). */
  baseDelayMs?: number;
  /** Ceiling for one back-off delay (default 5 min). */
  maxDelayMs?: number;
  /** Time one attempt may take (default 10 s). */
  timeoutMs?: number;
}

export interface WebhookNotifier {
  /** Queues a delivery and returns at once: the caller is never held up by the receiver. */
  notify(payload: WebhookPayload): void;
  /**
   * Cancels pending back-off waits and makes one last attempt (with a short
   * timeout) for every undelivered payload, so a failure found while shutting
   * down still goes out. Bounded by `timeoutMs`.
   */
  close(): Promise<void>;
  /** Deliveries not yet delivered or abandoned. */
  readonly pending: number;
}

/** Statuses worth retrying: the receiver may answer differently later. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Posts failure notices to a webhook with retries and exponential back-off.
 * Never throws into the caller. The URL may carry a secret (a token in the
 * path or query), so logs name only its origin.
 */
export function createWebhookNotifier(options: WebhookOptions): WebhookNotifier {
  const attempts = options.attempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 2000;
  const maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const target = new URL(options.url).origin;
  const log = options.logger.child({ webhook: target });

  interface Delivery {
    payload: WebhookPayload;
    attempt: number;
    timer: unknown;
    inFlight: Promise<void> | null;
  }
  const queue = new Set<Delivery>();
  let closed = false;

  /** One POST: delivered, worth retrying, or hopeless (a 4xx the receiver will repeat). */
  async function post(payload: WebhookPayload, ms: number): Promise<{ ok: boolean; retry: boolean; detail: string }> {
    try {
      const res = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "lifeboat-webhook" },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(ms),
        redirect: "error",
      });
      await res.body?.cancel();
      return { ok: res.ok, retry: !res.ok && RETRYABLE.has(res.status), detail: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, retry: true, detail: (err as Error).message };
    }
  }

  function attempt(d: Delivery): void {
    d.timer = null;
    d.attempt++;
    d.inFlight = (async () => {
      const { ok, retry, detail } = await post(d.payload, timeoutMs);
      d.inFlight = null;
      if (ok) {
        queue.delete(d);
        log.info("webhook delivered", { event: d.payload.event, attempt: d.attempt });
        return;
      }
      if (!retry || d.attempt >= attempts || closed) {
        queue.delete(d);
        log.error("webhook delivery abandoned", { event: d.payload.event, attempts: d.attempt, result: detail });
        return;
      }
      const delay = Math.min(baseDelayMs * 2 ** (d.attempt - 1), maxDelayMs);
      log.warn("webhook delivery failed; will retry", { attempt: d.attempt, result: detail, retryInMs: delay });
      d.timer = options.timers.setTimeout(() => attempt(d), delay);
    })();
  }

  return {
    notify(payload) {
      if (closed) return;
      const d: Delivery = { payload, attempt: 0, timer: null, inFlight: null };
      queue.add(d);
      attempt(d);
    },
    get pending() {
      return queue.size;
    },
    async close() {
      closed = true;
      const last: Promise<void>[] = [];
      for (const d of [...queue]) {
        if (d.inFlight) {
          last.push(d.inFlight);
          continue;
        }
        options.timers.clearTimeout(d.timer);
        queue.delete(d);
        last.push(
          post(d.payload, Math.min(timeoutMs, 3000)).then(({ ok, detail }) => {
            if (ok) log.info("webhook delivered", { event: d.payload.event, attempt: d.attempt + 1 });
            else log.error("webhook delivery abandoned at shutdown", { event: d.payload.event, result: detail });
          }),
        );
      }
      await Promise.all(last);
    },
  };
}
