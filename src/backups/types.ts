import type { BackupKind } from "./kind.ts";

/** Why a backup was taken. Part of the file name and of the public API. */
export const BACKUP_TRIGGERS = ["scheduled", "change", "manual", "upload", "pre-import", "pre-migration"] as const;
export type BackupTrigger = (typeof BACKUP_TRIGGERS)[number];

/** What Lifeboat knows about one backup file. The backup folder is the source of truth. */
export interface BackupMeta {
  /** Server-generated file name, e.g. `lifeboat-20261126-000000-scheduled.sql`. */
  name: string;
  /** ISO 8601 with offset. */
  createdAt: string;
  /** Bytes on disk. */
  size: number;
  /** `unknown` for a file dropped into the folder by hand without metadata. */
  trigger: BackupTrigger | "unknown";
  /** Username (or `scheduler`, `cli`, …) that caused it; null when unknown. */
  actor: string | null;
  /** Hex sha256 of the file as stored; null when not yet known (hand-dropped file). */
  sha256: string | null;
  compressed: boolean;
  /** Encrypted with age (`.age`): needs BACKUP_AGE_IDENTITY_FILE to be verified or imported. */
  encrypted: boolean;
  /** Rows per table at the time of the dump, when known. */
  rowCounts: Record<string, number> | null;
  pinned: boolean;
  /** Scheduler period key (e.g. `2026-11-26`) a scheduled backup belongs to. */
  periodKey?: string | null;
  /**
   * Why Lifeboat's own import would refuse this file, found when it was
   * written (e.g. a CHECK constraint calling a function only the application
   * has); absent when Lifeboat can restore it. `sqlite3` may still restore it.
   */
  restoreProblems?: string[];
  /**
   * `lifeboat`: restoring it replaces Lifeboat's accounts, audit trail and
   * schedule state too; `plain`: only the application's tables (Lifeboat's
   * current accounts are kept). Null until known (a hand-dropped file before `verify`).
   */
  kind?: "lifeboat" | "plain" | null;
  /** The last verification, or null when it was never verified. */
  verification?: BackupVerification | null;
  /** When this copy was last confirmed off-site (local sidecar); absent or null when never. */
  offsiteAt?: string | null;
}

/** The outcome of `POST /api/backups/{name}/verify` as kept with the backup. */
export interface BackupVerification {
  ok: boolean;
  /** When it ran (ISO 8601). */
  at: string;
  /** Why it failed; null when it passed. */
  message: string | null;
}

/** Where a backup's copies are: in the local folder, in the bucket, or both. */
export const BACKUP_LOCATIONS = ["here", "offsite", "both"] as const;
export type BackupLocation = (typeof BACKUP_LOCATIONS)[number];

/** A backup still on its way off-site. */
export interface OffsiteCopyState {
  /** `waiting`: queued; `uploading`: now; `failed`: the last attempt failed, another follows at `nextAttemptAt`. */
  state: "waiting" | "uploading" | "failed";
  attempts: number;
  error: string | null;
  nextAttemptAt: string | null;
}

/** One entry of the list across locations: each backup once, with where it is. */
export interface ListedBackup extends BackupMeta {
  location: BackupLocation;
  /** With off-site storage on: the upload state of a backup that is here only; null otherwise. */
  offsite: OffsiteCopyState | null;
}

export interface CreateBackupOptions {
  trigger: BackupTrigger;
  actor?: string | null;
  /** For `scheduled` backups: the period this backup satisfies. */
  periodKey?: string | null;
}

export interface ImportResult {
  /** Name of the backup that was restored (for an upload, the stored copy). */
  source: string;
  /** The `pre-import` safety backup taken first. */
  safetyBackup: string;
  tables: number;
  rows: number;
  durationMs: number;
  /** Lifeboat migrations applied after the import (a dump from an older Lifeboat). */
  migrated: number[];
}

/** What is running now, for the status route and the page. */
export interface EngineActivity {
  kind: "backup" | "import";
  trigger?: BackupTrigger;
  startedAt: string;
  actor: string | null;
}

