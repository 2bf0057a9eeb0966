/**
 * The backup worker thread: the heavy, synchronous work of an export or an
 * import on a local database file runs here, never on the thread that serves
 * HTTP. A `PRAGMA quick_check`, building an index, the COMMIT of a large
 * transaction or its WAL checkpoint each take seconds inside one native call;
 * here they only keep this thread busy, so `/healthz` stays fast. The worker
 * also reads and checks the dump file itself, so statements never have to be
 * copied between threads.
 *
 * One worker serves one job — a backup, or the steps of one import: check the
 * file, pin a read snapshot and write the safety backup from it, take the
 * write lock (`lockImport`), apply, check and commit. Messages are
 * `WorkerRequest` → `WorkerResponse`, handled one at a time in order.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { parentPort } from "node:worker_threads";
import { BusyError } from "../../errors.ts";
import { writeDump, type ByteSink } from "../../dump/writer.ts";
import { createFileSink, type FileSink } from "../../dump/file-sink.ts";
import { applyDump, finishImport, validateDumpFile } from "./apply-dump.ts";
import { hashFile } from "../../storage/file-hash.ts";
import { lifeboatContentOf } from "../lifeboat-tables.ts";
import type { ApplyConnection } from "./connection.ts";
import { nativeQuerier, nativeSnapshot, openNative, type NativeDatabase } from "./native-db.ts";
import { serializeError, type ImportOpened, type LockOutcome, type WorkerRequest, type WorkerResponse } from "./worker-protocol.ts";

/**
 * Page cache of the import connection, in KiB. Small while rows go in (they
 * are appended in key order, and SQLite sizes an index build's sort buffer
 * by it), larger for quick_check and foreign_key_check, which look pages
 * up all over the database.
 */
const APPLY_CACHE_KIB = 4 * 1024;
const CHECK_CACHE_KIB = 16 * 1024;
/**
 * Bytes processed between two young-generation collections (see `collectGarbage`).
 * 2 MB: the buffers of each page of an export (libsql's result, 10–60 KB) and
 * each chunk of a dump are freed only when V8 collects them, and glibc keeps
 * the highest point of a thread's malloc arena for good: at 8 MB a backup
 * thread's arena grew to 20–26 MB, at 2 MB to 19 MB.
 */
const GC_EVERY_BYTES = 2 * 1024 * 1024;

/**
 * Every page of an export and every chunk of a dump allocates fresh buffers
 * and strings; left to its own heuristics V8 lets tens of MB of them pile up
 * before it collects (external memory counts against a 64 MB soft limit).
 * A scavenge every few MB keeps this thread's memory flat for a 1 GB file at a
 * cost of a few milliseconds per collection.
 *
 * Where `gc` comes from: V8's own when the global has it (`--expose-gc`:
 * `startDbProcess` passes it to the worker process under both runtimes, and
 * deno.json's tasks start Deno with it, which reaches its worker threads);
 * otherwise, under Node, from a context of this worker's own after setting
 * the flag. Deno's `vm` gives a `gc` that is not V8's: it ignores `{ type }`
 * and sends a low-memory notification, up to seven full, compacting
 * collections per call. Called every 8 MB it made Deno's safety backup and
 * export take half as long again as Node's (46 MB dump: 1.4–1.5 s of CPU
 * against 0.9–1.0 s; with V8's `gc`, 1.0 s). Without V8's `gc`, Deno's
 * stands in only for the rare major collections (between tables, after an
 * import's statements).
 */
type GcFunction = (options?: { type: "minor" | "major" }) => void;
const collectGarbage: (type?: "minor" | "major") => void = (() => {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return (type = "minor") => (exposed as GcFunction)({ type });
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as GcFunction;
    if (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined") {
      return (type = "minor") => {
        if (type === "major") gc();
      };
    }
    return (type = "minor") => gc({ type });
  } catch {
    return () => {};
  }
})();

function gcEvery(bytes: number): (n: number) => void {
  let since = 0;
  return (n) => {
    since += n;
    if (since >= bytes) {
      since = 0;
      collectGarbage();
    }
  };
}

/** The export's file sink, with a young-generation collection every `GC_EVERY_BYTES` written. */
function collectingSink(file: FileSink): ByteSink {
  const tick = gcEvery(GC_EVERY_BYTES);
  return {
    copies: file.copies,
    write(bytes) {
      tick(bytes.byteLength);
      return file.write(bytes);
    },
  };
}

