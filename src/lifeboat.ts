import fs from "node:fs/promises";
import type { Client } from "@libsql/client";
import type { Hono } from "hono";
import { createApp, type AppEnv } from "./app.ts";
import { systemClock, type Clock } from "./clock.ts";
import { loadConfig, type Config } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { runMigrations } from "./db/migrate.ts";
import { createWriteGate } from "./db/write-gate.ts";
import { createLogger, type Logger } from "./logger.ts";
import { VERSION } from "./paths.ts";

export interface BootOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  clock?: Clock;
  /** Where log lines go (tests capture them); stdout by default. */
  logWrite?: (line: string) => void;
}

/** A running Lifeboat, minus the listening socket (which belongs to the runtime entry). */
export interface Lifeboat {
  config: Config;
  logger: Logger;
  db: Client;
  app: Hono<AppEnv>;
  /** Finishes pending work (e.g. a queued change backup) and closes the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Parses config, prepares folders, opens and migrates the database, and builds
 * the app. Throws `ConfigError` for a bad environment, before anything is touched.
 */
export async function bootLifeboat(options: BootOptions): Promise<Lifeboat> {
  const config = loadConfig(options.env, options.cwd);
  const clock = options.clock ?? systemClock;
  const logger = createLogger({
    level: config.logLevel,
    now: () => clock.now(),
    ...(options.logWrite ? { write: options.logWrite } : {}),
  });
  await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(config.backupDir, { recursive: true, mode: 0o700 });

  const db = await openDatabase(config);
  try {
    await runMigrations(db, { logger, now: () => clock.now() });
  } catch (err) {
    db.close();
    throw err;
  }

  const writeGate = createWriteGate();
  const app = createApp({ config, db, logger, clock, writeGate });
  logger.info("lifeboat ready", {
    version: VERSION,
    database: config.databaseIsLocal ? config.databasePath : new URL(config.databaseUrl).host,
    backupDir: config.backupDir,
  });

  let closing: Promise<void> | undefined;
  return {
    config,
    logger,
    db,
    app,
    close() {
      closing ??= (async () => {
        db.close();
        logger.info("lifeboat stopped");
      })();
      return closing;
    },
  };
}
