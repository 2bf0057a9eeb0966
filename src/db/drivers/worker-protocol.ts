import { BusyError, InvalidBackupError, UnsupportedDatabaseError } from "../../errors.ts";
import type { ApplyPlan, FinishImportOptions, ReadLimits } from "./apply-dump.ts";
import type { MigrationSpec } from "./connection.ts";

/** Messages the engine sends to the backup worker (db-worker.ts). */
export type WorkerRequest =
  | {
      op: "export";
      id: number;
      dbPath: string;
      tempPath: string;
      gzip: boolean;
      /** age public keys: the file is encrypted for them (after gzip). Empty: plain. */
      ageRecipients: string[];
      createdAt: string;
      trigger: string;
      lifeboatVersion: string;
      busyTimeoutMs: number;
      statementBytes?: number;
      /** Read the import connection's pinned snapshot (`import-open` with `lock: false`) instead of a connection of its own. */
      fromImport?: boolean;
    }
  /**
   * Opens the import connection: with `lock`, takes the write lock at once
   * (BEGIN IMMEDIATE); without, pins a read snapshot that the safety backup
   * reads and `import-lock` later upgrades.
   */
  | { op: "import-open"; id: number; dbPath: string; busyTimeoutMs: number; lock: boolean }
  /** Takes the write lock on the import connection (see `LockOutcome`). */
  | { op: "import-lock"; id: number }
  /** The sha256 and size of a file as stored (`FileHash`). */
  | { op: "hash"; id: number; filePath: string }
  /** The validation pass over a dump file (touches no database). */
  | { op: "validate"; id: number; filePath: string; migrations: readonly MigrationSpec[]; limits?: ReadLimits; identities?: readonly string[] }
  /** Drops the current objects and runs every statement of the file, inside the open transaction. */
  | { op: "import-apply"; id: number; filePath: string; plan: ApplyPlan }
  /** The checks; then COMMIT (`commit: true`), ROLLBACK (`false`), or neither (`null`: `import-commit` follows). */
  | { op: "import-finish"; id: number; options: FinishImportOptions; commit: boolean | null }
  | { op: "import-commit"; id: number }
  | { op: "import-rollback"; id: number }
  /** After a committed import: checkpoint the WAL here, off the serving thread, then close. */
  | { op: "checkpoint"; id: number };

/**
 * How the import's write lock was taken. `unchanged`: the lock was taken
 * inside the read snapshot's own transaction, which SQLite allows only when no
 * other connection committed since the snapshot (else SQLITE_BUSY_SNAPSHOT),
 * so a safety backup read from that snapshot is exactly what the import
 * replaces. Otherwise a write came in between and the lock was taken afresh.
 */
export interface LockOutcome {
  unchanged: boolean;
  /** Milliseconds spent waiting for the lock. */
  waitMs: number;
}

/**
 * The answer to `import-open`. `wal`: the database is in WAL mode, so until
 * the import's COMMIT every other connection reads the state it replaces,
 * however much it has written.
 */
export interface ImportOpened {
  wal: boolean;
}

/** The worker's answer to the request with the same id (id 0: the worker is ready). */
export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** An error as it crosses the thread boundary (typed errors keep their class). */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  reason?: string;
  line?: number;
}

/** Flattens an error for postMessage. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof InvalidBackupError) {
    return { name: err.name, message: err.message, code: err.code, reason: err.reason, ...(err.line !== undefined ? { line: err.line } : {}) };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return { name: "Error", message: String(err) };
}

/** Rebuilds the typed error on the engine's side. */
export function deserializeError(e: SerializedError): Error {
  switch (e.name) {
    case "InvalidBackupError":
      return new InvalidBackupError(e.reason ?? e.message, e.line);
    case "UnsupportedDatabaseError":
      return new UnsupportedDatabaseError(e.message);
    case "BusyError":
      return new BusyError(e.message);
  }
  if (e.code?.startsWith("SQLITE_BUSY") || e.code?.startsWith("SQLITE_LOCKED")) {
    return new BusyError(`The database is locked by another writer (${e.message}); try again when it is free.`);
  }
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code) (err as Error & { code?: string }).code = e.code;
  return err;
}
