import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Client } from "@libsql/client";
import { stopwatch, systemTimers, type Clock, type Timers } from "../clock.ts";
import type { Config } from "../config.ts";
import { BUSY_TIMEOUT_MS } from "../db/client.ts";
import { MIGRATIONS, type Migration } from "../db/migrations/index.ts";
import type { WriteGate } from "../db/write-gate.ts";
import {
  AppError,
  BackupFolderUnavailableError,
  BusyError,
  ChecksumMismatchError,
  ImportStoppedError,
  ConflictError,
  InsufficientStorageError,
  InvalidBackupError,
  NotFoundError,
  UnsupportedDatabaseError,
  ValidationError,
} from "../errors.ts";
import { createEventBus, type EventBus } from "../events.ts";
import type { Logger } from "../logger.ts";
import { VERSION } from "../paths.ts";
import type { ScryptParams } from "../users/password.ts";
import type { LifeboatContent } from "../db/lifeboat-tables.ts";
import { exportViaClient } from "../db/drivers/client-driver.ts";
import { quoteIdent } from "../dump/writer.ts";
import { backupKindOf } from "./kind.ts";
import { createRunHistory, recordRuns, type RunQuery, type RunRecord } from "./run-history.ts";
import { pageOfBackups, type BackupListQuery, type BackupPage } from "./list-query.ts";
import { fileHandleStream } from "../dump/file-stream.ts";
import { sniffDump, type DumpHeader } from "../dump/reader.ts";
import type { DumpSummary } from "../dump/writer.ts";
import type { FinishImportOptions, ValidatedDump } from "../db/drivers/apply-dump.ts";
import { openClientSession, openWorkerSession, validateInWorker, type ImportSession } from "../db/drivers/import-session.ts";
import { hashAsWritten, hashFile, type FileHash } from "../storage/file-hash.ts";
import { createBackupStorage, type BackupStorage } from "../storage/folder.ts";
import { assertSafeBackupName, newestFirst } from "../storage/names.ts";
import { createS3Store } from "../storage/s3.ts";
import { loadIdentities } from "../dump/age.ts";
import { createOffsite, type Offsite, type OffsiteStatus } from "./offsite.ts";
import {
  BACKUP_TRIGGERS,
  type BackupEngineEvent,
  type BackupLocation,
  type BackupMeta,
  type BackupOutcome,
  type BackupPreview,
  type BackupTrigger,
  type CreateBackupOptions,
  type EngineActivity,
  type EngineErrorInfo,
  type EngineResults,
  type ImportOutcome,
  type ImportResult,
  type ListedBackup,
} from "./types.ts";
import { createWorkerPool, startDbProcess, type DbWorker } from "../db/drivers/worker-client.ts";

/** How long an idle import process is kept for the next import before it exits. */
const IMPORT_PROCESS_IDLE_MS = 60_000;

/** What an import needs from the check before the lock (a full check gives more). */
type CheckedFile = Pick<ValidatedDump, "content" | "sha256" | "header">;

export interface BackupEngineDeps {
  config: Pick<Config, "databaseUrl" | "databaseIsLocal" | "databasePath" | "backupDir" | "backup" | "offsite" | "encryption">;
  /** The application's client: needed for a remote database (the `client` driver) only. */
  db?: Client;
  logger: Logger;
  clock: Clock;
  /** The import's write transaction holds the gate, so in-process writers queue instead of blocking the event loop. */
  writeGate: WriteGate;
  /** Lifeboat's migrations (default: all of them); an import migrates a dump forward to these. */
  migrations?: readonly Migration[];
  /**
   * `native` (default for a `file:` database): the backup worker with raw libsql.
   * `client`: `@libsql/client`, as for a remote database (tests use it on a file).
   */
  driver?: "native" | "client";
  /** Target bytes of one INSERT in a dump (default 64 KiB; tests make pages small). */
  statementBytes?: number;
  /** Timers of the off-site retries (default: the system's). */
  timers?: Timers;
  /** Waits between attempts of a failed off-site upload (default 10 s, 30 s, 1 min, 5 min, then every 15 min). */
  offsiteRetryDelaysMs?: readonly number[];
  /** The scrypt cost Lifeboat hashes passwords with (default `CURRENT_SCRYPT`); restored hashes must use exactly it. */
  scrypt?: ScryptParams;
  /** Where finished backups and imports are recorded (see run-history.ts); without it `listRuns` finds none. */
  runHistoryFile?: string;
  /** @internal Called between an import's steps (tests write to the database there). */
  onImportStep?: (step: "checked" | "safety-backup-written") => Promise<void> | void;
}

/** The backup folder's size and the room left on its disk. */
export interface FolderUsage {
  backups: number;
  totalBytes: number;
  /** Bytes an unprivileged writer can still use on the disk; null where the platform cannot say. */
  freeBytes: number | null;
  /** The disk's size; null where the platform cannot say. */
  diskBytes: number | null;
}

/** What a bulk delete did. */
export interface BulkDeleteResult {
  deleted: string[];
  refused: { name: string; reason: string }[];
}

/** Which copies a delete removes: the one here, the off-site one, or every copy (default). */
export type DeleteScope = "here" | "offsite" | "all";

/** What `verifyFile` found: the file is restorable, and what a restore would give. */
interface VerifyResult {
  sha256: string;
  size: number;
  compressed: boolean;
  encrypted: boolean;
  header: DumpHeader | null;
  /** `lifeboat`: restoring replaces Lifeboat's accounts, audit trail and schedule state too; `plain`: they are kept. */
  content: LifeboatContent;
  tables: number;
  rows: number;
  /** Migrations a restore would apply (a dump from an older Lifeboat). */
  migrated: number[];
  durationMs: number;
}

/** What `verifyBackup` found, as recorded with the backup. */
interface VerifyReport {
  ok: boolean;
  /** Why it failed (refusal with line, changed sha256, failed dry run); null when it passed. */
  message: string | null;
  /** The backup with its new `verification`. */
  backup: BackupMeta;
  /** The details of a passed verification; null when it failed. */
  result: VerifyResult | null;
}

