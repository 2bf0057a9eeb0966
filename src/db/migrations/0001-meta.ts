import type { Migration } from "./types.ts";

/**
 * Lifeboat's own key/value table. All Lifeboat tables start with `lifeboat_`
 * so they never collide with an application's tables in a shared database.
 */
export const migration: Migration = {
  version: 1,
  name: "meta",
  up: [
    `CREATE TABLE lifeboat_meta (
       key TEXT PRIMARY KEY NOT NULL,
       value TEXT NOT NULL,
       updated_at TEXT NOT NULL
     )`,
  ],
};
