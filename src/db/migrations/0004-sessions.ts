import type { Migration } from "./types.ts";

/**
 * Ending sessions on the server. Tokens and session cookies are signed JWTs,
 * so signing in writes nothing; ending them needs a record every instance
 * sharing the database consults on each request (one primary-key lookup each):
 *
 * - `lifeboat_revoked_tokens`: one signed-out token or cookie, by a SHA-256 of
 *   its `jti`, kept until the token would have expired anyway.
 * - `lifeboat_session_epochs`: "end every session of this user". Tokens carry
 *   the epoch they were issued in; raising it voids all earlier ones. Rows are
 *   kept for good (one per user ever signed out everywhere), so a restore that
 *   brings an account back cannot bring its ended sessions back.
 *
 * A restore keeps both tables as they are (see apply-dump): they describe
 * tokens this deployment issued, not data a backup should roll back.
 */
export const migration: Migration = {
  version: 4,
  name: "sessions",
  up: [
    `CREATE TABLE lifeboat_revoked_tokens (
       token_hash TEXT PRIMARY KEY NOT NULL,
       user_id INTEGER NOT NULL,
       revoked_at TEXT NOT NULL,
       expires_at TEXT NOT NULL
     )`,
    `CREATE INDEX lifeboat_revoked_tokens_expires ON lifeboat_revoked_tokens (expires_at)`,
    `CREATE TABLE lifeboat_session_epochs (
       user_id INTEGER PRIMARY KEY NOT NULL,
       epoch INTEGER NOT NULL CHECK (epoch >= 0),
       updated_at TEXT NOT NULL
     )`,
  ],
};
