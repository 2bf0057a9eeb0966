import type { Client } from "@libsql/client";
import { openClientImport } from "./client-driver.ts";
import type { DumpHeader } from "../../dump/reader.ts";
import {
  applyDump,
  finishImport,
  type ApplyOutcome,
  type ApplyPlan,
  type FinishImportOptions,
  type ReadLimits,
  type ValidatedDump,
} from "./apply-dump.ts";
import type { MigrationSpec } from "./connection.ts";
import type { DbWorker, WorkerPool } from "./worker-client.ts";
import type { ImportOpened, LockOutcome } from "./worker-protocol.ts";

/**
 * One import's transaction, wherever it runs: in the backup worker for a
 * local file (raw libsql; the worker also reads the dump and writes the safety
 * backup), or on the main thread over `@libsql/client` for a remote database.
 *
 * A worker session opened with `lock: false` first pins a read snapshot (the
 * safety backup reads it, writers carry on) and takes the write lock only at
 * `lock()`; with `lock: true` (scratch databases, and every client session) it
 * holds the write lock from the start.
 */
export interface ImportSession {
  /** The worker holding the transaction (local files), where the snapshot's safety backup is written. */
  readonly worker: DbWorker | null;
  /**
   * A local file in WAL mode: until COMMIT other connections read the state the
   * import replaces, so the safety backup can be read from it while the import writes.
   */
  readonly wal: boolean;
  /** The validation pass over the file; touches no database. */
  validate(filePath: string, migrations: readonly MigrationSpec[], limits?: ReadLimits): Promise<ValidatedDump>;
  /** Takes the write lock; says whether the snapshot still holds (see `LockOutcome`). */
  lock(): Promise<LockOutcome>;
  /** Drops the current objects (Lifeboat's stay for a plain dump) and runs every statement of the file. Returns the file's header. */
  apply(filePath: string, plan: ApplyPlan): Promise<DumpHeader | null>;
  /** Checks, Lifeboat's migrations, then COMMIT, ROLLBACK for a dry run, or neither (`null`: `commit()` follows). */
  finish(options: FinishImportOptions, commit: boolean | null): Promise<ApplyOutcome>;
  /** COMMIT after `finish(…, null)`; returns its milliseconds. */
  commit(): Promise<number>;
  /** Rolls back (when not committed) and releases everything; after a commit, checkpoints the WAL first. */
  close(): Promise<void>;
}

/**
 * Opens an import session on a local database file, in a backup worker
 * process from `processes` (see `startDbProcess`): when `signal` fires, the
 * process is killed, which ends the transaction (rolled back) and releases its
 * locks whatever SQLite was doing; the pending call then fails and the pool
 * replaces that process. `options.identities` decrypt an age-encrypted file.
 */
export async function openWorkerSession(
  processes: WorkerPool,
  dbPath: string,
  busyTimeoutMs: number,
  signal: AbortSignal,
  options: { lock: boolean; identities?: readonly string[] },
): Promise<ImportSession> {
  const identities = options.identities ?? [];
  if (signal.aborted) throw signal.reason;
  const acquired = await processes.acquire();
  const w = acquired.worker;
  const kill = () => void w.terminate();
  signal.addEventListener("abort", kill, { once: true });
  const lease = {
    release() {
      signal.removeEventListener("abort", kill);
      acquired.release();
    },
  };
  let opened: ImportOpened;
  try {
    if (signal.aborted) throw signal.reason;
    opened = await w.call<ImportOpened>({ op: "import-open", dbPath, busyTimeoutMs, lock: options.lock });
  } catch (err) {
    lease.release();
    throw err;
  }
  let committed = false;
  return {
    worker: w,
    wal: opened.wal,
    validate: (filePath, migrations, limits) =>
      w.call<ValidatedDump>({ op: "validate", filePath, migrations, ...(limits ? { limits } : {}), identities }),
    lock: () => w.call<LockOutcome>({ op: "import-lock" }),
    apply: (filePath, plan) => w.call<DumpHeader | null>({ op: "import-apply", filePath, plan: { ...plan, identities } }),
    async finish(options, commit) {
      const outcome = await w.call<ApplyOutcome>({ op: "import-finish", options, commit });
      committed = commit === true;
      return outcome;
    },
    async commit() {
      const ms = await w.call<number>({ op: "import-commit" });
      committed = true;
      return ms;
    },
    async close() {
      try {
        // After a large import the WAL is as large as the data; checkpointing it
        // here keeps that work off the serving thread (whose next write would do it).
        if (committed) await w.call({ op: "checkpoint" });
        else await w.call({ op: "import-rollback" });
      } catch {
        // a worker that failed here is not alive any more: the pool drops it
      } finally {
        lease.release();
      }
    },
  };
}

/**
 * The validation pass over a file in a backup worker of its own: reading a
 * 1 GB dump is seconds of parsing, kept off the serving thread.
 */
export function validateInWorker(
  pool: WorkerPool,
  filePath: string,
  migrations: readonly MigrationSpec[],
  limits?: ReadLimits,
  signal?: AbortSignal,
  identities: readonly string[] = [],
): Promise<ValidatedDump> {
  return pool.run(async (w) => {
    // The checking pass is JavaScript: stopping the thread stops it (the pool then drops that worker).
    const stop = () => void w.terminate();
    if (signal?.aborted) throw signal.reason;
    signal?.addEventListener("abort", stop, { once: true });
    try {
      return await w.call<ValidatedDump>({ op: "validate", filePath, migrations, ...(limits ? { limits } : {}), identities });
    } finally {
      signal?.removeEventListener("abort", stop);
    }
  });
}

/** Opens an import session on the database behind `db` (a remote one), on this thread. */
export async function openClientSession(
  pool: WorkerPool,
  db: Client,
  signal: AbortSignal,
  identities: readonly string[] = [],
): Promise<ImportSession> {
  const { conn, tx } = await openClientImport(db);
  return {
    worker: null,
    wal: false,
    validate: (filePath, migrations, limits) => validateInWorker(pool, filePath, migrations, limits, signal, identities),
    // A remote statement cannot be killed from here; the apply stops at the next chunk instead.
    apply: (filePath, plan) =>
      applyDump(conn, filePath, { ...plan, identities }, () => {
        if (signal.aborted) throw signal.reason;
      }),
    // The client's transaction holds the write lock from the start.
    lock: () => Promise.resolve({ unchanged: true, waitMs: 0 }),
    async finish(options, commit) {
      const outcome = await finishImport(conn, options);
      if (commit === null) return outcome;
      const t0 = performance.now();
      if (commit) await tx.commit();
      else await tx.rollback();
      outcome.timings.commitMs = Math.round(performance.now() - t0);
      return outcome;
    },
    async commit() {
      const t0 = performance.now();
      await tx.commit();
      return Math.round(performance.now() - t0);
    },
    async close() {
      if (!tx.closed) await tx.rollback().catch(() => {});
      tx.close();
    },
  };
}
