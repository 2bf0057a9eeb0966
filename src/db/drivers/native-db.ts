import Database from "libsql";
import type { SnapshotSource, SqlArg } from "../../dump/writer.ts";

/**
 * Raw `libsql` connections (the better-sqlite3 API) for local database files.
 * The backup worker uses them instead of `@libsql/client`, whose `execute`
 * loads whole result sets and which owns a pool of connections: here one
 * connection is one snapshot or one write transaction, fully under control.
 */

/** The libsql connection type. */
export type NativeDatabase = InstanceType<typeof Database>;

export interface OpenNativeOptions {
  /** Milliseconds to wait for another connection's lock. */
  busyTimeoutMs: number;
  /** Refuse writes on this connection (`PRAGMA query_only`). */
  readOnly?: boolean;
  /** Page cache in KiB (`PRAGMA cache_size=-N`); SQLite's default 2 MiB otherwise. */
  cacheKiB?: number;
}

/**
 * Opens a connection with integers as bigint and `trusted_schema=OFF` (a schema
 * from a dump must not be able to call functions with side effects from its
 * views or triggers).
 */
export function openNative(file: string, options: OpenNativeOptions): NativeDatabase {
  const db = new Database(file, { timeout: options.busyTimeoutMs });
  try {
    db.defaultSafeIntegers(true);
    db.exec("PRAGMA trusted_schema=OFF");
    if (options.cacheKiB) db.exec(`PRAGMA cache_size=-${Math.floor(options.cacheKiB)}`);
    if (options.readOnly) db.exec("PRAGMA query_only=ON");
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Runs a query; `forget()` drops the statements kept for reuse. */
export interface NativeQuerier {
  (sql: string, args?: readonly SqlArg[]): unknown[][];
  forget(): void;
}

/**
 * Runs queries on a native connection. Rows come back as arrays. A statement
 * is kept for reuse from its second use on, and one-off statements are let go
 * at once: every prepared statement a connection still holds makes the others
 * slower (measured: nine lingering planning statements made an export's page
 * queries 40–70% slower). libsql has no finalize(); an unreferenced statement
 * is finalized by the garbage collector (see `nativeSnapshot`).
 */
export function nativeQuerier(db: NativeDatabase): NativeQuerier {
  const cache = new Map<string, ReturnType<NativeDatabase["prepare"]>>();
  const seen = new Set<string>();
  const run = (sql: string, args: readonly SqlArg[] = []) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql).raw(true);
      if (seen.has(sql)) {
        if (cache.size > 50) cache.clear();
        cache.set(sql, stmt);
      } else {
        seen.add(sql);
      }
    }
    // An array as the single argument binds positionally (a lone Buffer would not).
    return stmt.all([...args]) as unknown[][];
  };
  return Object.assign(run, {
    forget() {
      cache.clear();
      seen.clear();
    },
  });
}

/**
 * A snapshot source over a native connection that is inside a read
 * transaction. `collect` (the worker's garbage collection) runs when the dump
 * settles between tables, so the statements it let go are really finalized:
 * napi finalizers run on the next turn of the event loop after a collection.
 */
export function nativeSnapshot(db: NativeDatabase, collect?: () => void): SnapshotSource {
  const query = nativeQuerier(db);
  return {
    query: (sql, args) => query(sql, args),
    async settle() {
      query.forget();
      if (!collect) return;
      collect();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