/** The backup engine: every verb the routes, the scheduler and the CLI call. */
export interface BackupEngine {
  /** Takes a backup now. `BusyError` when another backup or import runs. */
  createBackup(options: CreateBackupOptions): Promise<BackupMeta>;
  /**
   * Every backup once, newest first, with where its copies are (here, off-site,
   * both). When the bucket cannot be listed, the local ones are still listed
   * (with what their sidecars say) and the status tells why.
   */
  listBackups(): Promise<ListedBackup[]>;
  /**
   * One page of that list: filtered by trigger and location, sorted by time or
   * size, cut at a cursor (from the folder's in-memory index and the bucket's
   * cached listing), with the folder's usage.
   */
  findBackups(query: BackupListQuery): Promise<BackupPage<ListedBackup> & { usage: FolderUsage }>;
  /** How many backups, their bytes, and the free space on the backup folder's disk (null where the platform cannot say). */
  folderUsage(): Promise<FolderUsage>;
  /**
   * Deletes several backups after one confirmation (every copy, or the ones
   * `from` names). Each is deleted or refused on its own (pinned, being
   * imported, not there); the answer says which and why.
   */
  deleteBackups(names: readonly string[], options?: { from?: DeleteScope }): Promise<BulkDeleteResult>;
  /** One backup's metadata (local copy first, then off-site); `ValidationError` (bad name) or `NotFoundError`. */
  getBackup(name: string): Promise<ListedBackup>;
  /**
   * The file's bytes as stored, for a download: from the local copy, or
   * streamed from the bucket (the stream fails at its end if the bytes do not
   * match the recorded sha256). The stream closes the file when done or cancelled.
   */
  openBackup(name: string): Promise<{ meta: BackupMeta; stream: ReadableStream<Uint8Array> }>;
  /**
   * Deletes a backup's copies: `here`, `offsite` or `all` (default). Returns the
   * locations removed. `ConflictError` for a pinned one or the one being
   * imported; `NotFoundError` when no copy is where asked.
   */
  deleteBackup(name: string, options?: { from?: DeleteScope }): Promise<{ removed: Exclude<BackupLocation, "both">[] }>;
  /** Pins (retention never deletes it) or unpins a backup; kept in its sidecar, here and off-site. */
  setPinned(name: string, pinned: boolean): Promise<ListedBackup>;
  /** Brings an off-site-only backup into the local folder (streamed, sha256 checked); a local one is returned as it is. */
  fetchBackup(name: string): Promise<BackupMeta>;
  /**
   * Call once at the server's start: reads the age identity file (a bad one
   * throws), then, in the background, checks the bucket (a readable error in
   * the log and the status) and queues every local backup not yet off-site;
   * from then on every new backup is queued as it is written.
   */
  start(): Promise<void>;
  /**
   * Copies one local backup off-site now and waits for that attempt (the
   * command line's `backup`, which starts no background copies). Returns why
   * it failed, or null (copied, or off-site storage is off). A failed copy is
   * retried only while this engine stays open.
   */
  copyOffsite(name: string): Promise<string | null>;
  /** The off-site part of the status; null when BACKUP_S3_BUCKET is unset. */
  offsiteStatus(): OffsiteStatus | null;
  /** Waits until no off-site upload is running or due (tests, the CLI before it exits). */
  offsiteIdle(): Promise<void>;
  /** Validates an uploaded file as a dump and keeps it as an `upload` backup. The temp file is consumed or removed. */
  storeUpload(tempPath: string, options: { actor: string | null }): Promise<BackupMeta>;
  /** Replaces the database with a listed backup (safety backup first, all or nothing). */
  importBackup(name: string, options: { actor: string | null }): Promise<ImportResult>;
  /** `storeUpload`, then `importBackup` of the stored copy. The stored copy is removed again if the import fails. */
  importUpload(tempPath: string, options: { actor: string | null }): Promise<ImportResult>;
  /** Imports a file from anywhere (the CLI): stored as an `upload` backup first (removed again if the import fails); the file itself is left alone. */
  importFile(filePath: string, options: { actor: string | null }): Promise<ImportResult>;
  /**
   * What restoring a listed backup would do: its kind, checksum state, rows
   * per table next to the live database's, the admin accounts afterwards, or
   * why the import would refuse it. A dry run into a scratch database with
   * the import's own steps and rules; changes nothing.
   */
  previewBackup(name: string): Promise<BackupPreview>;
  /**
   * Stops the running import (its checking pass included): the worker is
   * killed, the transaction rolls back, the safety backup is removed and the
   * lock released; resolves once all that is done. The import's caller gets
   * `ImportStoppedError("cancelled")`. `ConflictError("not_running")` when no import runs.
   */
  cancelImport(actor: string | null): Promise<{ cancelled: true }>;
  /**
   * Verifies a listed backup: its sha256 against the recorded one, then the
   * checking pass and a dry-run restore into a scratch database. Records the
   * outcome and time with the backup (the list shows a failed one) and returns
   * it; a file that fails is a result (`ok: false`), not an error.
   */
  verifyBackup(name: string): Promise<VerifyReport>;
  /** Checks a file end to end (sha256, validation, a dry-run restore into a scratch database); changes nothing. */
  verifyFile(filePath: string, options?: { expectedSha256?: string | null }): Promise<VerifyResult>;
  /** Refuses the first bytes of an upload that is neither SQL text nor gzip (`InvalidBackupError`). */
  checkUploadStart(firstBytes: Uint8Array): void;
  /**
   * Where an upload is streamed to: a fresh temp name in the backup folder
   * (created again first if someone deleted it), which `storeUpload`/`importUpload`
   * take over without a copy; never listed, and removed at start once its
   * process is gone.
   */
  uploadTempPath(): Promise<string>;
  /**
   * The error to report when streaming an upload into the backup folder
   * failed (after its temp file is removed): `InsufficientStorageError` for a
   * full disk, with the free space and the upload's declared size.
   */
  uploadWriteFailure(err: unknown, declaredBytes: number | null): Promise<unknown>;
  /**
   * Throws `BusyError` when a backup or import of this process runs now, so a
   * caller can refuse before costly work (a large upload travelling for
   * nothing). The verbs check again, and the folder lock covers other processes.
   */
  checkIdle(): void;
  /** What runs now, or null. */
  activity(): EngineActivity | null;
  /** The last backup and import outcome of this process. */
  lastResults(): EngineResults;
  /** Finished backups and imports (every trigger, this process and earlier ones), newest first. */
  listRuns(query?: RunQuery): Promise<{ runs: RunRecord[]; kept: number }>;
  /** Every finished backup, import and deletion. Listeners run after the files are in place. */
  readonly events: EventBus<BackupEngineEvent>;
  /** Removes temp files left by processes that are gone (run at start). */
  cleanupTemporaryFiles(): Promise<string[]>;
  /**
   * The first step of a shutdown: refuses new work and stops a running import
   * or verification (rolled back; its request gets 503 `shutting_down`) so
   * that in-flight requests can finish at once. A running backup goes on.
   */
  stopForShutdown(): void;
  /** Refuses new work, stops a running import, waits for the running job and its WAL checkpoint, stops the backup workers. */
  close(): Promise<void>;
}

/** A failure as events and `lastResults()` report it: the typed code, or `internal`. */
function errorInfo(err: unknown): EngineErrorInfo {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: "internal", message: err instanceof Error ? err.message : String(err) };
}

