import { createHash } from "node:crypto";
import type { Client, Transaction } from "@libsql/client";

/**
 * The server's record of ended sessions (migration 0004): signed-out tokens by
 * a hash of their `jti`, and per-user session epochs. SQL only; the user
 * service decides when and audits.
 */

/**
 * Rows of signed-out tokens are kept this long past the token's own expiry, so
 * a token still inside the 30 s clock-skew window of its `exp` stays refused.
 */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/**
 * A token's `jti` as stored: SHA-256, base64url. A copy of the table (a backup)
 * then holds nothing a token could be rebuilt from.
 */
function tokenHash(jti: string): string {
  return createHash("sha256").update(jti).digest("base64url");
}

/** True when the token with this `jti` was signed out. One primary-key lookup. */
export async function isTokenRevoked(db: Client, jti: string): Promise<boolean> {
  const rs = await db.execute({ sql: "SELECT 1 FROM lifeboat_revoked_tokens WHERE token_hash = ?", args: [tokenHash(jti)] });
  return rs.rows.length > 0;
}

/**
 * Records a signed-out token until it would have expired, and drops the rows
 * of tokens that have expired meanwhile (the index on `expires_at` keeps that
 * cheap), so the table holds only tokens that could still be presented.
 */
export async function revokeToken(
  tx: Transaction,
  token: { jti: string; userId: number; expiresAt: Date },
  now: Date,
): Promise<void> {
  await tx.execute({
    sql: "DELETE FROM lifeboat_revoked_tokens WHERE expires_at < ?",
    args: [new Date(now.getTime() - EXPIRY_MARGIN_MS).toISOString()],
  });
  await tx.execute({
    sql: `INSERT INTO lifeboat_revoked_tokens (token_hash, user_id, revoked_at, expires_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (token_hash) DO NOTHING`,
    args: [tokenHash(token.jti), token.userId, now.toISOString(), new Date(token.expiresAt.getTime() + EXPIRY_MARGIN_MS).toISOString()],
  });
}

/** Raises the user's session epoch by one: every token issued before stops working. Returns the new epoch. */
export async function raiseSessionEpoch(tx: Transaction, userId: number, at: string): Promise<number> {
  const rs = await tx.execute({
    sql: `INSERT INTO lifeboat_session_epochs (user_id, epoch, updated_at) VALUES (?, 1, ?)
          ON CONFLICT (user_id) DO UPDATE SET epoch = epoch + 1, updated_at = excluded.updated_at
          RETURNING epoch`,
    args: [userId, at],
  });
  return Number(rs.rows[0]!.epoch);
}

/** SQL for a user row's current session epoch (0 before the first "sign out everywhere"), as column `session_epoch`. */
export const SESSION_EPOCH_COLUMN =
  "coalesce((SELECT epoch FROM lifeboat_session_epochs WHERE user_id = lifeboat_users.id), 0) AS session_epoch";
