import Database from "libsql";
import { MIGRATIONS_TABLE_SQL } from "../../../src/db/migrations/table.ts";
import { MIGRATIONS } from "../../../src/db/migrations/index.ts";

export interface CorpusOptions {
  /** Rows in the large table (several dump pages). Default 3000. */
  bigRows?: number;
  /** Add a TEXT value that is not valid UTF-8 (sqlite3 .dump writes it raw, which no UTF-8 reader accepts). */
  invalidUtf8?: boolean;
  /** Lifeboat's own tables with one enabled admin (default true), as in a real Lifeboat database. */
  lifeboatTables?: boolean;
}

/**
 * SQL for a database holding every construct a dump must restore: 64-bit
 * integers beyond 2^53, REALs needing 17 digits, ±Infinity, integral REALs,
 * text with quotes, newlines, CR, NUL and all kinds of Unicode, empty and
 * non-empty BLOBs, NULLs, mixed types in one column, STRICT and WITHOUT ROWID
 * tables (with a NOCASE/DESC composite key), generated columns, AUTOINCREMENT,
 * identifiers that are keywords or hold spaces and quotes, a rowid table
 * without an INTEGER PRIMARY KEY (with gaps) and one whose "rowid" name is
 * taken, partial/expression/unique indexes, triggers, views on views, foreign
 * keys, sqlite_stat1, user_version and application_id.
 */
function corpusSql(options: CorpusOptions = {}): string {
  const big = options.bigRows ?? 3000;
  const longText = "long text with 'quotes' and\nnewlines ".repeat(3000);
  return `
PRAGMA user_version = 42;
PRAGMA application_id = -1234567;
CREATE TABLE "select" ("from" INTEGER PRIMARY KEY, "order" TEXT, "group by" REAL, "a""b" BLOB, "weird col" NUMERIC);
CREATE TABLE "odd ""name"" table" (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL);
CREATE TABLE "values" (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, anything);
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;
CREATE TABLE keyed (k1 TEXT COLLATE NOCASE, k2 INTEGER, v, PRIMARY KEY (k1, k2 DESC)) WITHOUT ROWID;
CREATE TABLE gen (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT GENERATED ALWAYS AS ('x' || a) STORED);
CREATE TABLE no_alias (name TEXT, qty INTEGER);
CREATE TABLE shadow ("rowid" TEXT, v INTEGER);
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE, note TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);
CREATE TABLE big (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT, n INTEGER, x REAL, payload BLOB);
CREATE INDEX child_parent ON child(parent_id);
CREATE UNIQUE INDEX parent_lower ON parent(lower(name));
CREATE INDEX values_positive ON "values"(i) WHERE i > 0;
CREATE INDEX "select idx" ON "select"("order" DESC, "weird col");
CREATE VIEW v1 AS SELECT id, i FROM "values" WHERE i IS NOT NULL;
CREATE VIEW v2 AS SELECT id FROM v1 WHERE i > 0;
CREATE VIEW "v 3" AS SELECT count(*) AS n FROM v2;
CREATE TRIGGER child_audit AFTER INSERT ON child BEGIN INSERT INTO audit(note) VALUES ('child ' || NEW.id); END;
CREATE TRIGGER v1_insert INSTEAD OF INSERT ON v1 BEGIN INSERT INTO "values"(i) VALUES (NEW.i); END;

INSERT INTO "select" VALUES (1, 'it''s', 0.1, X'00FF', '12abc'), (2, 'a"b', 1.0000000000000002, X'', 3.0), (3, NULL, NULL, NULL, 1e300);
INSERT INTO "odd ""name"" table"(v) VALUES ('one'), ('two'), ('three');
DELETE FROM "odd ""name"" table" WHERE id = 3;
INSERT INTO "values" VALUES
  (1, 9223372036854775807, 0.1, 'line1' || char(10) || 'line2', X'DEADBEEF', 9007199254740993),
  (2, -9223372036854775808, 5e-324, 'cr' || char(13) || char(10) || 'lf', randomblob(1000), 1.5),
  (3, 9007199254740993, 1.7976931348623157e308, 'nul' || char(0) || 'inside', X'', 'text'),
  (4, 0, 1e999, '🦀 中文 é (e' || char(769) || ') ' || char(8232) || char(65279) || ' ∑', NULL, X'0102'),
  (5, -1, -1e999, '', X'00', NULL),
  (6, NULL, 3.0, '${"x".repeat(10)}', NULL, 3.0),
  (7, 42, 0.30000000000000004, ${"'" + longText.replace(/'/g, "''") + "'"}, zeroblob(70000), -0.0),
  (8, 7, 123456789012345680.0, char(0), X'00', char(0, 0)),
  (9, 8, 2.2250738585072014e-308, '-- not a comment; DROP TABLE x;', X'3B', '/* nor this */');
INSERT INTO strict_t VALUES (1, 9223372036854775807, 3.0, 'strict ''text''', X'AB', 1), (2, NULL, 1e-10, NULL, NULL, 2.5),
  (3, -5, 0.1, 'τ', X'', 'any text'), (4, 0, -2.5, '', NULL, X'FF');
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 600)
INSERT INTO keyed SELECT CASE i % 3 WHEN 0 THEN 'Apple ' || i WHEN 1 THEN 'apple ' || i ELSE 'BANANA ''' || i END, i % 7, CASE i % 4 WHEN 0 THEN i WHEN 1 THEN i * 0.5 WHEN 2 THEN 'v' || i ELSE NULL END FROM c;
INSERT INTO keyed VALUES ('x', 1, 'one'), ('x', 2, 'two'), ('X2', -3, NULL);
INSERT INTO gen(id, a) VALUES (1, 5), (2, NULL), (3, -7);
INSERT INTO no_alias(rowid, name, qty) VALUES (5, 'five', 5), (9, 'nine', 9), (100, 'hundred', NULL), (-3, 'negative', -3);
INSERT INTO shadow(_rowid_, "rowid", v) VALUES (10, 'not the rowid', 1), (20, NULL, 2);
INSERT INTO parent VALUES (1, 'Alice'), (2, 'Bob');
INSERT INTO child(id, parent_id, note) VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, NULL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${big})
INSERT INTO big(label, n, x, payload) SELECT 'row ' || i || CASE WHEN i % 10 = 0 THEN ' ''q''' ELSE '' END, i * 1000003, i / 7.0, CASE WHEN i % 5 = 0 THEN randomblob(i % 50) ELSE NULL END FROM c;
DELETE FROM big WHERE id % 97 = 0;
${options.invalidUtf8 ? "INSERT INTO \"values\" VALUES (10, 1, 1.0, CAST(X'61FF62C3' AS TEXT), NULL, CAST(X'FE' AS TEXT));" : ""}
ANALYZE;
`;
}