/** The same kind of error with a sentence in front (typed errors keep their status). */
function prefixed(err: unknown, prefix: string): Error {
  const message = `${prefix}${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof BusyError) return new BusyError(message);
  if (err instanceof UnsupportedDatabaseError) return new UnsupportedDatabaseError(message);
  if (err instanceof InvalidBackupError) return new InvalidBackupError(`${prefix}${err.reason}`, err.line);
  if (err instanceof InsufficientStorageError) return new InsufficientStorageError(message, err.freeBytes, err.neededBytes);
  if (err instanceof BackupFolderUnavailableError) return new BackupFolderUnavailableError(message, { cause: err });
  return new Error(message, { cause: err });
}

/**
 * Builds the engine. Starts nothing: no timer, no thread. Work runs only when a
 * verb is called, one backup or import at a time (in this process, and across
 * processes sharing the backup folder through its lock file).
 */
export function createBackupEngine(deps: BackupEngineDeps): BackupEngine {
  const { config, logger, clock } = deps;
  const storage: BackupStorage = createBackupStorage(config.backupDir);
  const migrations = deps.migrations ?? MIGRATIONS;
  /** The migrations as plain data (they cross to the worker). */
  const migrationSpecs = migrations.map((m) => ({ version: m.version, name: m.name, up: [...m.up] }));
  const latestSchema = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const native = (deps.driver ?? (config.databaseIsLocal ? "native" : "client")) === "native";
  if (native && !config.databasePath) throw new Error("the native backup driver needs a local database file");
  if (!native && !deps.db) throw new Error("the client backup driver needs the database client");
  const client = () => deps.db!;
  const workers = createWorkerPool(2);
  /**
   * Import transactions run in worker processes, which can be killed to stop them (see
   * `startDbProcess`). One idle for a minute exits: it held ~80 MB (~33 MB of its own) until the
   * server stopped; the next import, preview or verification starts one again (a fraction of a second).
   */
  const processes = createWorkerPool(2, startDbProcess, { idleMs: IMPORT_PROCESS_IDLE_MS });
  const events = createEventBus<BackupEngineEvent>((err) => logger.error("a backup event listener failed", { error: err }));
  const results: EngineResults = { backup: null, import: null };
  const offsite: Offsite | null = config.offsite
    ? createOffsite({
        store: createS3Store(
          {
            bucket: config.offsite.bucket,
            prefix: config.offsite.prefix,
            region: config.offsite.region,
            endpoint: config.offsite.endpoint,
            forcePathStyle: config.offsite.forcePathStyle,
            accessKeyId: config.offsite.accessKeyId,
            secretAccessKey: config.offsite.secretAccessKey,
            sessionToken: config.offsite.sessionToken,
          },
          { partBytes: config.offsite.partBytes },
        ),
        local: storage,
        logger,
        clock,
        timers: deps.timers ?? systemTimers,
        ...(deps.offsiteRetryDelaysMs ? { retryDelaysMs: deps.offsiteRetryDelaysMs } : {}),
        onCopyResult: (r) =>
          events.emit(r.ok ? { type: "backup.offsite_copied", ...r } : { type: "backup.offsite_failed", ...r }),
      })
    : null;
  /** Set by `start()`: new backups are queued for the bucket from then on. */
  let replicating = false;
  /** The age identities, read from BACKUP_AGE_IDENTITY_FILE once, when first needed (or at start). */
  let identities: Promise<string[]> | null = null;
  const keys = (): Promise<string[]> => {
    const file = config.encryption.identityFile;
    identities ??= file ? loadIdentities(file) : Promise.resolve([]);
    return identities;
  };
  const runHistory = deps.runHistoryFile ? createRunHistory({ file: deps.runHistoryFile, logger }) : null;
  if (runHistory) recordRuns(events, runHistory);
  let current: EngineActivity | null = null;
  let currentJob: Promise<unknown> | null = null;
  /** The backup being restored right now; it cannot be deleted meanwhile. */
  let importing: string | null = null;
  /** Stops the running import (cancel, deadline, shutdown); null when none runs. */
  let stopper: AbortController | null = null;
  /** Stops running verifications at shutdown. */
  const verifies = new Set<AbortController>();
  const timeoutSeconds = config.backup.importTimeoutSeconds;
  const limits = { maxTotalBytes: config.backup.maxImportBytes, maxStatementBytes: config.backup.maxStatementBytes };
  let closed = false;
  /** Work that outlives a job (the checkpoint after an import); `close()` waits for it. */
  const background = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const settled = p.then(
      () => {},
      () => {},
    );
    background.add(settled);
    void settled.then(() => background.delete(settled));
  };

  /**
   * A cleanup step whose failure must not hide the outcome being reported: it
   * is logged at warn (a temp file stays until the start-up cleanup removes
   * it; a backup file stays listed). True when it worked, so no event claims
   * a removal that did not happen.
   */
  async function cleanUp(what: string, fields: Record<string, unknown>, step: () => Promise<unknown>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (err) {
      logger.warn(`could not ${what}`, { ...fields, error: err });
      return false;
    }
  }
  const removeTemp = (filePath: string) => cleanUp("remove a temporary file", { path: filePath }, () => fs.rm(filePath, { force: true }));

  const describeBusy = (a: EngineActivity) =>
    `${a.kind === "import" ? "An import" : `A${a.trigger ? ` ${a.trigger}` : ""} backup`} is running (started ${a.startedAt}${a.actor ? ` by ${a.actor}` : ""}); try again when it has finished.`;

  /**
   * A signal that fires at the import deadline (IMPORT_TIMEOUT_SECONDS) or
   * when `abort(reason)` is called; its reason is the `ImportStoppedError` the
   * caller gets. `done()` clears the timer.
   */
  function deadline(what: string): { controller: AbortController; done: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(
        new ImportStoppedError(
          "timeout",
          `The ${what} did not finish within IMPORT_TIMEOUT_SECONDS (${timeoutSeconds} s) and was stopped; everything was rolled back and the database is unchanged.`,
        ),
      );
    }, timeoutSeconds * 1000);
    (timer as { unref?: () => void }).unref?.();
    return { controller, done: () => clearTimeout(timer) };
  }

  /** The error to report for `err`: the stop reason when the work was stopped on purpose. */
  const stopReason = (err: unknown, signal: AbortSignal | undefined): unknown => (signal?.aborted ? signal.reason : err);

  /**
   * Runs `fn` as the one job of this engine, holding the folder lock. An
   * import gets a signal that stops it (deadline, `cancelImport`, `close`).
   */
  async function exclusive<T>(activity: EngineActivity, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (closed) throw new BusyError("Lifeboat is shutting down; no new backup or import can start.");
    if (current) throw new BusyError(describeBusy(current));
    current = activity; // set before the first await: two calls in one tick cannot both start
    const stop = activity.kind === "import" ? deadline("import") : null;
    const signal = stop?.controller.signal ?? new AbortController().signal;
    if (stop) stopper = stop.controller;
    const job = (async () => {
      const lock = await storage.lock(activity.trigger ? { kind: activity.kind, trigger: activity.trigger } : { kind: activity.kind });
      try {
        return await fn(signal);
      } catch (err) {
        throw stopReason(err, signal);
      } finally {
        await lock.release();
      }
    })();
    currentJob = job;
    try {
      return await job;
    } finally {
      stop?.done();
      stopper = null;
      current = null;
      currentJob = null;
    }
  }

  /**
   * Writes one backup file and gives it its name. No events: the callers
   * decide. `via`: the import's worker, whose pinned snapshot is read (see
   * `runImport`); otherwise a worker of its own.
   */
  async function writeBackup(
    trigger: BackupTrigger,
    actor: string | null,
    periodKey: string | null,
    via?: DbWorker | null,
  ): Promise<BackupMeta> {
    const createdAt = clock.now();
    const gzip = config.backup.compression === "gzip";
    const ageRecipients = config.encryption.recipients;
    const encrypted = ageRecipients.length > 0;
    const tempPath = storage.tempPath(`${gzip ? ".sql.gz" : ".sql"}${encrypted ? ".age" : ""}`);
    try {
      // `content`: what an import's reading pass will find of Lifeboat's tables (the backup worker reads it in the dump's snapshot).
      type Stored = DumpSummary & { size: number; content?: LifeboatContent | null };
      let exporting: Promise<Stored>;
      const common = {
        tempPath,
        gzip,
        ageRecipients,
        trigger,
        lifeboatVersion: VERSION,
        ...(deps.statementBytes ? { statementBytes: deps.statementBytes } : {}),
      };
      if (native) {
        await fs.access(config.databasePath!).catch(() => {
          throw new Error(`The database file ${config.databasePath} does not exist.`);
        });
        const request = {
          op: "export" as const,
          dbPath: config.databasePath!,
          busyTimeoutMs: BUSY_TIMEOUT_MS,
          createdAt: createdAt.toISOString(),
          ...common,
          ...(via ? { fromImport: true } : {}),
        };
        exporting = via ? via.call<Stored>(request) : workers.run((w) => w.call<Stored>(request));
      } else {
        exporting = exportViaClient(client(), { ...common, createdAt });
      }
      // Hashed here while the export writes it (see `hashAsWritten`).
      const hashing = hashAsWritten(tempPath, exporting);
      hashing.catch(() => {});
      const stored = await exporting;
      const { sha256, size } = await hashing;
      if (size !== stored.size) throw new Error(`The backup file holds ${size} bytes, but ${stored.size} were written to it.`);
      const meta = await storage.place(tempPath, {
        taken: await namesOffsite(),
        createdAt,
        trigger,
        actor,
        sha256,
        size,
        rowCounts: stored.rowCounts,
        periodKey,
        compressed: gzip,
        encrypted,
        restoreProblems: stored.restoreProblems,
        ...(stored.content ? { content: stored.content } : {}),
      });
      if (meta.restoreProblems) {
        // Said now, not on the day the backup is needed.
        logger.warn("backup written, but Lifeboat could not restore it (sqlite3 may)", {
          name: meta.name,
          problems: meta.restoreProblems,
        });
      }
      return meta;
    } catch (err) {
      await removeTemp(tempPath);
      // The database's bytes: its file and its write-ahead log.
      const sizeOf = (p: string) => fs.stat(p).then((st) => st.size, () => 0);
      const dbBytes = config.databasePath ? (await sizeOf(config.databasePath)) + (await sizeOf(`${config.databasePath}-wal`)) : null;
      // The dump's final size is unknown until it is written; the database's is the nearest hint (gzip needs less).
      throw await storage.writeFailure(err, { what: "the backup", ...(dbBytes !== null ? { databaseBytes: dbBytes } : {}) });
    }
  }

  function recordBackup(outcome: BackupOutcome): void {
    results.backup = outcome;
    if (outcome.ok) {
      logger.info("backup created", {
        name: outcome.backup.name,
        trigger: outcome.trigger,
        size: outcome.backup.size,
        durationMs: outcome.durationMs,
      });
      events.emit({ type: "backup.created", ...outcome });
      // Every backup goes off-site, in the background once `start()` ran (the server): the local
      // backup is done and never waits for it. The command line starts no background copies.
      if (replicating) offsite?.enqueue(outcome.backup.name);
    } else {
      logger.error("backup failed", { trigger: outcome.trigger, error: outcome.error.message });
      events.emit({ type: "backup.failed", ...outcome });
    }
  }

  /** `writeBackup` with timing, the result record and the event. */
  async function backupWithOutcome(trigger: BackupTrigger, actor: string | null, periodKey: string | null): Promise<BackupMeta> {
    const started = clock.now();
    const elapsed = stopwatch();
    const base = { trigger, actor, periodKey, startedAt: started.toISOString() };
    try {
      const backup = await writeBackup(trigger, actor, periodKey);
      recordBackup({ ok: true, ...base, finishedAt: clock.now().toISOString(), durationMs: elapsed(), backup });
      return backup;
    } catch (err) {
      recordBackup({
        ok: false,
        ...base,
        finishedAt: clock.now().toISOString(),
        durationMs: elapsed(),
        error: errorInfo(err),
      });
      throw err;
    }
  }

  /**
   * Names of the backups in the bucket: a name pruned here may still be there, and
   * must not be given to a new backup (its copy would be refused as a different
   * object of the same name). Empty when there is no bucket or it cannot be listed now.
   */
  async function namesOffsite(): Promise<ReadonlySet<string>> {
    if (!offsite) return new Set();
    return new Set((await offsite.list().catch(() => [])).map((r) => r.name));
  }

  /** Validates a file and places it as an `upload` backup (the temp file must be in the backup folder). */
  async function storeValidated(
    tempPath: string,
    actor: string | null,
    signal?: AbortSignal,
  ): Promise<{ meta: BackupMeta; validated: ValidatedDump }> {
    const validated = await validateInWorker(workers, tempPath, migrationSpecs, limits, signal, await keys());
    const started = clock.now();
    const meta = await storage.place(tempPath, {
      taken: await namesOffsite(),
      createdAt: started,
      trigger: "upload",
      actor,
      sha256: validated.sha256,
      size: validated.size,
      rowCounts: validated.header?.rowCounts ?? null,
      compressed: validated.compressed,
      encrypted: validated.encrypted,
      kind: validated.content.kind,
      content: validated.content,
    });
    const iso = started.toISOString();
    recordBackup({ ok: true, trigger: "upload", actor, periodKey: null, startedAt: iso, finishedAt: iso, durationMs: 0, backup: meta });
    return { meta, validated };
  }

  /** Brings a file from outside into the backup folder as our own temp file (copy; the original stays). */
  async function adoptFile(filePath: string, consume: boolean): Promise<string> {
    const st = await fs.lstat(filePath).catch(() => null);
    if (!st || !st.isFile()) {
      if (consume) await removeTemp(filePath);
      throw new ValidationError(`${filePath} is not a regular file.`, "file");
    }
    const inFolder = path.dirname(path.resolve(filePath)) === storage.dir;
    if (consume && inFolder) return filePath;
    await storage.ensureFolder();
    const temp = storage.tempPath(".upload");
    try {
      await fs.copyFile(filePath, temp, fsConstants.COPYFILE_EXCL);
    } catch (err) {
      await removeTemp(temp);
      throw await storage.writeFailure(err, { what: `the copy of ${filePath}`, neededBytes: st.size });
    } finally {
      if (consume) await removeTemp(filePath);
    }
    return temp;
  }

  function finishOptions(header: DumpHeader | null, validated: CheckedFile): FinishImportOptions {
    return {
      content: validated.content,
      ...(deps.scrypt ? { scrypt: deps.scrypt } : {}),
      headerRowCounts: header?.rowCounts ?? validated.header?.rowCounts ?? null,
      migrations: migrationSpecs,
      now: clock.now().toISOString(),
    };
  }

  /** A shutdown does not wait for an import (it could run for an hour, or forever): it stops and rolls back. */
  function stopForShutdown(): void {
    closed = true;
    const shutdown = () =>
      new ImportStoppedError("shutdown", "Lifeboat is shutting down; the import was stopped and rolled back, and the database is unchanged.");
    stopper?.abort(shutdown());
    for (const v of verifies) v.abort(shutdown());
  }

  /**
   * What the checking pass alone can refuse, before any safety backup is
   * written: bytes that differ from the recorded sha256, and a dump from a
   * newer Lifeboat schema.
   */
  function checkBeforeApply(checked: CheckedFile, source: string, expectedSha256: string | null): void {
    if (expectedSha256 && checked.sha256 !== expectedSha256) throw new ChecksumMismatchError(source, expectedSha256, checked.sha256);
    const version = checked.content.schemaVersion ?? 0;
    if (version > latestSchema) {
      throw new InvalidBackupError(
        `the backup comes from a newer Lifeboat (schema version ${version}; this Lifeboat knows up to ${latestSchema}). Upgrade Lifeboat before restoring it`,
      );
    }
  }

  /**
   * The import's transaction on the database: in a backup worker process for a
   * local file, first as a read snapshot (the write lock comes at `lock()`);
   * over the client otherwise, with the write lock from the start. Both decrypt
   * an age-encrypted file with the configured identities.
   */
  const openSession = async (signal: AbortSignal): Promise<ImportSession> =>
    native
      ? openWorkerSession(processes, config.databasePath!, BUSY_TIMEOUT_MS, signal, { lock: false, identities: await keys() })
      : openClientSession(workers, client(), signal, await keys());

  /**
   * The import proper, inside the engine's job. The file is checked end to
   * end first (nothing touched, nothing locked), and the write lock is taken
   * only for the replacement. The safety backup is always exactly the state
   * the import replaces, and COMMIT waits for it:
   * - WAL mode (a database Lifeboat created): after the check, the write lock;
   *   the safety backup is then read by another connection while the import
   *   writes (until COMMIT every other reader sees the state under the lock).
   *   One copy, written on the other core, whatever the application writes.
   * - Rollback journal: the safety backup is read from a snapshot while the
   *   file is checked and the application keeps writing; the lock is then
   *   taken inside the snapshot's own transaction, which SQLite refuses if
   *   anything was committed since (see `LockOutcome`); if so, the safety
   *   backup is taken again under the lock before the import writes.
   * - A remote database: the client's transaction locks from the start.
   * Then the objects are replaced, the checks run, COMMIT. Any failure rolls
   * back and drops the safety backup (nothing changed); a failed safety
   * backup stops the import at once.
   */
  async function runImport(
    filePath: string,
    source: string,
    actor: string | null,
    alreadyValidated: ValidatedDump | null,
    expectedSha256: string | null,
    signal: AbortSignal,
    recorded: LifeboatContent | null = null,
  ): Promise<ImportResult> {
    const started = clock.now();
    const elapsed = stopwatch();
    importing = source;
    const gateOptions = { busyMessage: "Other changes to the database are still being written; try the import again in a moment." };
    // In-process writers queue at the gate while the write lock is held: from the start over the
    // client (which locks at once), only from `lock()` to COMMIT for a local file.
    const whole = native ? <T>(fn: () => Promise<T>) => fn() : <T>(fn: () => Promise<T>) => deps.writeGate.run(fn, gateOptions);
    const locked = native ? <T>(fn: () => Promise<T>) => deps.writeGate.run(fn, gateOptions) : <T>(fn: () => Promise<T>) => fn();
    const failSafety = (err: unknown): Error => {
      recordBackup({
        ok: false,
        trigger: "pre-import",
        actor,
        periodKey: null,
        startedAt: started.toISOString(),
        finishedAt: clock.now().toISOString(),
        durationMs: elapsed(),
        error: errorInfo(err),
      });
      return prefixed(err, "The safety backup failed, so nothing was imported: ");
    };
    try {
      const result = await whole(async () => {
        // A failed safety backup written while the import runs stops the import at once (see below).
        const safetyFailed = new AbortController();
        const session = await openSession(AbortSignal.any([signal, safetyFailed.signal]));
        let safetyBackup: BackupMeta | null = null;
        let safetyError: Error | null = null;
        let whileImporting: Promise<void> | null = null;
        let committed = false;
        const steps: Record<string, number | string> = {};
        let safetyDone = clock.now();
        let safetyDoneMs = 0;
        /** The safety backup from the state under the import's write lock (another connection reads it). */
        const safetyUnderLock = (since: number) =>
          writeBackup("pre-import", actor, null).then(
            (meta) => {
              safetyBackup = meta;
              safetyDone = clock.now();
              safetyDoneMs = elapsed();
              steps.safetyBackupUnderLockMs = elapsed() - since;
            },
            (err: unknown) => {
              safetyError = failSafety(err);
              safetyFailed.abort(safetyError);
              throw safetyError;
            },
          );
        try {
          const checkWatch = stopwatch();
          let checkMs = 0;
          // The check before anything is touched: every statement of the file, or, for bytes whose
          // content Lifeboat recorded when it wrote or fully checked them, their sha256 alone (the
          // apply reads and checks every statement again as it goes, and a refusal there rolls back).
          const fullCheck = async () => validateInWorker(workers, filePath, migrationSpecs, limits, signal, await keys());
          const hashCheck = (content: LifeboatContent) =>
            workers.run((w) => w.call<FileHash>({ op: "hash", filePath })).then((h): CheckedFile => ({ content, sha256: h.sha256, header: null }));
          steps.check = alreadyValidated ? "checked when stored" : recorded ? "sha256 (content recorded for these bytes)" : "every statement";
          const checked = (alreadyValidated ? Promise.resolve(alreadyValidated) : recorded ? hashCheck(recorded) : fullCheck()).then((v) => {
            checkMs = alreadyValidated ? 0 : checkWatch();
            checkBeforeApply(v, source, expectedSha256);
            return v;
          });
          checked.catch(() => {}); // awaited below, whatever the safety backup does
          if (!session.wal) {
            // Rollback journal (or a remote database): the safety backup is read from the session's
            // snapshot (the import's own process) while the file is checked (a thread of this
            // process): they read different files and run side by side. A file the check refuses
            // answers with that refusal, and its safety backup is removed unannounced.
            try {
              safetyBackup = await writeBackup("pre-import", actor, null, session.worker);
            } catch (err) {
              await checked; // a refused file says so rather than the safety backup's failure
              throw failSafety(err);
            }
            safetyDone = clock.now();
            safetyDoneMs = elapsed();
          }
          const validated = await checked;
          await deps.onImportStep?.(session.wal ? "checked" : "safety-backup-written");
          return await locked(async () => {
            const lockStart = elapsed();
            const lock = await session.lock();
            steps.lockWaitMs = lock.waitMs;
            if (session.wal) {
              // WAL: until COMMIT every other connection reads exactly the state under the lock, however
              // much the import has written. The safety backup is read from it on the other core while
              // the import writes (the backup is then one copy, and the lock is not held longer for
              // it), and COMMIT waits for it. Had it been read before the lock, any write in between
              // would have meant reading it twice.
              whileImporting = safetyUnderLock(lockStart);
              whileImporting.catch(() => {}); // awaited before COMMIT (or after a failure)
              steps.safetyBackup = "read from the state under the lock while the import wrote";
            } else if (!lock.unchanged) {
              // Something was committed after the snapshot: that backup is not what gets replaced.
              // A rollback journal lets no reader past a writer's changes: taken again before the import writes.
              const stale = safetyBackup!.name;
              safetyBackup = null;
              await storage.remove(stale);
              await safetyUnderLock(lockStart);
              steps.safetyBackup = "taken again under the lock (a write came in after the snapshot)";
            } else {
              steps.safetyBackup = "from the snapshot (no write in between)";
            }
            const applyStart = elapsed();
            const header = await session.apply(filePath, { content: validated.content, migrations: migrationSpecs, limits });
            const appliedMs = elapsed();
            const outcome = await session.finish(finishOptions(header, validated), null);
            const checkedMs = elapsed();
            if (whileImporting) await whileImporting;
            const safetyWaitMs = elapsed() - checkedMs;
            outcome.timings.commitMs = await session.commit();
            committed = true;
            logger.debug("import steps", {
              checkMs,
              ...(session.wal ? {} : { safetyBackupMs: safetyDoneMs }),
              ...steps,
              applyMs: appliedMs - applyStart,
              finishMs: checkedMs - appliedMs,
              safetyWaitMs,
              ...outcome.timings,
              lockHeldMs: elapsed() - lockStart,
            });
            // Announced once the import it protects is committed (a failed import drops it again).
            recordBackup({
              ok: true,
              trigger: "pre-import",
              actor,
              periodKey: null,
              startedAt: started.toISOString(),
              finishedAt: safetyDone.toISOString(),
              durationMs: safetyDoneMs,
              backup: safetyBackup!,
            });
            return { safetyBackup: safetyBackup!.name, outcome };
          });
        } catch (err) {
          if (whileImporting) await (whileImporting as Promise<void>).catch(() => {});
          if (safetyBackup) {
            const name = (safetyBackup as BackupMeta).name;
            await cleanUp("remove the safety backup of a failed import", { name }, () => storage.remove(name));
          }
          // The import process was stopped because its safety backup failed: that failure is the answer.
          throw safetyError ?? err;
        } finally {
          // After a commit the worker checkpoints the WAL in the background (writers are not
          // blocked by it); after a failure the rollback completes before the gate opens again.
          if (committed) track(session.close());
          else await session.close();
        }
      });
      const finished = clock.now();
      const importResult: ImportResult = {
        source,
        safetyBackup: result.safetyBackup,
        tables: result.outcome.tables,
        rows: result.outcome.rows,
        durationMs: elapsed(),
        migrated: result.outcome.migrated,
      };
      const outcome: ImportOutcome = {
        ok: true,
        actor,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: importResult.durationMs,
        result: importResult,
      };
      results.import = outcome;
      logger.info("import completed", { ...importResult, actor });
      events.emit({ type: "import.completed", ...outcome });
      return importResult;
    } catch (err) {
      const reported = stopReason(err, signal);
      recordImportFailure(source, actor, started, elapsed(), reported);
      throw reported;
    } finally {
      importing = null;
    }
  }

  function recordImportFailure(source: string | null, actor: string | null, started: Date, durationMs: number, err: unknown): void {
    const outcome: ImportOutcome = {
      ok: false,
      actor,
      source,
      startedAt: started.toISOString(),
      finishedAt: clock.now().toISOString(),
      durationMs,
      error: errorInfo(err),
    };
    results.import = outcome;
    logger.warn("import failed; the database is unchanged", { source, actor, error: outcome.error.message });
    events.emit({ type: "import.failed", ...outcome });
  }

  /** Stores `tempPath` (ours, in the folder) as an upload and imports it; the stored copy goes again if the import fails. */
  async function storeAndImport(tempPath: string, actor: string | null, signal: AbortSignal): Promise<ImportResult> {
    let stored: { meta: BackupMeta; validated: ValidatedDump };
    const started = clock.now();
    const elapsed = stopwatch();
    try {
      stored = await storeValidated(tempPath, actor, signal);
    } catch (err) {
      const reported = stopReason(err, signal);
      recordImportFailure(null, actor, started, elapsed(), reported);
      throw reported;
    } finally {
      await removeTemp(tempPath);
    }
    try {
      return await runImport(storage.pathOf(stored.meta.name), stored.meta.name, actor, stored.validated, null, signal);
    } catch (err) {
      const { name } = stored.meta;
      if (await cleanUp("remove the stored upload of a failed import", { name }, () => storage.remove(name))) {
        events.emit({ type: "backup.deleted", name });
      }
      throw err;
    }
  }

  /** Rows per table and the enabled admins of the live database (read through the app's client). */
  async function liveState(): Promise<{ tables: Map<string, number>; admins: string[] }> {
    const tables = new Map<string, number>();
    const db = deps.db;
    if (!db) return { tables, admins: [] };
    const listed = await db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    for (const row of listed.rows) {
      const table = String(row[0]);
      if (table.toLowerCase().startsWith("sqlite_")) continue;
      const counted = await db.execute(`SELECT count(*) FROM ${quoteIdent(table)}`);
      tables.set(table, Number(counted.rows[0]![0]));
    }
    const users = [...tables.keys()].find((t) => t.toLowerCase() === "lifeboat_users");
    const admins = users
      ? (await db.execute(`SELECT username FROM ${quoteIdent(users)} WHERE role = 'admin' AND disabled = 0 ORDER BY username`)).rows.map(
          (r) => String(r[0]),
        )
      : [];
    return { tables, admins };
  }

  async function usageOf(all: readonly BackupMeta[]): Promise<FolderUsage> {
    let freeBytes: number | null = null;
    let diskBytes: number | null = null;
    try {
      const st = await fs.statfs(storage.dir);
      freeBytes = Number(st.bavail) * Number(st.bsize);
      diskBytes = Number(st.blocks) * Number(st.bsize);
    } catch {
      // statfs is missing on some platforms and runtimes: the page then shows the total only.
    }
    return { backups: all.length, totalBytes: all.reduce((sum, b) => sum + b.size, 0), freeBytes, diskBytes };
  }

  /** The local copy, or null when it is not in the folder. */
  const localOrNull = (name: string): Promise<BackupMeta | null> =>
    storage.get(name).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });

  /** The off-site copy, or null when it is not in the bucket (or off-site storage is off). */
  const remoteOrNull = async (name: string): Promise<BackupMeta | null> => {
    if (!offsite) return null;
    return await offsite.get(name).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
  };

  const listed = (b: BackupMeta, location: BackupLocation): ListedBackup => ({
    ...b,
    location,
    offsite: location === "here" ? (offsite?.pendingOf(b.name) ?? null) : null,
  });

  async function listAll(): Promise<ListedBackup[]> {
    const locals = await storage.list();
    if (!offsite) return locals.map((b) => listed(b, "here"));
    let remote: BackupMeta[] | null;
    try {
      remote = await offsite.list();
    } catch {
      remote = null; // the status says why; list what is here, as the sidecars remember it
    }
    const remoteByName = new Map((remote ?? []).map((r) => [r.name, r]));
    const out = locals.map((b) => {
      const there = remote ? remoteByName.has(b.name) : Boolean(b.offsiteAt);
      remoteByName.delete(b.name);
      return listed(b, there ? "both" : "here");
    });
    for (const r of remoteByName.values()) out.push(listed(r, "offsite"));
    return out.sort(newestFirst);
  }

  async function getListed(name: string): Promise<ListedBackup> {
    assertSafeBackupName(name);
    const local = await localOrNull(name);
    if (local) {
      const there = offsite ? Boolean(await remoteOrNull(name).catch(() => (local.offsiteAt ? local : null))) : false;
      return listed(local, there ? "both" : "here");
    }
    const remote = await remoteOrNull(name);
    if (!remote) throw new NotFoundError(`There is no backup named ${name}.`);
    return listed(remote, "offsite");
  }

  /** The local copy of a listed backup, downloaded from the bucket first when it is only there. */
  async function fetchBackup(name: string): Promise<BackupMeta> {
    assertSafeBackupName(name);
    const local = await localOrNull(name);
    if (local) return local;
    if (!offsite) throw new NotFoundError(`There is no backup named ${name}.`);
    try {
      return await offsite.fetchToLocal(name);
    } catch (err) {
      // Fetched by someone else meanwhile (two imports, another instance sharing the folder).
      if (err instanceof ConflictError) return storage.get(name);
      throw err;
    }
  }

  /** `previewBackup` of a backup's bytes at `filePath` (its own file, or a temporary download). */
  async function previewFile(backup: ListedBackup, filePath: string, started: number): Promise<BackupPreview> {
    // A dry run has the import's deadline too: a hostile file cannot hold a worker forever.
    const stop = deadline("verification");
    verifies.add(stop.controller);
    const signal = stop.controller.signal;
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-preview-"));
    let validated: ValidatedDump | null = null;
    let header: DumpHeader | null = null;
    let outcome: Awaited<ReturnType<ImportSession["finish"]>> | null = null;
    let problem: string | null = null;
    try {
      // The import's own steps into an empty database that is thrown away: what it refuses, this reports.
      const session = await openWorkerSession(processes, path.join(scratch, "preview.db"), BUSY_TIMEOUT_MS, signal, { lock: true, identities: await keys() });
      try {
        validated = await session.validate(filePath, migrationSpecs, limits);
        checkBeforeApply(validated, backup.name, backup.sha256);
        header = await session.apply(filePath, { content: validated.content, migrations: migrationSpecs, limits });
        outcome = await session.finish(finishOptions(header, validated), false);
      } catch (err) {
        const reason = stopReason(err, signal);
        const fileFault =
          reason instanceof InvalidBackupError ||
          reason instanceof UnsupportedDatabaseError ||
          (reason instanceof ImportStoppedError && reason.why === "timeout");
        if (!fileFault) throw reason;
        problem = reason.message;
      } finally {
        await session.close();
      }
    } finally {
      stop.done();
      verifies.delete(stop.controller);
      await fs.rm(scratch, { recursive: true, force: true });
    }
    const live = await liveState();
    const backupRows: Record<string, number> | null = outcome?.tableRows ?? header?.rowCounts ?? validated?.header?.rowCounts ?? null;
    const names = new Set([...Object.keys(backupRows ?? {}), ...live.tables.keys()]);
    const actual = validated?.sha256 ?? (await hashFile(filePath).then((h) => h.sha256, () => null));
    const recorded = backup.sha256;
    return {
      backup,
      kind: validated?.content.kind ?? backupKindOf(Object.keys(backupRows ?? {})),
      checksum: {
        state: actual === null ? "unreadable" : recorded === null ? "not-recorded" : recorded === actual ? "matches" : "differs",
        recorded,
        actual,
      },
      restorable: problem === null,
      problem,
      tablesKnown: backupRows !== null,
      tables: [...names]
        .sort((a, b) => a.localeCompare(b))
        .map((table) => ({
          name: table,
          backupRows: backupRows?.[table] ?? null,
          liveRows: live.tables.get(table) ?? null,
        })),
      // A plain dump keeps the accounts there are now.
      admins: { after: outcome ? (validated?.content.kind === "plain" ? live.admins : (outcome.admins ?? [])) : null, now: live.admins },
      migrations: outcome?.migrated ?? [],
      durationMs: Math.round(performance.now() - started),
    };
  }

  const startedNow = (kind: EngineActivity["kind"], actor: string | null, trigger?: BackupTrigger): EngineActivity => ({
    kind,
    ...(trigger ? { trigger } : {}),
    startedAt: clock.now().toISOString(),
    actor,
  });

  const engine: BackupEngine = {
    events,

    async createBackup(options) {
      if (!options || !(BACKUP_TRIGGERS as readonly string[]).includes(options.trigger)) {
        throw new ValidationError(`trigger must be one of ${BACKUP_TRIGGERS.join(", ")}.`, "trigger");
      }
      const actor = options.actor ?? null;
      return await exclusive(startedNow("backup", actor, options.trigger), () =>
        backupWithOutcome(options.trigger, actor, options.periodKey ?? null),
      );
    },

    listBackups: listAll,

    getBackup: getListed,

    async findBackups(query) {
      const all = await listAll();
      // The usage is the local folder's (its disk); off-site-only backups take no room here.
      return { ...pageOfBackups(all, query), usage: await usageOf(all.filter((b) => b.location !== "offsite")) };
    },

    folderUsage: async () => usageOf(await storage.list()),

    async deleteBackups(names, options = {}) {
      const result: BulkDeleteResult = { deleted: [], refused: [] };
      for (const name of new Set(names)) {
        try {
          await engine.deleteBackup(name, options);
          result.deleted.push(name);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          result.refused.push({ name, reason: err.message });
        }
      }
      return result;
    },

    async openBackup(name) {
      assertSafeBackupName(name);
      const local = await localOrNull(name);
      if (!local && offsite) return offsite.open(name);
      const meta = local ?? (await storage.get(name));
      const fh = await fs.open(storage.pathOf(name), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw new ConflictError(`${name} is not a regular file.`);
      }
      return { meta: { ...meta, size: st.size }, stream: fileHandleStream(fh, { chunkBytes: 64 * 1024, closeHandle: true }) };
    },

    async deleteBackup(name, options = {}) {
      assertSafeBackupName(name);
      const from = options.from ?? "all";
      if (from === "offsite" && !offsite) throw new ValidationError("Off-site storage is not configured (BACKUP_S3_BUCKET).", "from");
      const local = from === "offsite" ? null : await localOrNull(name);
      const remote = from === "here" ? null : await remoteOrNull(name);
      if (!local && !remote) {
        const where = from === "here" ? " here" : from === "offsite" ? " off-site" : "";
        throw new NotFoundError(`There is no backup named ${name}${where}.`);
      }
      if (local?.pinned || remote?.pinned) throw new ConflictError(`${name} is pinned; unpin it before deleting it.`, "pinned");
      if (importing === name) throw new ConflictError(`${name} is being imported right now.`);
      const removed: ("here" | "offsite")[] = [];
      if (local) {
        await storage.remove(name);
        removed.push("here");
      }
      if (remote) {
        await offsite!.remove(name);
        removed.push("offsite");
      }
      logger.info("backup deleted", { name, removed });
      events.emit({ type: "backup.deleted", name });
      return { removed };
    },

    async setPinned(name, pinned) {
      assertSafeBackupName(name);
      const local = await localOrNull(name);
      const remote = await remoteOrNull(name);
      if (!local && !remote) throw new NotFoundError(`There is no backup named ${name}.`);
      if (remote) await offsite!.setPinned(name, pinned);
      if (local) return listed(await storage.setPinned(name, pinned), remote ? "both" : "here");
      return listed({ ...remote!, pinned }, "offsite");
    },

    fetchBackup,

    async start() {
      if (config.encryption.identityFile) await keys();
      if (!offsite) return;
      replicating = true;
      // The bucket check runs in the background: a slow or absent bucket never holds up the start.
      track(offsite.start().catch((err: unknown) => logger.error("off-site start failed", { error: (err as Error).message })));
    },

    async copyOffsite(name) {
      if (!offsite) return null;
      offsite.enqueue(name);
      await offsite.idle();
      return offsite.pendingOf(name)?.error ?? null;
    },

    offsiteStatus: () => offsite?.status() ?? null,

    offsiteIdle: async () => {
      await offsite?.idle();
    },

    async storeUpload(tempPath, options) {
      const actor = options.actor ?? null;
      try {
        const temp = await adoptFile(tempPath, true);
        try {
          return (await storeValidated(temp, actor)).meta;
        } finally {
          await removeTemp(temp);
        }
      } finally {
        await removeTemp(tempPath);
      }
    },

    async importBackup(name, options) {
      assertSafeBackupName(name);
      const actor = options.actor ?? null;
      return await exclusive(startedNow("import", actor), async (signal) => {
        // An off-site-only backup (a new host, a small local retention) is fetched and checked first.
        const meta = await fetchBackup(name);
        // What Lifeboat recorded of exactly these bytes when it wrote or fully checked them.
        const recorded = meta.sha256 && !meta.restoreProblems ? await storage.recordedContent(meta.name) : null;
        const content = recorded?.sha256 === meta.sha256 ? recorded.content : null;
        return runImport(storage.pathOf(meta.name), meta.name, actor, null, meta.sha256, signal, content);
      });
    },

    async importUpload(tempPath, options) {
      const actor = options.actor ?? null;
      try {
        return await exclusive(startedNow("import", actor), async (signal) => storeAndImport(await adoptFile(tempPath, true), actor, signal));
      } finally {
        await removeTemp(tempPath);
      }
    },

    async importFile(filePath, options) {
      const actor = options.actor ?? null;
      return await exclusive(startedNow("import", actor), async (signal) => storeAndImport(await adoptFile(filePath, false), actor, signal));
    },

    async previewBackup(name) {
      if (closed) throw new BusyError("Lifeboat is shutting down; no preview can start.");
      const started = performance.now();
      const backup = await getListed(name);
      if (backup.location !== "offsite") return previewFile(backup, storage.pathOf(backup.name), started);
      // Only in the bucket: previewed from a temporary download that is removed again, so the
      // preview (a GET) leaves the folder as it was; the checksum state compares its bytes.
      const temp = storage.tempPath(".preview");
      try {
        await offsite!.download(backup.name, temp, { check: false });
        return await previewFile(backup, temp, started);
      } finally {
        await removeTemp(temp);
      }
    },

    async verifyFile(filePath, options = {}) {
      if (closed) throw new BusyError("Lifeboat is shutting down; no verification can start.");
      const elapsed = stopwatch();
      const stop = deadline("verification");
      verifies.add(stop.controller);
      const signal = stop.controller.signal;
      const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-verify-"));
      try {
        // The same steps as an import, into an empty database that is thrown away.
        const session = await openWorkerSession(processes, path.join(scratch, "verify.db"), BUSY_TIMEOUT_MS, signal, { lock: true, identities: await keys() });
        try {
          const validated = await session.validate(filePath, migrationSpecs, limits);
          checkBeforeApply(validated, path.basename(filePath), options.expectedSha256 ?? null);
          const header = await session.apply(filePath, { content: validated.content, migrations: migrationSpecs, limits });
          const outcome = await session.finish(finishOptions(header, validated), false);
          return {
            sha256: validated.sha256,
            size: validated.size,
            compressed: validated.compressed,
            encrypted: validated.encrypted,
            header: validated.header,
            content: validated.content,
            tables: outcome.tables,
            rows: outcome.rows,
            migrated: outcome.migrated,
            durationMs: elapsed(),
          };
        } finally {
          await session.close();
        }
      } catch (err) {
        throw stopReason(err, signal);
      } finally {
        stop.done();
        verifies.delete(stop.controller);
        await fs.rm(scratch, { recursive: true, force: true });
      }
    },

    async verifyBackup(name) {
      assertSafeBackupName(name);
      // An off-site-only backup is fetched into the folder first (streamed; a download whose bytes
      // differ from the recorded sha256 is refused and nothing is kept), then checked like any other.
      const meta = await fetchBackup(name);
      let result: VerifyResult | null = null;
      let message: string | null = null;
      try {
        result = await engine.verifyFile(storage.pathOf(meta.name), { expectedSha256: meta.sha256 });
      } catch (err) {
        // What the file is to blame for is the verification's answer; anything else stays an error.
        const fileFault = err instanceof InvalidBackupError || (err instanceof ImportStoppedError && err.why === "timeout");
        if (!fileFault) throw err;
        message = err.message;
      }
      const verification = { ok: result !== null, at: clock.now().toISOString(), message };
      const backup = await storage.recordVerification(name, verification, result?.content);
      if (result) logger.info("backup verified", { name, ok: true });
      else logger.warn("backup failed verification", { name, ok: false, error: message });
      return { ok: verification.ok, message, backup, result };
    },

    async cancelImport(actor) {
      const running = stopper;
      if (!running || current?.kind !== "import") throw new ConflictError("No import is running.", "not_running");
      running.abort(
        new ImportStoppedError(
          "cancelled",
          `The import was cancelled${actor ? ` by ${actor}` : ""}; everything was rolled back and the database is unchanged.`,
        ),
      );
      // Answer once it has really stopped: rolled back, safety backup removed, lock released.
      await currentJob?.catch(() => {});
      return { cancelled: true };
    },

    checkUploadStart(firstBytes) {
      sniffDump(firstBytes);
    },

    async uploadTempPath() {
      await storage.ensureFolder();
      return storage.tempPath(".upload");
    },
    uploadWriteFailure: (err, declaredBytes) => storage.writeFailure(err, { what: "the upload", neededBytes: declaredBytes }),

    checkIdle() {
      if (current) throw new BusyError(`${current.kind === "import" ? "An import" : "A backup"} is running; try again when it has finished.`);
    },

    activity: () => (current ? { ...current } : null),

    lastResults: () => ({ backup: results.backup, import: results.import }),

    listRuns: (query) => (runHistory ? runHistory.list(query) : Promise.resolve({ runs: [], kept: 0 })),

    cleanupTemporaryFiles: () => storage.cleanup(),

    stopForShutdown,

    async close() {
      stopForShutdown();
      // Only waits: the job's failure was reported by the verb that ran it.
      await offsite?.close();
      await currentJob?.catch(() => {});
      await Promise.allSettled([...background]);
      await Promise.all([workers.close(), processes.close()]);
      await runHistory?.settled();
    },
  };
  return engine;
}
