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
 */
export async function openDatabase(
  config: Pick<Config, "databaseUrl" | "databaseAuthToken" | "databasePath">,
): Promise<Client> {
  if (config.databasePath) {
    await fs.mkdir(path.dirname(config.databasePath), { recursive: true });
  }
  const client = createClient({
    url: config.databaseUrl,
    ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
    intMode: "bigint",
    timeout: BUSY_TIMEOUT_MS,
  });
  if (config.databasePath) {
    // WAL lets the backup's read snapshot and the app's writes proceed side by side.
    await client.execute("PRAGMA journal_mode = WAL");
  }
  return client;
}
