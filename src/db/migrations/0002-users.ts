import type { Migration } from "./types.ts";

/**
 * Lifeboat's accounts and their audit trail. Usernames compare case-insensitively
 * (`COLLATE NOCASE` folds ASCII, and usernames are restricted to ASCII), so "Ann"
 * and "ann" can never both exist. Audit rows keep the target's name and no foreign
 * key: they must outlive the user they describe.
 */
export const migration: Migration = {
  version: 2,
  name: "users",
  up: [
    `CREATE TABLE lifeboat_users (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       username TEXT NOT NULL COLLATE NOCASE UNIQUE,
       password_hash TEXT NOT NULL,
       role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
       disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
       created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL
     )`,
    `CREATE TABLE lifeboat_audit (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       at TEXT NOT NULL,
       actor TEXT NOT NULL,
       action TEXT NOT NULL,
       target_id INTEGER NOT NULL,
       target_username TEXT NOT NULL,
       details TEXT
     )`,
    `CREATE INDEX lifeboat_audit_at ON lifeboat_audit (at)`,
  ],
};
