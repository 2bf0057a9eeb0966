import type { Client, Row } from "@libsql/client";

/** How long a claim holds without renewal; a crashed holder blocks its period at most this long. */
export const DEFAULT_LEASE_MS = 30 * 60_000;

/** Where a scheduled run was started from. */
export type RunSource = "timer" | "catch-up" | "cron" | "forced";

/** The database's record of one scheduled period, shared by every instance. */
export interface PeriodRun {
  periodKey: string;
  /** ISO time of the slot this period belongs to. */
  slotAt: string;
  status: "running" | "done" | "failed";
  /** Instance id of whoever claimed it last. */
  holder: string;
  source: RunSource;
  startedAt: string;
  leaseExpiresAt: string;
  finishedAt: string | null;
  backupName: string | null;
  error: string | null;
}

const TABLE = "lifeboat_scheduled_runs";
/** Key in lifeboat_meta: when the schedule first ran on this database (catch-up looks no further back). */
const SINCE_KEY = "schedule.since";

function toRun(r: Row): PeriodRun {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    periodKey: String(r.period_key),
    slotAt: String(r.slot_at),
    status: String(r.status) as PeriodRun["status"],
    holder: String(r.holder),
    source: String(r.source) as RunSource,
    startedAt: String(r.started_at),
    leaseExpiresAt: String(r.lease_expires_at),
    finishedAt: s(r.finished_at),
    backupName: s(r.backup_name),
    error: s(r.error),
  };
}

export interface ClaimOptions {
  periodKey: string;
  slotAt: Date;
  holder: string;
  source: RunSource;
  now: Date;
  leaseMs?: number;
  /**
   * Also take over a finished period whose backup is this (missing) name: the
   * admin deleted it, so the period has no backup any more.
   */
  replaceMissing?: string | null;
}

/**
 * Claims a period with ONE conditional write: a new period, a failed one, a
 * running one whose lease expired, or (with `replaceMissing`) a done one whose
 * backup is gone. Atomic across connections and processes, so of several
 * instances racing for the same period exactly one gets `true`. Callers hold
 * the write gate.
 */
export async function claimPeriod(db: Client, o: ClaimOptions): Promise<boolean> {
  const now = o.now.toISOString();
  const rs = await db.execute({
    sql: `INSERT INTO ${TABLE} (period_key, slot_at, status, holder, source, started_at, lease_expires_at)
          VALUES (:key, :slot, 'running', :holder, :source, :now, :expires)
          ON CONFLICT (period_key) DO UPDATE SET
            status = 'running', holder = excluded.holder, source = excluded.source,
            started_at = excluded.started_at, lease_expires_at = excluded.lease_expires_at,
            finished_at = NULL, backup_name = NULL, error = NULL
          WHERE ${TABLE}.status = 'failed'
             OR (${TABLE}.status = 'running' AND ${TABLE}.lease_expires_at <= excluded.started_at)
             OR (:missing IS NOT NULL AND ${TABLE}.status = 'done' AND ${TABLE}.backup_name = :missing)
          RETURNING holder`,
    args: {
      key: o.periodKey,
      slot: o.slotAt.toISOString(),
      holder: o.holder,
      source: o.source,
      now,
      expires: new Date(o.now.getTime() + (o.leaseMs ?? DEFAULT_LEASE_MS)).toISOString(),
      missing: o.replaceMissing ?? null,
    },
  });
  return rs.rows.length === 1 && String(rs.rows[0]!.holder) === o.holder;
}

/** Extends a running claim this holder still owns; false when it was lost (expired and taken over). */
export async function renewClaim(db: Client, periodKey: string, holder: string, now: Date, leaseMs = DEFAULT_LEASE_MS): Promise<boolean> {
  const rs = await db.execute({
    sql: `UPDATE ${TABLE} SET lease_expires_at = ? WHERE period_key = ? AND holder = ? AND status = 'running'`,
    args: [new Date(now.getTime() + leaseMs).toISOString(), periodKey, holder],
  });
  return rs.rowsAffected === 1;
}

