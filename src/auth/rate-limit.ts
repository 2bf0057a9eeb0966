import type { Clock } from "../clock.ts";
import { TooManyRequestsError } from "../errors.ts";

/** At most `max` failures within any `windowMs`. */
interface RateLimitRule {
  max: number;
  windowMs: number;
}

export interface LoginRateLimiterOptions {
  clock: Clock;
  /** Failures for one username from one client. Default: 5 per 15 minutes. */
  perUsername?: RateLimitRule;
  /** Failures from one client, whatever the username. Default: 20 per 15 minutes. */
  perClient?: RateLimitRule;
  /** Keys remembered at most; the oldest are forgotten first, so memory stays bounded. */
  maxKeys?: number;
}

export interface LoginRateLimiter {
  /**
   * Throws `TooManyRequestsError` (with the seconds to wait) when this client, or
   * this username from this client, is blocked. Otherwise counts the attempt as a
   * failure right away, so parallel guesses cannot all slip through before the
   * first one fails; `succeeded` takes it back.
   */
  attempt(client: string, username: string): void;
  /** The attempt succeeded: forget the username's failures from this client and un-count it. */
  succeeded(client: string, username: string): void;
  /** The attempt was no guess after all (e.g. malformed input): un-count it, keep earlier failures. */
  cancel(client: string, username: string): void;
}

const FIFTEEN_MINUTES = 15 * 60_000;

/**
 * In-memory sliding-window limiter for password guesses. No timers: old
 * entries are dropped when a key is touched, and the key count is capped.
 * Per process: several instances behind a balancer each keep their own count.
 */
export function createLoginRateLimiter(options: LoginRateLimiterOptions): LoginRateLimiter {
  const perUsername = options.perUsername ?? { max: 5, windowMs: FIFTEEN_MINUTES };
  const perClient = options.perClient ?? { max: 20, windowMs: FIFTEEN_MINUTES };
  const maxKeys = options.maxKeys ?? 10_000;
  const failures = new Map<string, number[]>();

  const userKey = (client: string, username: string) => `u\n${client}\n${username.toLowerCase()}`;
  const clientKey = (client: string) => `c\n${client}`;

  function recent(key: string, rule: RateLimitRule, now: number): number[] {
    const list = failures.get(key);
    if (!list) return [];
    const kept = list.filter((t) => t > now - rule.windowMs);
    if (kept.length === 0) failures.delete(key);
    else failures.set(key, kept);
    return kept;
  }

  function add(key: string, rule: RateLimitRule, now: number): void {
    const list = recent(key, rule, now);
    list.push(now);
    // Re-insert so Map order is "least recently failed first" for eviction.
    failures.delete(key);
    failures.set(key, list.slice(-rule.max));
    while (failures.size > maxKeys) failures.delete(failures.keys().next().value!);
  }

  function uncount(key: string): void {
    const list = failures.get(key);
    list?.pop();
    if (list && list.length === 0) failures.delete(key);
  }

  function blockedFor(key: string, rule: RateLimitRule, now: number): number {
    const list = recent(key, rule, now);
    if (list.length < rule.max) return 0;
    // The window frees a slot when the oldest counted failure ages out.
    const oldest = list[list.length - rule.max]!;
    return Math.max(1, Math.ceil((oldest + rule.windowMs - now) / 1000));
  }

  return {
    attempt(client, username) {
      const now = options.clock.now().getTime();
      const wait = Math.max(blockedFor(userKey(client, username), perUsername, now), blockedFor(clientKey(client), perClient, now));
      if (wait > 0) {
        throw new TooManyRequestsError(
          `Too many failed sign-in attempts. Try again in ${wait >= 120 ? `${Math.ceil(wait / 60)} minutes` : `${wait} seconds`}.`,
          wait,
        );
      }
      add(userKey(client, username), perUsername, now);
      add(clientKey(client), perClient, now);
    },
    succeeded(client, username) {
      failures.delete(userKey(client, username));
      uncount(clientKey(client));
    },
    cancel(client, username) {
      uncount(userKey(client, username));
      uncount(clientKey(client));
    },
  };
}
