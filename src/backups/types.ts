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
  /** Rows per table at the time of the dump, when known. */
  rowCounts: Record<string, number> | null;
  pinned: boolean;
  /** Scheduler period key (e.g. `2026-11-26`) a scheduled backup belongs to. */
  periodKey?: string | null;
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
