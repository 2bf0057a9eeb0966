/** Lifeboat's record of applied migrations (never `PRAGMA user_version`, which belongs to the app). */
export const MIGRATIONS_TABLE = "lifeboat_migrations";

/**
 * Its definition, used by start-up (src/db/migrate.ts) and by an import that
 * migrates a dump forward (src/db/drivers/apply-dump.ts), so both leave the
 * same schema text behind.
 */
export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`;