/** A real scrypt hash (of "corpus admin password") at Lifeboat's production cost: restores check the shape. */
const CORPUS_ADMIN_HASH = "$scrypt$ln=17,r=8,p=1$bT4dMsJrQDK4y+xIlNYOAg==$tJv4+hNSRkpqoqiKE+Ot7GutmLGBh1LHIcHu0uFYaKs=";

/** Creates Lifeboat's tables (all migrations) with one enabled admin. */
export function lifeboatSql(): string {
  const parts = [MIGRATIONS_TABLE_SQL + ";"];
  for (const m of MIGRATIONS) {
    for (const s of m.up) parts.push(s + ";");
    parts.push(`INSERT INTO lifeboat_migrations VALUES (${m.version}, '${m.name}', '2026-01-01T00:00:00.000Z');`);
  }
  parts.push(
    `INSERT INTO lifeboat_users (username, password_hash, role, disabled, created_at, updated_at) VALUES ('admin', '${CORPUS_ADMIN_HASH}', 'admin', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');`,
  );
  return parts.join("\n");
}

/** Builds the corpus database at `file` (created; WAL like Lifeboat's own). */
export function buildCorpus(file: string, options: CorpusOptions = {}): void {
  const db = new Database(file);
  try {
    db.exec("PRAGMA journal_mode=WAL");
    if (options.lifeboatTables ?? true) db.exec(lifeboatSql());
    db.exec(corpusSql(options));
  } finally {
    db.close();
  }
}
