import type { Client } from "@libsql/client";
import type { Logger } from "../logger.ts";
import { MIGRATIONS, type Migration } from "./migrations/index.ts";
import { MIGRATIONS_TABLE, MIGRATIONS_TABLE_SQL } from "./migrations/table.ts";

export interface MigrationStatus {
  applied: number[];
  pending: Migration[];
  /** The newest version this build knows. */
  latest: number;
}

export interface RunMigrationsOptions {
  migrations?: readonly Migration[];
  logger?: Logger;
  now?: () => Date;
  /**
   * Called once before the first pending migration is applied, e.g. to take a
   * pre-migration backup. An error here aborts start-up with nothing changed.
   */
  beforeApply?: (status: MigrationStatus) => Promise<void>;
}

async function ensureTable(db: Client): Promise<void> {
  await db.execute(MIGRATIONS_TABLE_SQL);
}

/**
 * Reads which migrations have run and which are pending.
 * @internal exported for its unit test; production code reaches it through `runMigrations`.
 */
export async function migrationStatus(
  db: Client,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationStatus> {
  await ensureTable(db);
  const rs = await db.execute(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`);
  const applied = rs.rows.map((r) => Number(r.version));
  const done = new Set(applied);
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  return { applied, pending: migrations.filter((m) => !done.has(m.version)), latest };
}

/** Throws when the database was migrated by a newer Lifeboat than this one. */
function assertNotNewer(status: MigrationStatus): void {
  const newest = status.applied.at(-1) ?? 0;
  if (newest > status.latest) {
    throw new Error(
      `The database schema is at version ${newest}, newer than this Lifeboat knows (${status.latest}). Upgrade Lifeboat.`,
    );
  }
}

/**
 * Applies pending migrations in order, each in its own write transaction that
 * also records it, so a failure leaves the database at the last good version.
 * Safe when several instances start at once: each re-checks inside its transaction.
 */
export async function runMigrations(db: Client, options: RunMigrationsOptions = {}): Promise<number[]> {
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const now = options.now ?? (() => new Date());
  const status = await migrationStatus(db, migrations);
  assertNotNewer(status);
  if (status.pending.length === 0) return [];
  if (options.beforeApply) await options.beforeApply(status);

  const appliedNow: number[] = [];
  for (const m of status.pending) {
    const tx = await db.transaction("write");
    try {
      const already = await tx.execute({
        sql: `SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE version = ?`,
        args: [m.version],
      });
      if (already.rows.length > 0) {
        await tx.rollback();
        continue;
      }
      for (const sql of m.up) await tx.execute(sql);
      await tx.execute({
        sql: `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`,
        args: [m.version, m.name, now().toISOString()],
      });
      await tx.commit();
      appliedNow.push(m.version);
      options.logger?.info("migration applied", { version: m.version, name: m.name });
    } catch (err) {
      if (!tx.closed) await tx.rollback();
      throw new Error(`Migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
    } finally {
      tx.close();
    }
  }
  return appliedNow;
}