let importDb: NativeDatabase | null = null;
let importConn: ApplyConnection | null = null;
/** Whether the import connection holds the write lock (else only its read snapshot). */
let importLocked = false;
let busyTimeoutMs = 0;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Takes the write lock for an import whose safety backup was read from the
 * connection's snapshot. First inside that very transaction: SQLite lets a
 * read transaction become a write transaction only if no other connection
 * committed since its snapshot (SQLITE_BUSY_SNAPSHOT otherwise), so success
 * proves the safety backup equals what the import replaces. `PRAGMA
 * user_version=<the same value>` is a write that changes nothing (the import
 * resets it anyway). SQLite does not wait for a lock held by another writer
 * inside a transaction, so a busy lock is retried for a few milliseconds; a
 * writer that then commits has changed the data. When the snapshot is stale,
 * the transaction is ended and the lock taken afresh (BEGIN IMMEDIATE, with
 * the busy timeout): the caller must take the safety backup again.
 */
function lockImport(): LockOutcome {
  const db = importDb;
  if (!db) throw new Error("no import snapshot is open in this worker");
  const t0 = performance.now();
  const waited = () => Math.round(performance.now() - t0);
  if (importLocked) return { unchanged: true, waitMs: 0 };
  const version = String((db.prepare("PRAGMA user_version").raw(true).get() as unknown[] | undefined)?.[0] ?? "0");
  for (let attempt = 0; ; attempt++) {
    try {
      db.exec(`PRAGMA user_version=${BigInt(version).toString()}`);
      importLocked = true;
      return { unchanged: true, waitMs: waited() };
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (code === "SQLITE_BUSY" && attempt < 20) {
        sleep(2);
        continue;
      }
      if (!isBusy(err)) throw err;
      break;
    }
  }
  if (db.inTransaction) db.exec("ROLLBACK");
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (err) {
    if (isBusy(err)) throw new BusyError(`The database stayed locked by another writer for ${busyTimeoutMs} ms; nothing was imported.`);
    throw err;
  }
  importLocked = true;
  return { unchanged: false, waitMs: waited() };
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

function closeImport(): void {
  if (importDb) {
    try {
      if (importDb.inTransaction) importDb.exec("ROLLBACK");
    } catch {
      // the connection is being thrown away anyway
    }
    importDb.close();
  }
  importDb = null;
  importConn = null;
  importLocked = false;
}

function requireImport(): ApplyConnection {
  if (!importConn) throw new Error("no import transaction is open in this worker");
  return importConn;
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case "export": {
      if (req.fromImport) {
        // The safety backup of an import, read from the snapshot `import-open` pinned;
        // the transaction stays open for `import-lock`.
        if (!importDb || importLocked) throw new Error("no import snapshot is open in this worker");
        const db = importDb;
        const file = await createFileSink(req.tempPath, { gzip: req.gzip });
        try {
          const summary = await writeDump(nativeSnapshot(db, () => collectGarbage("major")), collectingSink(file), {
            createdAt: new Date(req.createdAt),
            trigger: req.trigger,
            lifeboatVersion: req.lifeboatVersion,
            ...(req.statementBytes ? { statementBytes: req.statementBytes } : {}),
          });
          return { ...summary, content: lifeboatContentOf(nativeQuerier(db)), ...(await file.finish()) };
        } catch (err) {
          await file.abort();
          throw err;
        }
      }
      const db = openNative(req.dbPath, { busyTimeoutMs: req.busyTimeoutMs, readOnly: true });
      const file = await createFileSink(req.tempPath, { gzip: req.gzip, ageRecipients: req.ageRecipients }).catch((err: unknown) => {
        db.close();
        throw err;
      });
      const sink = collectingSink(file);
      try {
        // Deferred: the snapshot starts at the first read and holds for the whole dump.
        db.exec("BEGIN");
        const summary = await writeDump(nativeSnapshot(db, () => collectGarbage("major")), sink, {
          createdAt: new Date(req.createdAt),
          trigger: req.trigger,
          lifeboatVersion: req.lifeboatVersion,
          ...(req.statementBytes ? { statementBytes: req.statementBytes } : {}),
        });
        // In the dump's own snapshot: what an import's reading pass will find of Lifeboat's tables.
        const content = lifeboatContentOf(nativeQuerier(db));
        db.exec("COMMIT");
        const stored = await file.finish();
        return { ...summary, content, ...stored };
      } catch (err) {
        await file.abort();
        throw err;
      } finally {
        db.close();
      }
    }
    case "import-open": {
      closeImport();
      let wal = false;
      const db = openNative(req.dbPath, { busyTimeoutMs: req.busyTimeoutMs, cacheKiB: APPLY_CACHE_KIB });
      try {
        // Off before BEGIN (it cannot change inside a transaction): dropping and
        // refilling tables must not cascade; foreign_key_check runs at the end instead.
        db.exec("PRAGMA foreign_keys=OFF");
        // This libsql build keeps temporary data in memory by default: index builds
        // would sort a whole table in RAM. Temp files keep memory flat.
        db.exec("PRAGMA temp_store=FILE");
        // The WAL is checkpointed by the "checkpoint" step after the reply, not inside COMMIT.
        db.exec("PRAGMA wal_autocheckpoint=0");
        wal = String((db.prepare("PRAGMA journal_mode").raw(true).get() as unknown[] | undefined)?.[0] ?? "").toLowerCase() === "wal";
        if (req.lock) {
          db.exec("BEGIN IMMEDIATE");
        } else {
          // A deferred transaction whose first read pins the snapshot the safety backup reads;
          // no lock that keeps writers out (in WAL mode).
          db.exec("BEGIN");
          db.prepare("SELECT count(*) FROM sqlite_schema").raw(true).all();
        }
      } catch (err) {
        db.close();
        if (isBusy(err)) throw new BusyError("The database is locked by another writer; try again when it is free.");
        throw err;
      }
      importDb = db;
      importLocked = req.lock;
      busyTimeoutMs = req.busyTimeoutMs;
      const query = nativeQuerier(db);
      importConn = {
        exec: (sql) => void db.exec(sql),
        query: (sql, args) => query(sql, args),
        async settle() {
          query.forget();
          collectGarbage("major");
          await new Promise((resolve) => setImmediate(resolve));
        },
      };
      return { wal } satisfies ImportOpened;
    }
    case "validate":
      return await validateDumpFile(req.filePath, {
        onBytes: gcEvery(GC_EVERY_BYTES),
        migrations: req.migrations,
        ...(req.limits ? { limits: req.limits } : {}),
        ...(req.identities ? { identities: req.identities } : {}),
      });
    case "hash":
      return await hashFile(req.filePath);
    case "import-apply":
      return await applyDump(requireImport(), req.filePath, req.plan, gcEvery(GC_EVERY_BYTES));
    case "import-lock":
      return lockImport();
    case "import-finish": {
      importDb!.exec(`PRAGMA cache_size=-${CHECK_CACHE_KIB}`);
      const outcome = await finishImport(requireImport(), req.options);
      if (req.commit === null) return outcome;
      const t0 = performance.now();
      if (req.commit) importDb!.exec("COMMIT");
      else importDb!.exec("ROLLBACK");
      outcome.timings.commitMs = Math.round(performance.now() - t0);
      if (!req.commit) closeImport();
      return outcome;
    }
    case "import-commit": {
      requireImport();
      const t0 = performance.now();
      importDb!.exec("COMMIT");
      return Math.round(performance.now() - t0);
    }
    case "import-rollback":
      closeImport();
      return null;
    case "checkpoint":
      try {
        if (importDb && !importDb.inTransaction) importDb.prepare("PRAGMA wal_checkpoint(PASSIVE)").raw(true).all();
      } finally {
        closeImport();
      }
      return null;
  }
}

/** Answers one request at a time, in order: the steps of an import depend on each other. */
function serve(send: (msg: WorkerResponse) => void): (msg: WorkerRequest) => void {
  let queue: Promise<void> = Promise.resolve();
  return (msg) => {
    queue = queue.then(() =>
      handle(msg).then(
        (value) => send({ id: msg.id, ok: true, value }),
        (err: unknown) => send({ id: msg.id, ok: false, error: serializeError(err) }),
      ),
    );
  };
}

const port = parentPort;
if (port) {
  port.on("message", serve((m) => port.postMessage(m)));
  port.postMessage({ id: 0, ok: true, value: "ready" } satisfies WorkerResponse);
} else if (process.send) {
  // A child process (startDbProcess): the same protocol over the IPC channel.
  const send = (m: WorkerResponse) => void process.send!(m);
  process.on("message", serve(send) as (m: unknown) => void);
  // Without its parent there is nobody to commit for: the open transaction dies with the process.
  process.on("disconnect", () => process.exit(0));
  send({ id: 0, ok: true, value: "ready" });
}
