import type { BackupEngine } from "../backups/engine.ts";
import { BACKUP_TRIGGERS, type BackupMeta, type BackupTrigger, type EngineActivity } from "../backups/types.ts";
import type { PendingChange } from "./change-backups.ts";
import type { PeriodRun } from "./lease.ts";
import { redactCredentials } from "../redact.ts";

/** The last run of one kind of backup: when, how long, how big, or why it failed. */
export interface LastRun {
  /** ISO 8601: when the run finished (or, for a backup known only from the folder, when it was taken). */
  at: string;
  /** Null when only the file is known (taken by another instance or before a restart). */
  durationMs: number | null;
  /** Bytes on disk; null for a failure. */
  size: number | null;
  /** The backup's name; null for a failure. */
  name: string | null;
  /** Why it failed; null for a success. */
  error: string | null;
  /** The scheduled period, for scheduled runs. */
  periodKey?: string | null;
}

/** One entry per trigger (`scheduled`, `change`, `manual`, `upload`, `pre-import`, `pre-migration`), null when none is known. */
export type LastRuns = Record<BackupTrigger, LastRun | null>;

/** What `GET /api/backups/status` and the page show about automatic backups. */
export interface ScheduleStatus {
  /** The cron expression, or null when BACKUP_SCHEDULE=off. */
  schedule: string | null;
  timezone: string;
  /** ISO 8601 of the next in-process scheduled backup; null when the schedule is off. */
  nextRun: string | null;
  /** Period key of that next run, e.g. `2026-11-27T00:00`. */
  nextPeriodKey: string | null;
  lastRuns: LastRuns;
  /** What the backup engine is doing right now, or null. */
  running: EngineActivity | null;
  /** A change backup waiting for its quiet window, or null. */
  pendingChange: PendingChange | null;
  /** This instance's id (also used in webhook payloads and period claims). */
  instance: string;
}

/** A run outcome as this process saw it. */
export interface RunOutcome {
  trigger: BackupTrigger;
  startedAt: Date;
  finishedAt: Date;
  backup?: BackupMeta;
  error?: unknown;
  periodKey?: string | null;
}

/** Remembers the last outcome of each trigger seen by this process. */
export interface RunLog {
  record(outcome: RunOutcome): void;
  get(trigger: BackupTrigger): LastRun | null;
}

/** A failure as the status, the webhook and the run record show it: its message, without credentials. */
export function errorMessage(err: unknown): string {
  return redactCredentials(err instanceof Error ? err.message : String(err));
}

export function createRunLog(): RunLog {
  const last = new Map<BackupTrigger, LastRun>();
  return {
    record(o) {
      last.set(o.trigger, {
        at: o.finishedAt.toISOString(),
        durationMs: Math.max(0, o.finishedAt.getTime() - o.startedAt.getTime()),
        size: o.backup?.size ?? null,
        name: o.backup?.name ?? null,
        error: o.backup ? null : errorMessage(o.error),
        ...(o.trigger === "scheduled" ? { periodKey: o.periodKey ?? o.backup?.periodKey ?? null } : {}),
      });
    },
    get: (t) => last.get(t) ?? null,
  };
}

/**
 * Picks, per trigger, the latest of what this process saw, what the folder
 * holds, and (for scheduled runs) what the shared database recorded — so the
 * status stays right across restarts and when another instance did the work.
 */
export function mergeLastRuns(input: {
  runLog: RunLog;
  backups: readonly BackupMeta[];
  latestScheduledRun: PeriodRun | null;
}): LastRuns {
  const byName = new Map(input.backups.map((b) => [b.name, b]));
  const out = {} as LastRuns;
  for (const trigger of BACKUP_TRIGGERS) {
    const candidates: LastRun[] = [];
    const seen = input.runLog.get(trigger);
    if (seen) candidates.push(seen);
    // listBackups is newest first
    const newest = input.backups.find((b) => b.trigger === trigger);
    if (newest) {
      candidates.push({
        at: newest.createdAt,
        durationMs: null,
        size: newest.size,
        name: newest.name,
        error: null,
        ...(trigger === "scheduled" ? { periodKey: newest.periodKey ?? null } : {}),
      });
    }
    const run = input.latestScheduledRun;
    if (trigger === "scheduled" && run?.finishedAt) {
      candidates.push({
        at: run.finishedAt,
        durationMs: Math.max(0, Date.parse(run.finishedAt) - Date.parse(run.startedAt)),
        size: null,
        name: run.backupName,
        error: run.status === "failed" ? run.error ?? "failed" : null,
        periodKey: run.periodKey,
      });
    }
    // The same backup seen from several sides becomes one entry with what each side knows.
    const merged: LastRun[] = [];
    for (const c of candidates) {
      const same = c.name ? merged.find((m) => m.name === c.name) : undefined;
      if (!same) {
        merged.push({ ...c });
        continue;
      }
      same.durationMs ??= c.durationMs;
      same.size ??= c.size;
      if (Date.parse(c.at) > Date.parse(same.at)) same.at = c.at;
      if (c.periodKey !== undefined) same.periodKey ??= c.periodKey;
    }
    for (const m of merged) if (m.name && byName.has(m.name)) m.size = byName.get(m.name)!.size;
    // the latest wins; on a tie the first (this process's own record) stays
    out[trigger] = merged.reduce<LastRun | null>((best, c) => (!best || Date.parse(c.at) > Date.parse(best.at) ? c : best), null);
  }
  return out;
}

/**
 * The status of an app built without a scheduler (tests, tools): the schedule
 * is off, the last runs come from the backup folder, `running` from the engine.
 */
export async function statusWithoutScheduler(
  engine: Pick<BackupEngine, "listBackups" | "activity">,
): Promise<ScheduleStatus> {
  return {
    schedule: null,
    timezone: "UTC",
    nextRun: null,
    nextPeriodKey: null,
    lastRuns: mergeLastRuns({ runLog: createRunLog(), backups: await engine.listBackups(), latestScheduledRun: null }),
    running: engine.activity(),
    pendingChange: null,
    instance: "",
  };
}
