import fs from "node:fs/promises";
import path from "node:path";
import type { Client } from "@libsql/client";
import type { Clock, Timers } from "../clock.ts";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { createWriteGate, type WriteGate } from "../db/write-gate.ts";
import type { Logger } from "../logger.ts";
import type { ScryptParams } from "../users/password.ts";
import { createBackupEngine, type BackupEngine } from "./engine.ts";

interface OpenBackupEngineOptions {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** Timers of the write gate (tests move time with their own). */
  timers: Timers;
  /**
   * `always`: open a client on the application's database (the server, an import).
   * `if-remote`: only for a remote database; a local file is read by the backup
   * worker, and a command that only reads must not create a missing database file.
   */
  database: "always" | "if-remote";
  /** Off-site retries: their timers (default `timers`) and waits (tests make them short). */
  offsite?: { timers?: Timers; retryDelaysMs?: readonly number[] };
  /** The scrypt cost the app hashes with (tests lower it); restored password hashes must use exactly it. */
  scrypt?: ScryptParams;
}

/** The engine and what it was opened with; `close` waits for its work, then closes the client. */
interface OpenedBackupEngine<Db extends Client | undefined> {
  engine: BackupEngine;
  db: Db;
  writeGate: WriteGate;
  close(): Promise<void>;
}

/**
 * The wiring the server and the command line share: the backup folder, the
 * database client, the write gate and the backup engine, with the temporary
 * files of an interrupted backup or import removed. No HTTP, no schedule, no
 * migrations (the server runs those; the command line leaves the schema alone),
 * and no background off-site copies until `engine.start()` (the server's, or a
 * command that waits for its copy).
 */
export async function openBackupEngine(options: OpenBackupEngineOptions & { database: "always" }): Promise<OpenedBackupEngine<Client>>;
export async function openBackupEngine(options: OpenBackupEngineOptions): Promise<OpenedBackupEngine<Client | undefined>>;
export async function openBackupEngine(options: OpenBackupEngineOptions): Promise<OpenedBackupEngine<Client | undefined>> {
  const { config, logger, clock } = options;
  await fs.mkdir(config.backupDir, { recursive: true, mode: 0o700 });
  const db = options.database === "always" || !config.databaseIsLocal ? await openDatabase(config) : undefined;
  const writeGate = createWriteGate(options.timers);
  const engine = createBackupEngine({
    config,
    ...(db ? { db } : {}),
    logger,
    clock,
    writeGate,
    timers: options.offsite?.timers ?? options.timers,
    ...(options.offsite?.retryDelaysMs ? { offsiteRetryDelaysMs: options.offsite.retryDelaysMs } : {}),
    ...(options.scrypt ? { scrypt: options.scrypt } : {}),
    // Beside the database, not in the backup folder: one history per instance, outside what a restore replaces.
    runHistoryFile: path.join(config.dataDir, "run-history.jsonl"),
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await engine.close();
      db?.close();
    })();
    return closing;
  };
  try {
    const leftovers = await engine.cleanupTemporaryFiles();
    if (leftovers.length > 0) logger.info("removed leftover temporary files", { files: leftovers });
  } catch (err) {
    await close();
    throw err;
  }
  return { engine, db, writeGate, close };
}
