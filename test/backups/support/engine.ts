import fs from "node:fs/promises";
import path from "node:path";
import type { Client } from "@libsql/client";
import { afterEachTest } from "../../support/cleanup.ts";
import { createBackupEngine, type BackupEngine, type BackupEngineDeps } from "../../../src/backups/engine.ts";
import { systemClock, type Clock } from "../../../src/clock.ts";
import { loadConfig, type Config } from "../../../src/config.ts";
import { openDatabase } from "../../../src/db/client.ts";
import { createWriteGate, type WriteGate } from "../../../src/db/write-gate.ts";
import { createLogger } from "../../../src/logger.ts";
import { tempDir } from "../../support/temp.ts";
import { buildCorpus, type CorpusOptions } from "./corpus.ts";

const clients: Client[] = [];
const engines: BackupEngine[] = [];
afterEachTest(async () => {
  while (engines.length) await engines.pop()!.close();
  while (clients.length) clients.pop()!.close();
});

export interface TestEngine {
  dir: string;
  config: Config;
  dbPath: string;
  backupDir: string;
  db: Client;
  engine: BackupEngine;
  writeGate: WriteGate;
  logs: Record<string, unknown>[];
}

export interface TestEngineOptions extends Partial<Pick<BackupEngineDeps, "driver" | "statementBytes" | "migrations" | "onImportStep">> {
  env?: Record<string, string>;
  /** Build the corpus into the database first (default: yes, with small settings). */
  corpus?: CorpusOptions | false;
  clock?: Clock;
}

/** A real engine on a real libSQL file in a temp folder, as Lifeboat builds it. */
export async function makeEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  const dir = await tempDir();
  const config = await loadConfig({ DATA_DIR: dir, ...options.env });
  await fs.mkdir(config.backupDir, { recursive: true });
  if (options.corpus !== false) buildCorpus(config.databasePath!, options.corpus ?? {});
  const db = await openDatabase(config);
  clients.push(db);
  const logs: Record<string, unknown>[] = [];
  const writeGate = createWriteGate();
  const engine = createBackupEngine({
    config,
    db,
    logger: createLogger({ level: "debug", write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
    clock: options.clock ?? systemClock,
    writeGate,
    ...(options.driver ? { driver: options.driver } : {}),
    ...(options.statementBytes ? { statementBytes: options.statementBytes } : {}),
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(options.onImportStep ? { onImportStep: options.onImportStep } : {}),
  });
  engines.push(engine);
  return { dir, config, dbPath: config.databasePath!, backupDir: config.backupDir, db, engine, writeGate, logs };
}

/** Every entry of a folder (names), sorted; for "no stray files" checks. */
export async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

/** Path of a backup in the engine's folder. */
export function backupPath(t: TestEngine, name: string): string {
  return path.join(t.backupDir, name);
}
