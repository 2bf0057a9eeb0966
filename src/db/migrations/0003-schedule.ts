import type { Migration } from "./types.ts";

/**
 * One row per scheduled period. The row is the lease: an instance claims a
 * period with one conditional INSERT … ON CONFLICT DO UPDATE … WHERE, so of
 * several instances sharing the database exactly one takes each scheduled
 * backup; `lease_expires_at` lets a run whose holder crashed be taken over.
 */
export const migration: Migration = {
  version: 3,
  name: "schedule",
  up: [
    `CREATE TABLE lifeboat_scheduled_runs (
       period_key TEXT PRIMARY KEY NOT NULL,
       slot_at TEXT NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
       holder TEXT NOT NULL,
       source TEXT NOT NULL,
       started_at TEXT NOT NULL,
       lease_expires_at TEXT NOT NULL,
       finished_at TEXT,
       backup_name TEXT,
       error TEXT
     )`,
    `CREATE INDEX lifeboat_scheduled_runs_slot ON lifeboat_scheduled_runs (slot_at)`,
  ],
};
