import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.ts";
import {
  claimPeriod,
  finishPeriod,
  readPeriod,
  releaseClaim,
  renewClaim,
  scheduleSince,
} from "../../src/schedule/lease.ts";
import { tempDir } from "../support/temp.ts";

const clients: Client[] = [];
afterEach(() => {
  while (clients.length) clients.pop()!.close();
});

async function db(): Promise<Client> {
  const file = path.join(await tempDir(), "app.db");
  const client = createClient({ url: `file:${file}`, intMode: "bigint" });
  clients.push(client);
  await runMigrations(client);
  return client;
}

const slotAt = new Date("2026-11-26T00:00:00Z");
const at = (min: number) => new Date(slotAt.getTime() + min * 60_000);
const claim = (c: Client, holder: string, now: Date, extra: { replaceMissing?: string } = {}) =>
  claimPeriod(c, { periodKey: "2026-11-26T00:00", slotAt, holder, source: "timer", now, leaseMs: 30 * 60_000, ...extra });

describe("period claims (the lease in the database)", () => {
  it("lets exactly one holder claim a period", async () => {
    const c = await db();
    expect(await claim(c, "a", at(0))).toBe(true);
    expect(await claim(c, "b", at(1))).toBe(false);
    expect(await claim(c, "a", at(1))).toBe(false); // not even the holder twice
    expect((await readPeriod(c, "2026-11-26T00:00"))?.holder).toBe("a");
  });

  it("refuses a done period, and lets a failed one be claimed again", async () => {
    const c = await db();
    await claim(c, "a", at(0));
    await finishPeriod(c, { periodKey: "2026-11-26T00:00", holder: "a", now: at(1), error: "disk full" });
    expect(await claim(c, "b", at(2))).toBe(true);
    await finishPeriod(c, { periodKey: "2026-11-26T00:00", holder: "b", now: at(3), backupName: "x.sql" });
    expect(await claim(c, "a", at(4))).toBe(false);
    const run = await readPeriod(c, "2026-11-26T00:00");
    expect(run).toMatchObject({ status: "done", holder: "b", backupName: "x.sql", error: null });
  });

  it("lets the next run take over a claim whose holder crashed, once the lease expired", async () => {
    const c = await db();
    await claim(c, "crashed", at(0));
    expect(await claim(c, "b", at(29))).toBe(false);
    expect(await claim(c, "b", at(30))).toBe(true);
    // the old holder can no longer record an outcome or renew
    expect(await finishPeriod(c, { periodKey: "2026-11-26T00:00", holder: "crashed", now: at(31), backupName: "late.sql" })).toBe(false);
    expect(await renewClaim(c, "2026-11-26T00:00", "crashed", at(31))).toBe(false);
  });

  it("keeps a renewed claim alive past the first expiry", async () => {
    const c = await db();
    await claim(c, "a", at(0));
    expect(await renewClaim(c, "2026-11-26T00:00", "a", at(20), 30 * 60_000)).toBe(true);
    expect(await claim(c, "b", at(45))).toBe(false);
    expect(await claim(c, "b", at(50))).toBe(true);
  });

  it("replaces a done period only when its backup is the one reported missing", async () => {
    const c = await db();
    await claim(c, "a", at(0));
    await finishPeriod(c, { periodKey: "2026-11-26T00:00", holder: "a", now: at(1), backupName: "gone.sql" });
    expect(await claim(c, "b", at(2), { replaceMissing: "other.sql" })).toBe(false);
    expect(await claim(c, "b", at(2), { replaceMissing: "gone.sql" })).toBe(true);
  });

  it("gives a claim back so the period can be claimed again", async () => {
    const c = await db();
    await claim(c, "a", at(0));
    await releaseClaim(c, "2026-11-26T00:00", "b"); // not b's to release
    expect(await claim(c, "b", at(1))).toBe(false);
    await releaseClaim(c, "2026-11-26T00:00", "a");
    expect(await claim(c, "b", at(1))).toBe(true);
  });

  it("records when the schedule first ran, once", async () => {
    const c = await db();
    expect((await scheduleSince(c, at(0))).toISOString()).toBe(at(0).toISOString());
    expect((await scheduleSince(c, at(60))).toISOString()).toBe(at(0).toISOString());
  });
});
