import fs from "node:fs/promises";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
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
 */
export async function openDatabase(
  config: Pick<Config, "databaseUrl" | "databaseAuthToken" | "databasePath"> &
    Partial<Pick<Config, "databaseJournalMode">>,
): Promise<Client> {
  let existing = false;
  if (config.databasePath) {
    await fs.mkdir(path.dirname(config.databasePath), { recursive: true });
    const st = await fs.stat(config.databasePath).catch(() => null);
    existing = st !== null && st.size > 0;
  }
  const client = createClient({
    url: config.databaseUrl,
    ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
    intMode: "bigint",
    timeout: BUSY_TIMEOUT_MS,
  });
  const wanted = config.databaseJournalMode ?? (existing ? undefined : "wal");
  if (config.databasePath && wanted) {
    try {
      const rs = await client.execute(`PRAGMA journal_mode = ${wanted}`);
      const now = String(rs.rows[0]?.[0] ?? "").toLowerCase();
      if (now !== wanted) throw new Error(`the database stayed in journal mode ${now || "unknown"}`);
    } catch (err) {
      client.close();
      throw new Error(`Could not set journal mode ${wanted} on ${config.databasePath}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return client;
}
