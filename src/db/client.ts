import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Client } from "@libsql/client";
import type { Config } from "../config.ts";

/** Milliseconds a local connection waits for another writer before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens the application database with the settings Lifeboat relies on:
 * integers as bigint (values past 2^53 must never pass through a JS number)
 * and a busy timeout so concurrent writers queue instead of failing.
 *
 * Journal mode: a database Lifeboat creates gets WAL (the backup's read
 * snapshot and the app's writes then proceed side by side). An existing one
 * keeps the mode its application chose (rollback journals matter on network
 * filesystems and to some tools) unless `databaseJournalMode` names one.
 *
 * A local database file Lifeboat creates gets mode 0600 (SQLite gives its
 * -wal and -shm files the same mode); an existing file keeps its own.
 */
export async function openDatabase(
  config: Pick<Config, "databaseUrl" | "databaseAuthToken" | "databasePath"> &
    Partial<Pick<Config, "databaseJournalMode">>,
): Promise<Client> {
  let existing = false;
  if (config.databasePath) {
    await fs.mkdir(path.dirname(config.databasePath), { recursive: true, mode: 0o700 });
    const st = await fs.stat(config.databasePath).catch(() => null);
    existing = st !== null && st.size > 0;
    await fs.open(config.databasePath, "wx", 0o600).then(
      (fh) => fh.close(),
      (err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      },
    );
  }
  // A file needs only the local client: "@libsql/client" itself also loads the remote
  // protocols (ws, hrana-client; ~250 KB of JavaScript a local database never uses).
  const { createClient } = config.databaseUrl.startsWith("file:") ? await import("@libsql/client/sqlite3") : await import("@libsql/client");
  const client = createClient({
    url: config.databaseUrl,
    ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
    intMode: "bigint",
    timeout: BUSY_TIMEOUT_MS,
  });
  const wanted = config.databaseJournalMode ?? (existing ? undefined : "wal");
  if (config.databasePath && wanted) {
    try {
      const now = await setJournalMode(client, wanted);
      if (now !== wanted) throw new Error(`the database stayed in journal mode ${now || "unknown"}`);
    } catch (err) {
      client.close();
      throw new Error(`Could not set journal mode ${wanted} on ${config.databasePath}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return client;
}

/**
 * Switching the journal mode needs the database to itself. SQLite's busy
 * handler does not cover every way two connections can meet there: when two
 * instances start at once and both read the file before either switches, one
 * of them gets SQLITE_BUSY at once (waiting could deadlock). That is not a
 * failure to start: try again, with jitter, until the busy timeout is spent;
 * by then the other instance has usually made the switch already.
 */
async function setJournalMode(client: Client, wanted: string): Promise<string> {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      const rs = await client.execute(`PRAGMA journal_mode = ${wanted}`);
      return String(rs.rows[0]?.[0] ?? "").toLowerCase();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== "SQLITE_BUSY" || performance.now() >= deadline) throw err;
      await sleep(20 + Math.random() * 80);
    }
  }
}