/** Gives a running claim back (the backup could not start: the engine was busy), so the next attempt can claim it. */
export async function releaseClaim(db: Client, periodKey: string, holder: string): Promise<void> {
  await db.execute({
    sql: `DELETE FROM ${TABLE} WHERE period_key = ? AND holder = ? AND status = 'running'`,
    args: [periodKey, holder],
  });
}

/** Records the outcome of a claimed run; false when the claim was no longer this holder's. */
export async function finishPeriod(
  db: Client,
  o: { periodKey: string; holder: string; now: Date } & ({ backupName: string } | { error: string }),
): Promise<boolean> {
  const done = "backupName" in o;
  const rs = await db.execute({
    sql: `UPDATE ${TABLE} SET status = ?, finished_at = ?, backup_name = ?, error = ?
          WHERE period_key = ? AND holder = ? AND status = 'running'`,
    args: [done ? "done" : "failed", o.now.toISOString(), done ? o.backupName : null, done ? null : o.error, o.periodKey, o.holder],
  });
  return rs.rowsAffected === 1;
}

/**
 * Records a backup made with `?force=true`: the period now points at it,
 * whatever state it was in (force means "make one anyway").
 */
export async function recordForcedRun(
  db: Client,
  o: { periodKey: string; slotAt: Date; holder: string; startedAt: Date; now: Date; backupName: string },
): Promise<void> {
  await db.execute({
    sql: `INSERT INTO ${TABLE} (period_key, slot_at, status, holder, source, started_at, lease_expires_at, finished_at, backup_name)
          VALUES (:key, :slot, 'done', :holder, 'forced', :started, :now, :now, :name)
          ON CONFLICT (period_key) DO UPDATE SET
            status = 'done', holder = excluded.holder, source = 'forced', started_at = excluded.started_at,
            lease_expires_at = excluded.lease_expires_at, finished_at = excluded.finished_at,
            backup_name = excluded.backup_name, error = NULL`,
    args: {
      key: o.periodKey,
      slot: o.slotAt.toISOString(),
      holder: o.holder,
      started: o.startedAt.toISOString(),
      now: o.now.toISOString(),
      name: o.backupName,
    },
  });
}

/** The record of one period, or null when nobody has claimed it. */
export async function readPeriod(db: Client, periodKey: string): Promise<PeriodRun | null> {
  const rs = await db.execute({ sql: `SELECT * FROM ${TABLE} WHERE period_key = ?`, args: [periodKey] });
  return rs.rows[0] ? toRun(rs.rows[0]) : null;
}

/** The most recently finished scheduled run (done or failed), for the status and readiness. */
export async function latestFinishedRun(db: Client): Promise<PeriodRun | null> {
  const rs = await db.execute(
    `SELECT * FROM ${TABLE} WHERE status IN ('done', 'failed') ORDER BY finished_at DESC, slot_at DESC LIMIT 1`,
  );
  return rs.rows[0] ? toRun(rs.rows[0]) : null;
}

/** Forgets finished periods whose slot is older than `before` (keeps the table small for frequent schedules). */
export async function forgetPeriodsBefore(db: Client, before: Date): Promise<void> {
  await db.execute({
    sql: `DELETE FROM ${TABLE} WHERE slot_at < ? AND status IN ('done', 'failed')`,
    args: [before.toISOString()],
  });
}

/**
 * Records when the schedule first ran on this database, once, and returns it.
 * Catch-up only considers slots after this moment: a fresh install did not
 * "miss" the midnight before it existed.
 */
export async function scheduleSince(db: Client, now: Date): Promise<Date> {
  await db.execute({
    sql: `INSERT INTO lifeboat_meta (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
    args: [SINCE_KEY, now.toISOString(), now.toISOString()],
  });
  return (await readScheduleSince(db)) ?? now;
}

/** When the schedule first ran on this database, or null when it never has. */
export async function readScheduleSince(db: Client): Promise<Date | null> {
  const rs = await db.execute({ sql: `SELECT value FROM lifeboat_meta WHERE key = ?`, args: [SINCE_KEY] });
  const v = rs.rows[0]?.value;
  const d = v === undefined || v === null ? null : new Date(String(v));
  return d && Number.isFinite(d.getTime()) ? d : null;
}