/** A failure as the engine reports it in events and `lastResults()` (never a stack). */
export interface EngineErrorInfo {
  /** The typed error's code (`busy`, `invalid_backup`, `unsupported_database`, …) or `internal`. */
  code: string;
  message: string;
}

/** How the last backup of this process ended. */
export type BackupOutcome =
  | {
      ok: true;
      trigger: BackupTrigger;
      actor: string | null;
      periodKey: string | null;
      startedAt: string;
      finishedAt: string;
      durationMs: number;
      backup: BackupMeta;
    }
  | {
      ok: false;
      trigger: BackupTrigger;
      actor: string | null;
      periodKey: string | null;
      startedAt: string;
      finishedAt: string;
      durationMs: number;
      error: EngineErrorInfo;
    };

/** How the last import of this process ended. */
export type ImportOutcome =
  | { ok: true; actor: string | null; startedAt: string; finishedAt: string; durationMs: number; result: ImportResult }
  | {
      ok: false;
      actor: string | null;
      /** The backup that was to be restored, when it got that far. */
      source: string | null;
      startedAt: string;
      finishedAt: string;
      durationMs: number;
      error: EngineErrorInfo;
    };

/** The last result per kind, for the status route; null when none ran in this process. */
export interface EngineResults {
  backup: BackupOutcome | null;
  import: ImportOutcome | null;
}

/**
 * What the engine announces once the work is done and the files are in place.
 * `backup.created` / `backup.failed` cover every trigger, pre-import and
 * pre-migration backups included.
 */
export type BackupEngineEvent =
  | ({ type: "backup.created" } & Extract<BackupOutcome, { ok: true }>)
  | ({ type: "backup.failed" } & Extract<BackupOutcome, { ok: false }>)
  | { type: "backup.deleted"; name: string }
  | ({ type: "backup.offsite_copied" } & Extract<OffsiteCopyResult, { ok: true }>)
  | ({ type: "backup.offsite_failed" } & Extract<OffsiteCopyResult, { ok: false }>)
  | ({ type: "import.completed" } & Extract<ImportOutcome, { ok: true }>)
  | ({ type: "import.failed" } & Extract<ImportOutcome, { ok: false }>);

/** One table in a restore preview: its rows in the backup next to the live database's. */
interface PreviewTable {
  name: string;
  /** Rows after a restore; null when the backup has no such table (or `tablesKnown` is false). */
  backupRows: number | null;
  /** Rows now; null when the live database has no such table. */
  liveRows: number | null;
}

/** What restoring a backup would do, found by a dry run into a scratch database; changes nothing. */
export interface BackupPreview {
  /** The backup, with where its copies are (an off-site-only one is downloaded for the dry run and removed again). */
  backup: ListedBackup;
  kind: BackupKind;
  checksum: {
    /** `matches` the sha256 recorded when the backup was taken, `differs` from it, or `not-recorded` (a hand-dropped file). */
    state: "matches" | "differs" | "not-recorded" | "unreadable";
    recorded: string | null;
    actual: string | null;
  };
  /** False when the import would be refused; `problem` says why (the import's own words). */
  restorable: boolean;
  problem: string | null;
  /** False when the file could not be read far enough to know its tables (a damaged file without a header). */
  tablesKnown: boolean;
  /** Every table of the backup or the live database, by name. */
  tables: PreviewTable[];
  admins: {
    /** Enabled admin accounts after the restore; null when not known (the dry run failed before). */
    after: string[] | null;
    /** Enabled admin accounts now. */
    now: string[];
  };
  /** Lifeboat migrations a restore would apply (a backup from an older Lifeboat). */
  migrations: number[];
  durationMs: number;
}

/** What one off-site upload attempt ended with (events, the log, the webhook). */
export type OffsiteCopyResult =
  | { ok: true; name: string; trigger: BackupTrigger | "unknown"; attempts: number; at: string }
  | {
      ok: false;
      name: string;
      trigger: BackupTrigger | "unknown";
      attempts: number;
      at: string;
      error: string;
      /** Retrying cannot help until the configuration changes (credentials, bucket). */
      permanent: boolean;
      nextAttemptAt: string | null;
    };
