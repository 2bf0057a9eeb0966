import fs from "node:fs/promises";
import type { Client } from "@libsql/client";
import type { Hono } from "hono";
import { createApp } from "./app.ts";
import type { AppEnv } from "./http/env.ts";
import { systemClock, systemTimers, type Clock, type Timers } from "./clock.ts";
import { createScheduler, type Scheduler, type SchedulerOptions } from "./schedule/scheduler.ts";
import { loadConfig, type Config } from "./config.ts";
import { runMigrations } from "./db/migrate.ts";
import { createLogger, type Logger } from "./logger.ts";
import { VERSION } from "./paths.ts";
import { createAuth } from "./auth/auth.ts";
import { loadJwtSecret } from "./auth/secret.ts";
import { createEventBus, type EventBus } from "./events.ts";
import type { UserChangeEvent } from "./users/events.ts";
import type { ScryptParams } from "./users/password.ts";
import { createUserService, type UserService } from "./users/service.ts";
import type { BackupEngine } from "./backups/engine.ts";
import { openBackupEngine } from "./backups/open.ts";
import { preMigrationBackup } from "./backups/pre-migration.ts";
import { createMetrics } from "./metrics.ts";

export interface BootOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  clock?: Clock;
  /** Where log lines go (tests capture them); stdout by default. */
  logWrite?: (line: string) => void;
  /** Timers of the backup schedule and change backups (tests move time with their own). */
  timers?: Timers;
  /** Off-site retries: their timers and waits (tests make them short); defaults suit production. */
  offsite?: { timers?: Timers; retryDelaysMs?: readonly number[] };
  /** Tuning of automatic backups (quiet window, lease, waits); defaults suit production. */
  scheduler?: SchedulerOptions;
  /**
   * scrypt cost of new password hashes; N=2^17, r=8, p=1 (`CURRENT_SCRYPT`) unless
   * given. Deliberately not an environment variable: only tests lower it.
   */
  passwordCost?: ScryptParams;
}

/** A running Lifeboat, minus the listening socket (which belongs to the runtime entry). */
export interface Lifeboat {
  config: Config;
  logger: Logger;
  db: Client;
  app: Hono<AppEnv>;
  /** The user database (accounts, passwords, audit trail). */
  users: UserService;
  /** One event per committed change of the user database; subscribe with `events.on`. */
  events: EventBus<UserChangeEvent>;
  /** The backup engine: backups, imports, the backup folder. */
  backups: BackupEngine;
  /** Automatic backups: schedule, external trigger, change backups, retention, status. */
  scheduler: Scheduler;
  /** Finishes pending work (e.g. a queued change backup) and closes the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Parses config, prepares folders, opens and migrates the database, and builds
 * the app. Throws `ConfigError` for a bad environment, before anything is touched.
 */
export async function bootLifeboat(options: BootOptions): Promise<Lifeboat> {
  const config = await loadConfig(options.env, options.cwd);
  const clock = options.clock ?? systemClock;
  const logger = createLogger({
    level: config.logLevel,
    now: () => clock.now(),
    ...(options.logWrite ? { write: options.logWrite } : {}),
  });
  await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  const timers = options.timers ?? systemTimers;
  // The same wiring as the command line: backup folder, client, write gate, engine, leftovers removed.
  const opened = await openBackupEngine({
    config,
    logger,
    clock,
    timers,
    database: "always",
    ...(options.offsite ? { offsite: options.offsite } : {}),
    ...(options.passwordCost ? { scrypt: options.passwordCost } : {}),
  });
  const { db, writeGate, engine: backups } = opened;
  try {
    // The server's start only: reads the age identity file, then checks the bucket and queues
    // every local backup not yet off-site, in the background (the command line does not).
    await backups.start();
    // Pending migrations on a database that holds data: back it up first.
    await runMigrations(db, { logger, now: () => clock.now(), beforeApply: preMigrationBackup({ engine: backups, db, logger }) });
  } catch (err) {
    await opened.close();
    throw err;
  }

  const events = createEventBus<UserChangeEvent>((err) => logger.error("a user change listener failed", { error: err }));
  const users = createUserService({ db, writeGate, clock, events, passwordCost: options.passwordCost });
  let auth;
  try {
    const secret = await loadJwtSecret(config, logger);
    await users.ensureFirstAdmin(config.admin, logger);
    auth = createAuth({ config, users, secret, clock, logger });
  } catch (err) {
    await opened.close();
    throw err;
  }
  const scheduler = createScheduler(
    {
      config,
      db,
      writeGate,
      logger,
      clock,
      timers,
      engine: backups,
      engineEvents: backups.events,
      userChanges: events,
    },
    options.scheduler,
  );
  const metrics = createMetrics({ backups, version: VERSION });
  const app = createApp({
    config,
    db,
    logger,
    clock,
    writeGate,
    users,
    auth,
    events,
    backups,
    scheduler,
    metrics,
    readinessChecks: [scheduler.readinessCheck(), ...(config.offsite ? [scheduler.offsiteReadinessCheck()] : [])],
  });
  try {
    // Arms the timer and, in the background, takes a missed scheduled backup.
    await scheduler.start();
  } catch (err) {
    await scheduler.stop();
    await opened.close();
    throw err;
  }
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
    users,
    events,
    backups,
    scheduler,
    close() {
      closing ??= (async () => {
        // A running backup or import finishes first (an import rolls back only on failure).
        // No new scheduled run; a pending change backup is written; webhooks get a last try.
        await scheduler.stop();
        metrics.close();
        await opened.close();
        logger.info("lifeboat stopped");
      })();
      return closing;
    },
  };
}
