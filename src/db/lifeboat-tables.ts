import { InvalidBackupError } from "../errors.ts";
import { Lexer, TK_EOF, TK_ID, TK_INTEGER, TK_LP, TK_OP, TK_QID, TK_RP, TK_STRING, TK_COMMA, keywordOf, tokenName } from "../dump/sql-tokenizer.ts";
import type { DumpStatement } from "../dump/reader.ts";
import type { MigrationSpec } from "./drivers/connection.ts";
import { MIGRATIONS_TABLE } from "./migrations/table.ts";

/**
 * Lifeboat's own tables inside an imported dump.
 *
 * Every schema object whose name starts with `lifeboat_` (in any letter case:
 * SQLite names are case-insensitive) belongs to Lifeboat. A dump never defines
 * them: the import builds them from Lifeboat's migrations for the schema
 * version the dump records, copies only their rows, and migrates forward. This
 * module decides, statement by statement, what of a dump may touch them, and
 * learns which of the two kinds a dump is:
 *
 * - `lifeboat`: it carries Lifeboat's tables (a Lifeboat backup); their rows
 *   replace Lifeboat's accounts, audit trail and schedule state.
 * - `plain`: application tables only (e.g. `sqlite3 app.db .dump`); the import
 *   replaces the application's tables and keeps Lifeboat's current ones.
 */

/** More rows than this in a dump's migration record cannot be a real one. */
const MAX_MIGRATION_ROWS = 10_000;

/** Which of the two kinds of dump a file is (see the module comment). */
export type DumpKind = "lifeboat" | "plain";

/** What the checking pass learned about Lifeboat's tables in a dump. */
export interface LifeboatContent {
  kind: DumpKind;
  /** The newest migration the dump records (`lifeboat` kind); null for a plain dump. */
  schemaVersion: number | null;
}

/**
 * Lifeboat's tables that record live state of this deployment rather than
 * data: which tokens were signed out, and each user's session epoch (migration
 * 0004). A restore never takes them from the backup — that would revive
 * sessions ended since it was taken — but keeps them as they are.
 */
export const LIVE_TABLES: readonly string[] = ["lifeboat_revoked_tokens", "lifeboat_session_epochs"];

/** True for a name Lifeboat reserves (`lifeboat_…`, any letter case). */
export function isLifeboatName(name: string): boolean {
  return /^lifeboat_/i.test(name);
}

