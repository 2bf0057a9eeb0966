import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.ts";
import { TooManyRequestsError } from "../../src/errors.ts";
import { createLoginRateLimiter } from "../../src/auth/rate-limit.ts";

function movableClock(start = Date.parse("2030-01-01T00:00:00Z")) {
  let now = start;
  const clock: Clock = { now: () => new Date(now) };
  return { clock, advance: (ms: number) => (now += ms) };
}

function blocked(fn: () => void): TooManyRequestsError | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof TooManyRequestsError) return err;
    throw err;
  }
}

describe("login rate limiter", () => {
  it("blocks the 6th attempt on one username from one client for the rest of the 15-minute window", () => {
    const { clock, advance } = movableClock();
    const limiter = createLoginRateLimiter({ clock });
    for (let i = 0; i < 5; i++) {
      expect(blocked(() => limiter.attempt("10.0.0.1", "admin"))).toBeNull();
      advance(60_000);
    }
    const err = blocked(() => limiter.attempt("10.0.0.1", "ADMIN"));
    expect(err?.retryAfterSeconds).toBe(600); // the first failure (at 0) ages out at 15:00, it is 5:00 now
    expect(err?.message).toMatch(/Try again in 10 minutes/);
    // other usernames from that client and that username from elsewhere are not blocked
    expect(blocked(() => limiter.attempt("10.0.0.1", "someone-else"))).toBeNull();
    expect(blocked(() => limiter.attempt("10.0.0.2", "admin"))).toBeNull();
    advance(600_000);
    expect(blocked(() => limiter.attempt("10.0.0.1", "admin"))).toBeNull();
  });

  it("blocks a client after 20 failures whatever the usernames", () => {
    const { clock } = movableClock();
    const limiter = createLoginRateLimiter({ clock });
    for (let i = 0; i < 20; i++) expect(blocked(() => limiter.attempt("10.0.0.9", `user${i}`))).toBeNull();
    expect(blocked(() => limiter.attempt("10.0.0.9", "fresh-name"))?.retryAfterSeconds).toBe(900);
    expect(blocked(() => limiter.attempt("10.0.0.8", "fresh-name"))).toBeNull();
  });

  it("a success clears that username's failures; a cancelled attempt does not count", () => {
    const { clock } = movableClock();
    const limiter = createLoginRateLimiter({ clock });
    for (let i = 0; i < 4; i++) limiter.attempt("c", "ann");
    limiter.attempt("c", "ann");
    limiter.succeeded("c", "ann");
    for (let i = 0; i < 5; i++) expect(blocked(() => limiter.attempt("c", "ann"))).toBeNull();
    expect(blocked(() => limiter.attempt("c", "ann"))).not.toBeNull();

    const other = createLoginRateLimiter({ clock });
    for (let i = 0; i < 4; i++) other.attempt("c", "bob");
    for (let i = 0; i < 10; i++) {
      other.attempt("c", "bob");
      other.cancel("c", "bob");
    }
    expect(blocked(() => other.attempt("c", "bob"))).toBeNull();
    expect(blocked(() => other.attempt("c", "bob"))).not.toBeNull();
  });

  it("keeps a bounded number of keys", () => {
    const { clock } = movableClock();
    const limiter = createLoginRateLimiter({ clock, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.attempt(`10.1.${i >> 8}.${i & 255}`, "admin");
    // the newest clients are still tracked (one failure each)...
    for (let i = 0; i < 4; i++) limiter.attempt("10.1.39.15", "admin");
    expect(blocked(() => limiter.attempt("10.1.39.15", "admin"))).not.toBeNull();
    // ...the oldest were forgotten: five fresh attempts pass where four would have before
    for (let i = 0; i < 5; i++) expect(blocked(() => limiter.attempt("10.1.0.0", "admin"))).toBeNull();
  });
});
