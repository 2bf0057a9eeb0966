import type { DumpKind } from "../db/lifeboat-tables.ts";

/**
 * What a dump holds: a whole Lifeboat backup (the application's data and
 * Lifeboat's own tables: accounts, audit trail, migrations) or the
 * application's data only (a `sqlite3 .dump` of the app, or a dump made
 * without Lifeboat's tables).
 */
export type BackupKind = DumpKind;

/** The kind of a dump from the tables it creates (SQLite names are case-insensitive). */
export function backupKindOf(tableNames: Iterable<string>): BackupKind {
  for (const t of tableNames) if (t.toLowerCase().startsWith("lifeboat_")) return "lifeboat";
  return "plain";
}