/** Lifeboat's tables and indexes as the migrations create them (lower case), `lifeboat_migrations` included. */
function lifeboatObjects(migrations: readonly MigrationSpec[]): { tables: Set<string>; indexes: Set<string> } {
  const tables = new Set([MIGRATIONS_TABLE]);
  const indexes = new Set<string>();
  const re = /\bCREATE\s+(UNIQUE\s+)?(TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?["`[]?([A-Za-z0-9_]+)/gi;
  for (const m of migrations) {
    for (const sql of m.up) {
      for (const hit of sql.matchAll(re)) (hit[2]!.toUpperCase() === "TABLE" ? tables : indexes).add(hit[3]!.toLowerCase());
    }
  }
  return { tables, indexes };
}

/** Every name (identifier, quoted identifier, or string, which SQLite also takes as a name) in a statement that Lifeboat reserves. */
function reservedNamesIn(sql: string): string[] {
  const lx = new Lexer(sql, 0, true);
  const found = new Set<string>();
  for (;;) {
    const t = lx.nextSignificant();
    if (t === TK_EOF) break;
    if (t === TK_ID || t === TK_QID || t === TK_STRING) {
      const name = tokenName(sql, lx.start, lx.pos, t);
      if (isLifeboatName(name)) found.add(name);
    }
  }
  return [...found];
}

/** The integer literals in column `column` of each VALUES row of a checked INSERT (null where it is anything else). */
function integerColumn(sql: string, column: number): (number | null)[] {
  const lx = new Lexer(sql, 0, true);
  let t: number;
  do t = lx.nextSignificant();
  while (t !== TK_EOF && !(t === TK_ID && keywordOf(sql, lx.start, lx.pos) === "VALUES"));
  const out: (number | null)[] = [];
  let depth = 0;
  let index = 0;
  let value: string[] = [];
  const close = () => {
    const text = value.join("");
    out.push(/^[+-]?\d{1,15}$/.test(text) ? Number(text) : null);
  };
  for (t = lx.nextSignificant(); t !== TK_EOF; t = lx.nextSignificant()) {
    if (t === TK_LP) {
      if (depth === 0) {
        index = 0;
        value = [];
      } else if (index === column) value.push("(");
      depth++;
    } else if (t === TK_RP) {
      depth--;
      if (depth === 0 && index === column) close();
      else if (index === column) value.push(")");
    } else if (t === TK_COMMA && depth === 1) {
      if (index === column) close();
      index++;
    } else if (depth >= 1 && index === column) {
      value.push(t === TK_INTEGER || t === TK_OP ? lx.text() : "\u0000");
    }
  }
  return out;
}

/**
 * Watches the statements of a dump (the checking pass and the apply pass
 * alike) and refuses, with the line and the reason, everything that would let
 * a dump shape Lifeboat's tables instead of filling them:
 * triggers, views, indexes and any other object named like Lifeboat's or
 * mentioning them (a trigger on an application table that writes
 * `lifeboat_users` would be a backdoor); tables and indexes named like
 * Lifeboat's that this Lifeboat does not have; rows for Lifeboat's tables in a
 * dump that does not create them (a plain dump must not add accounts).
 */
export class LifeboatGuard {
  private readonly known: { tables: Set<string>; indexes: Set<string> };
  private readonly created = new Set<string>();
  private readonly versions: number[] = [];

  constructor(migrations: readonly MigrationSpec[]) {
    this.known = lifeboatObjects(migrations);
  }

  /** Checks one statement; throws `InvalidBackupError` naming its line. */
  observe(s: DumpStatement): void {
    const refuse = (reason: string): never => {
      throw new InvalidBackupError(reason, s.line);
    };
    if (s.kind.startsWith("create-")) {
      const name = s.name ?? "";
      const own = isLifeboatName(name);
      const what = s.kind.slice("create-".length).replaceAll("-", " ");
      if (s.kind === "create-table" && own) {
        if (!this.known.tables.has(name.toLowerCase())) {
          refuse(`table ${name} is named like Lifeboat's own tables, but this Lifeboat has no such table (names starting with lifeboat_ are reserved)`);
        }
        this.created.add(name.toLowerCase());
        return; // its definition is ignored: Lifeboat builds it from its migrations
      }
      if (s.kind === "create-index" && own) {
        if (!this.known.indexes.has(name.toLowerCase()) || !isLifeboatName(s.table ?? "")) {
          refuse(`index ${name} is named like Lifeboat's own indexes, but this Lifeboat has no such index (names starting with lifeboat_ are reserved)`);
        }
        return; // likewise built from the migrations
      }
      if (own) refuse(`a ${what} named ${name} is not allowed: names starting with lifeboat_ are reserved for Lifeboat's own tables`);
      const refs = reservedNamesIn(s.sql);
      if (refs.length > 0) {
        refuse(
          `${what} ${name} refers to ${refs[0]}: the triggers, views, indexes and tables of a backup may not touch Lifeboat's own tables (Lifeboat builds those itself)`,
        );
      }
      return;
    }
    if (s.kind === "insert") {
      const table = s.name ?? "";
      if (!isLifeboatName(table)) return;
      if (!this.created.has(table.toLowerCase())) {
        refuse(`rows for Lifeboat's table ${table} come without its CREATE TABLE: a backup carries Lifeboat's tables whole or not at all`);
      }
      if (table.toLowerCase() === MIGRATIONS_TABLE) this.recordVersions(s, refuse);
    }
  }

  private recordVersions(s: DumpStatement, refuse: (reason: string) => never): void {
    const column = s.columns ? s.columns.findIndex((c) => c.toLowerCase() === "version") : 0;
    if (column < 0) refuse(`rows for ${MIGRATIONS_TABLE} must name their version column`);
    for (const v of integerColumn(s.sql, column)) {
      if (v === null || !Number.isSafeInteger(v) || v < 1) refuse(`${MIGRATIONS_TABLE} holds a version that is not a positive whole number`);
      this.versions.push(v);
      if (this.versions.length > MAX_MIGRATION_ROWS) refuse(`${MIGRATIONS_TABLE} holds more than ${MAX_MIGRATION_ROWS} rows`);
    }
  }

  /** What the dump is, once every statement was observed. Throws for Lifeboat tables without a migration record. */
  result(): LifeboatContent {
    if (this.created.size === 0) return { kind: "plain", schemaVersion: null };
    if (!this.created.has(MIGRATIONS_TABLE) || this.versions.length === 0) {
      throw new InvalidBackupError(
        `the file creates Lifeboat's tables (${[...this.created].sort().join(", ")}) but no ${MIGRATIONS_TABLE} rows saying which schema version they have`,
      );
    }
    return { kind: "lifeboat", schemaVersion: Math.max(...this.versions) };
  }
}

/**
 * What `LifeboatGuard.result()` will find in a dump of a database, read from
 * the database in the snapshot the dump was read from (`query`): `lifeboat`
 * with the newest migration recorded when it has any of Lifeboat's tables,
 * `plain` otherwise. Null when the guard would refuse the record (Lifeboat's
 * tables without migration rows, or a version that is not a positive whole number).
 */
export function lifeboatContentOf(query: (sql: string) => unknown[][]): LifeboatContent | null {
  const tables = query("SELECT CAST(name AS BLOB) FROM sqlite_schema WHERE type = 'table'").map((r) =>
    new TextDecoder().decode(r[0] as Uint8Array).toLowerCase(),
  );
  if (!tables.some(isLifeboatName)) return { kind: "plain", schemaVersion: null };
  if (!tables.includes(MIGRATIONS_TABLE)) return null;
  const [count, valid, newest] = query(
    `SELECT count(*), sum(typeof(version) = 'integer' AND version BETWEEN 1 AND 999999999999999), max(version) FROM ${MIGRATIONS_TABLE}`,
  )[0]!.map(Number);
  if (!count || count > MAX_MIGRATION_ROWS || valid !== count) return null;
  return { kind: "lifeboat", schemaVersion: newest! };
}

/** Wraps a stream of statement batches so each statement passes `guard` first. */
export async function* guarded<T extends DumpStatement>(
  batches: AsyncIterable<T[]>,
  guard: LifeboatGuard,
): AsyncGenerator<T[]> {
  for await (const batch of batches) {
    for (const s of batch) guard.observe(s);
    yield batch;
  }
}
