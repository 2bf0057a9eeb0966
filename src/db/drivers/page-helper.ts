/**
 * A second thread for a large backup: the export's page queries (SQLite
 * formatting a page of rows as SQL text, ~85% of an export's time) alternate
 * between the backup worker's connection and this thread's, so a backup uses
 * two cores where the sqlite3 CLI's `.dump` uses one. The backup worker
 * starts it (`startPageHelper`), lines its read snapshot up with its own
 * (`alignSnapshots`), sends it page queries, and writes every page itself, in
 * order: this thread only formats.
 *
 * The helper is the backup worker's own module started again with
 * `workerData.role` set (`servePageHelper`), so it loads the same way under
 * every runtime and build (compiled, bundled from source, Deno).
 */
import { Worker, type MessagePort } from "node:worker_threads";
import type { SnapshotSource, SqlArg } from "../../dump/writer.ts";
import { nativeQuerier, openNative, type NativeDatabase } from "./native-db.ts";

export const PAGE_HELPER_ROLE = "lifeboat-page-helper";

/** What the backup worker sends to its helper. */
type HelperRequest =
  | { id: number; op: "begin" }
  | { id: number; op: "query"; sql: string; args: SqlArg[] }
  | { id: number; op: "settle" }
  | { id: number; op: "end" };

type HelperResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

export interface HelperData {
  role: typeof PAGE_HELPER_ROLE;
  dbPath: string;
  busyTimeoutMs: number;
}

/** A started helper: a snapshot source on another thread, once `begin()` has started its read transaction. */
export interface PageHelper extends SnapshotSource {
  query(sql: string, args?: readonly SqlArg[]): Promise<unknown[][]>;
  settle(): Promise<void>;
  /** Starts the helper's read transaction (its snapshot begins at this first read). */
  begin(): Promise<void>;
  /** Ends the read transaction, closes the connection and stops the thread. Never throws. */
  close(): Promise<void>;
}

/** How long lining the snapshots up waits for another writer's lock, in ms. */
const GATE_WAIT_MS = 200;

/** The young generation of the helper: it keeps nothing it allocates (see db-worker.ts). */
const HELPER_LIMITS = { maxYoungGenerationSizeMb: 4 };

/**
 * Starts a helper thread from `moduleUrl` (the backup worker's own module) with
 * a read-only connection to `dbPath`. Null when the thread cannot be started:
 * the backup then formats every page itself.
 */
export async function startPageHelper(moduleUrl: URL, dbPath: string, busyTimeoutMs: number): Promise<PageHelper | null> {
  let worker: Worker;
  try {
    const data: HelperData = { role: PAGE_HELPER_ROLE, dbPath, busyTimeoutMs };
    worker = new Worker(moduleUrl, { workerData: data, resourceLimits: HELPER_LIMITS });
  } catch {
    return null;
  }
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let failure: Error | null = null;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const ready = new Promise<boolean>((resolve) => {
    worker.on("message", (msg: HelperResponse) => {
      if (msg.id === 0) {
        resolve(msg.ok);
        return;
      }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.message));
    });
    worker.once("error", (err) => {
      resolve(false);
      failAll(new Error(`The backup's page helper failed: ${err.message}`, { cause: err }));
    });
    worker.once("exit", (code) => {
      resolve(false);
      failAll(new Error(`The backup's page helper stopped (exit code ${code}).`));
    });
  });
  if (!(await ready)) {
    await worker.terminate();
    return null;
  }
  const call = <T>(request: DistributiveOmitId<HelperRequest>): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...request, id });
    });
  };
  return {
    query: (sql, args = []) => call<unknown[][]>({ op: "query", sql, args: [...args] }),
    settle: () => call<void>({ op: "settle" }),
    begin: () => call<void>({ op: "begin" }),
    async close() {
      await call<void>({ op: "end" }).catch(() => {});
      await worker.terminate();
    },
  };
}

type DistributiveOmitId<T> = T extends unknown ? Omit<T, "id"> : never;

/**
 * Starts the helper's read transaction on exactly the snapshot of `db`, which
 * is inside a read transaction that has not read yet. A third connection holds
 * the write lock meanwhile (a millisecond or two), so no commit can come
 * between the two snapshots: both see the last committed state, in WAL and in
 * rollback-journal mode alike. False (and `db` still without its snapshot)
 * when the lock cannot be had within GATE_WAIT_MS, or at all (a read-only
 * database file).
 */
export async function alignSnapshots(dbPath: string, busyTimeoutMs: number, db: NativeDatabase, helper: PageHelper): Promise<boolean> {
  let gate: NativeDatabase;
  try {
    gate = openNative(dbPath, { busyTimeoutMs: 0 });
  } catch {
    return false;
  }
  // A short wait, tried every millisecond (SQLite's own busy handler sleeps up
  // to 100 ms at a time and misses the gaps of a busy writer): a writer's
  // transaction is over in milliseconds; one that holds the lock for long (an
  // import) is not waited for.
  const deadline = performance.now() + Math.min(busyTimeoutMs, GATE_WAIT_MS);
  for (;;) {
    try {
      gate.exec("BEGIN IMMEDIATE");
      break;
    } catch (err) {
      if (String((err as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY") && performance.now() < deadline) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      gate.close();
      return false;
    }
  }
  try {
    db.prepare("SELECT count(*) FROM sqlite_schema").raw(true).all();
    await helper.begin();
    return true;
  } finally {
    try {
      gate.exec("ROLLBACK");
    } finally {
      gate.close();
    }
  }
}

/** The helper thread's side: one read-only connection, one request at a time. */
export function servePageHelper(port: MessagePort, data: HelperData): void {
  let db: NativeDatabase;
  try {
    db = openNative(data.dbPath, { busyTimeoutMs: data.busyTimeoutMs, readOnly: true });
  } catch (err) {
    port.postMessage({ id: 0, ok: false, message: (err as Error).message } satisfies HelperResponse);
    return;
  }
  const query = nativeQuerier(db);
  const handle = (msg: HelperRequest): unknown => {
    switch (msg.op) {
      case "begin":
        db.exec("BEGIN");
        query("SELECT count(*) FROM sqlite_schema");
        return null;
      case "query":
        return query(msg.sql, msg.args);
      case "settle":
        query.forget();
        return null;
      case "end":
        if (db.inTransaction) db.exec("COMMIT");
        db.close();
        return null;
    }
  };
  port.on("message", (msg: HelperRequest) => {
    let reply: HelperResponse;
    try {
      reply = { id: msg.id, ok: true, value: handle(msg) };
    } catch (err) {
      reply = { id: msg.id, ok: false, message: (err as Error).message };
    }
    try {
      // A page's bytes are moved, not copied, when the buffer is the page's alone.
      port.postMessage(reply, reply.ok ? wholeBuffers(reply.value) : []);
    } catch {
      port.postMessage(reply);
    }
    if (msg.op === "end") port.close();
  });
  port.postMessage({ id: 0, ok: true, value: "ready" } satisfies HelperResponse);
}

/** The buffers of the BLOB values in `value` (rows) that no other view shares. */
function wholeBuffers(value: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  if (!Array.isArray(value)) return out;
  for (const row of value) {
    if (!Array.isArray(row)) continue;
    for (const v of row) {
      if (v instanceof Uint8Array && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.push(v.buffer);
    }
  }
  return out;
}
