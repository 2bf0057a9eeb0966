import { describe, expect, it } from "vitest";
import type { BackupMeta, BackupTrigger } from "../../src/backups/types.ts";
import { selectBackupsToPrune } from "../../src/schedule/retention.ts";

const NOW = new Date("2026-11-26T12:00:00Z");
const DAY = 24 * 60 * 60 * 1000;

function backup(trigger: BackupTrigger | "unknown", ageMs: number, extra: Partial<BackupMeta> = {}): BackupMeta {
  const created = new Date(NOW.getTime() - ageMs);
  const stamp = created.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return {
    name: `lifeboat-${stamp}-${trigger}.sql`,
    createdAt: created.toISOString(),
    size: 100,
    trigger,
    actor: null,
    sha256: null,
    compressed: false,
    encrypted: false,
    rowCounts: null,
    pinned: false,
    ...extra,
  };
}

const policy = { keepScheduled: 3, keepChange: 2, keepOtherDays: 30 };

describe("selectBackupsToPrune", () => {
  it("keeps exactly the newest N scheduled and change backups and removes the rest", () => {
    const scheduled = Array.from({ length: 6 }, (_, i) => backup("scheduled", (i + 1) * DAY));
    const change = Array.from({ length: 5 }, (_, i) => backup("change", i * 3600_000 + 60_000));
    const list = [...scheduled, ...change].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const out = selectBackupsToPrune(list, policy, NOW);
    expect(out.map((d) => d.name).sort()).toEqual([...scheduled.slice(3), ...change.slice(2)].map((b) => b.name).sort());
    expect(out.find((d) => d.name === scheduled[5]!.name)?.reason).toMatch(/more than 3 scheduled backups/);
    expect(out.find((d) => d.name === change[4]!.name)?.reason).toMatch(/more than 2 change backups/);
  });

  it("knows which of two backups taken in the same second is newer (…-2.sql after ….sql), also off-site where times are whole seconds", () => {
    const first = backup("scheduled", DAY, { createdAt: "2026-11-25T12:00:00.000Z" });
    const second = { ...first, name: first.name.replace(".sql", "-2.sql") };
    const third = { ...first, name: first.name.replace(".sql", "-10.sql") };
    for (const list of [[first, second, third], [third, second, first], [second, third, first]]) {
      const out = selectBackupsToPrune(list, { ...policy, keepScheduled: 1 }, NOW);
      expect(out.map((d) => d.name).sort()).toEqual([first.name, second.name].sort());
    }
  });

  it("removes other kinds only when older than the configured days", () => {
    const young = ["manual", "upload", "pre-import", "pre-migration", "unknown"].map((t) =>
      backup(t as BackupTrigger, 29 * DAY),
    );
    const old = ["manual", "upload", "pre-import", "pre-migration", "unknown"].map((t) =>
      backup(t as BackupTrigger, 31 * DAY),
    );
    const newest = backup("scheduled", 0);
    const out = selectBackupsToPrune([newest, ...young, ...old], policy, NOW);
    expect(out.map((d) => d.name).sort()).toEqual(old.map((b) => b.name).sort());
    expect(out[0]!.reason).toMatch(/older than 30 days/);
  });

  it("never removes pinned backups and does not count them against the limit", () => {
    const list = Array.from({ length: 6 }, (_, i) => backup("scheduled", (i + 1) * DAY, { pinned: i === 1 || i === 5 }));
    const out = selectBackupsToPrune(list, policy, NOW);
    // unpinned: 0,2,3,4 → keep 0,2,3; remove 4; pinned 1 and 5 stay
    expect(out.map((d) => d.name)).toEqual([list[4]!.name]);
    const oldPinned = backup("manual", 400 * DAY, { pinned: true });
    expect(selectBackupsToPrune([backup("manual", 0), oldPinned], policy, NOW)).toEqual([]);
  });

  it("never removes the newest backup overall, even when its kind is over the limit", () => {
    const onlyOld = backup("manual", 90 * DAY);
    expect(selectBackupsToPrune([onlyOld], policy, NOW)).toEqual([]);
    const strict = { keepScheduled: 1, keepChange: 1, keepOtherDays: 1 };
    const newest = backup("pre-import", 40 * DAY);
    const older = backup("pre-import", 41 * DAY);
    expect(selectBackupsToPrune([newest, older], strict, NOW).map((d) => d.name)).toEqual([older.name]);
  });

  it("keeps a backup whose time cannot be read", () => {
    const odd = { ...backup("unknown", 0), createdAt: "not a date" };
    expect(selectBackupsToPrune([backup("manual", 0), odd], policy, NOW)).toEqual([]);
  });
});
