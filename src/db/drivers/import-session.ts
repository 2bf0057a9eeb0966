import type { Client } from "@libsql/client";
import { openClientImport } from "./client-driver.ts";
import type { DumpHeader } from "../../dump/reader.ts";
import {
  applyChunk,
  chunkStatements,
  clearDatabase,
  finishImport,
  readDumpFile,
  type ApplyOutcome,
  type FinishImportOptions,
  type ValidatedDump,
} from "./apply-dump.ts";
import type { DbWorker, WorkerPool } from "./worker-client.ts";

/**
 * One import's write transaction, wherever it runs: in the backup worker for a
 * local file (raw libsql; the worker also reads the dump and writes the safety
 * backup), or on the main thread over `@libsql/client` for a remote database.
 * Created with the write lock already taken (BEGIN IMMEDIATE).
 */
export interface ImportSession {
  /** The worker holding the transaction (local files), where the safety backup is written too. */
  readonly worker: DbWorker | null;
  /** The validation pass over the file; touches no database. */
  validate(filePath: string): Promise<ValidatedDump>;
  /** Drops the current objects and runs every statement of the file. Returns the file's header. */
  apply(filePath: string): Promise<DumpHeader | null>;
  /** Checks, Lifeboat's migrations, then COMMIT (or ROLLBACK for a dry run). */
  finish(options: FinishImportOptions, commit: boolean): Promise<ApplyOutcome>;
  /** Rolls back (when not committed) and releases everything; after a commit, checkpoints the WAL first. */
  close(): Promise<void>;
}

/** Opens an import session on a local database file, in a backup worker of the pool. */
export async function openWorkerSession(
  pool: WorkerPool,
  dbPath: string,
  busyTimeoutMs: number,
  identities: string[] = [],
): Promise<ImportSession> {
  const lease = await pool.acquire();
  const w = lease.worker;
  try {
    await w.call({ op: "import-open", dbPath, busyTimeoutMs });
  } catch (err) {
    lease.release();
    throw err;
  }
  let committed = false;
  return {
    worker: w,
    validate: (filePath) => w.call<ValidatedDump>({ op: "validate", filePath, identities }),
    apply: (filePath) => w.call<DumpHeader | null>({ op: "import-apply", filePath, identities }),
    async finish(options, commit) {
      const outcome = await w.call<ApplyOutcome>({ op: "import-finish", options, commit });
      committed = commit;
      return outcome;
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
export function validateInWorker(pool: WorkerPool, filePath: string, identities: string[] = []): Promise<ValidatedDump> {
  return pool.run((w) => w.call<ValidatedDump>({ op: "validate", filePath, identities }));
}

/** Opens an import session on the database behind `db` (a remote one), on this thread. */
export async function openClientSession(pool: WorkerPool, db: Client, identities: string[] = []): Promise<ImportSession> {
  const { conn, tx } = await openClientImport(db);
  return {
    worker: null,
    validate: (filePath) => validateInWorker(pool, filePath, identities),
    async apply(filePath) {
      await clearDatabase(conn);
      let header: DumpHeader | null = null;
      for await (const group of chunkStatements(readDumpFile(filePath, (h) => (header = h)))) {
        for (const chunk of group) await applyChunk(conn, chunk);
      }
      return header;
    },
    async finish(options, commit) {
      const outcome = await finishImport(conn, options);
      const t0 = performance.now();
      if (commit) await tx.commit();
      else await tx.rollback();
      outcome.timings.commitMs = Math.round(performance.now() - t0);
      return outcome;
    },
    async close() {
      if (!tx.closed) await tx.rollback().catch(() => {});
      tx.close();
    },
  };
}
