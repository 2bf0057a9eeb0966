import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readDumpBatches, type DumpStatement, type ReadDumpOptions } from "../../src/dump/reader.ts";
import { InvalidBackupError } from "../../src/errors.ts";
import { tempDir } from "../support/temp.ts";

/** The reader's statements one by one, through its public batches (what the import consumes). */
async function* readDump(source: Parameters<typeof readDumpBatches>[0], options?: ReadDumpOptions): AsyncGenerator<DumpStatement> {
  for await (const batch of readDumpBatches(source, options)) yield* batch;
}

const FIXTURE = "CREATE TABLE t(a, b, c); CREATE TABLE u(x INTEGER PRIMARY KEY, y TEXT UNIQUE); CREATE TABLE j(data TEXT);";

async function read(sql: string): Promise<DumpStatement[]> {
  const bytes = new TextEncoder().encode(sql);
  const out: DumpStatement[] = [];
  for await (const s of readDump((async function* () {
    yield bytes;
  })())) out.push(s);
  return out;
}

// Schema statements real databases hold. Each must pass the reader AND be accepted by SQLite itself,
// so the grammar the checker follows is SQLite's, not an invented one.
const ACCEPTED = [
  // tables
  "CREATE TABLE k1(id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL DEFAULT '', price DECIMAL(10, 2) CHECK (price >= 0))",
  "CREATE TABLE IF NOT EXISTS main.k2(a TEXT COLLATE NOCASE UNIQUE ON CONFLICT REPLACE, b DOUBLE PRECISION, c UNSIGNED BIG INT, d 'quoted type')",
  'CREATE TABLE "k3"("key" TEXT, "desc" TEXT, [order] INT, `group` INT, "from" INT, replace INT, "end" INT)',
  "CREATE TABLE k4(a INT, b INT, PRIMARY KEY (a, b DESC), UNIQUE (b) ON CONFLICT IGNORE, CHECK (a <> b), FOREIGN KEY (a) REFERENCES u(x) ON DELETE SET NULL ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED) WITHOUT ROWID",
  "CREATE TABLE k5(a INTEGER, b TEXT, c ANY, d BLOB, e REAL) STRICT",
  "CREATE TABLE k6(a TEXT, b TEXT AS (upper(a)) VIRTUAL, c INT GENERATED ALWAYS AS (length(a) * 2) STORED, d TEXT GENERATED ALWAYS AS (a || '-' || b))",
  "CREATE TABLE k7(a DEFAULT CURRENT_TIMESTAMP, b DEFAULT (datetime('now', 'localtime')), c DEFAULT -1, d DEFAULT +2.5, e DEFAULT x'00', f DEFAULT TRUE, g DEFAULT NULL, h DEFAULT (json_object('a', 1)))",
  "CREATE TABLE k8(a REFERENCES u, b REFERENCES u(x) MATCH FULL, c INTEGER CONSTRAINT pos CHECK (c > 0) CONSTRAINT nn NOT NULL, d TEXT NOT NULL ON CONFLICT ABORT)",
  "CREATE TABLE k9(a INT PRIMARY KEY DESC ON CONFLICT FAIL, b INT CHECK (b IN (1, 2, 3)), c TEXT CHECK (c LIKE 'x%' ESCAPE '\\' AND c NOT GLOB '*y*'), d CHECK (d IS NOT NULL AND typeof(d) = 'integer'))",
  "CREATE TABLE k10(a INT, b INT, CONSTRAINT pk PRIMARY KEY (a), CONSTRAINT ck CHECK (b BETWEEN 0 AND 10), CONSTRAINT fk FOREIGN KEY (b) REFERENCES u (x))",
  "CREATE TABLE k11(\"a\"\"b\" TEXT, [c d] TEXT, `e``f` TEXT, 'g h' TEXT)",
  "CREATE TABLE k12(a TEXT CHECK (json_valid(a)), b AS (a ->> '$.name'), c AS (a -> '$.tags'), d AS (CAST(a AS BLOB)), e AS (CASE WHEN a IS NULL THEN 0 ELSE 1 END))",
  "CREATE TABLE k13(a, b, c, UNIQUE (a COLLATE NOCASE, b), CHECK (coalesce(a, b, c) IS NOT NULL), CHECK (iif(a > 0, 1, 0) = 1 OR a ISNULL OR a NOTNULL))",
  // indexes
  "CREATE INDEX i1 ON t(a)",
  "CREATE UNIQUE INDEX IF NOT EXISTS i2 ON t(a COLLATE NOCASE DESC, b ASC)",
  "CREATE INDEX i3 ON t(lower(a), length(b) + 1) WHERE c IS NOT NULL AND c > 0",
  "CREATE INDEX i4 ON j(json_extract(data, '$.id'))",
  'CREATE INDEX "odd ""index""" ON "t"("a")',
  // views
  "CREATE VIEW v1 AS SELECT * FROM t",
  "CREATE VIEW IF NOT EXISTS v2(p, q) AS SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 10 OFFSET 5",
  "CREATE VIEW v3 AS SELECT t.a, u.y FROM t LEFT OUTER JOIN u ON u.x = t.b INNER JOIN t AS t2 USING (a) CROSS JOIN j NATURAL JOIN t t3",
  "CREATE VIEW v4 AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10), d AS MATERIALIZED (SELECT 2) SELECT n FROM c, d",
  "CREATE VIEW v5 AS SELECT a, row_number() OVER (PARTITION BY b ORDER BY c DESC NULLS LAST) AS rn, lag(a, 1, 0) OVER w AS prev, sum(a) FILTER (WHERE a > 0) OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW EXCLUDE NO OTHERS) AS s FROM t WINDOW w AS (ORDER BY a)",
  "CREATE VIEW v6 AS SELECT j.data, e.key, e.value, tr.fullkey FROM j, json_each(j.data) AS e, json_tree(j.data, '$.a') tr",
  "CREATE VIEW v7 AS SELECT a FROM t WHERE a IN (SELECT x FROM u) AND EXISTS (SELECT 1 FROM u WHERE u.x = t.a) AND NOT EXISTS (SELECT 2) AND b NOT IN (1, 2) AND c IN u",
  "CREATE VIEW v8 AS SELECT a FROM t UNION SELECT x FROM u UNION ALL SELECT 1 INTERSECT SELECT 2 EXCEPT SELECT 3",
  "CREATE VIEW v9 AS VALUES (1, 'a'), (2, 'b')",
  "CREATE VIEW v10 AS SELECT DISTINCT CAST(a AS INTEGER) AS i, b COLLATE NOCASE, (SELECT max(x) FROM u) AS m, - a, + a, ~ a, NOT a, a IS NOT DISTINCT FROM b, a IS DISTINCT FROM b FROM t",
  "CREATE VIEW v11 AS SELECT s.* FROM (SELECT a, b FROM t) AS s, (u) WHERE s.a > 0",
  "CREATE VIEW v12 AS SELECT group_concat(a, ',') AS g, count(DISTINCT a), total(b), avg(c), min(a), max(a, b), string_agg(a, ';') FROM t",
  "CREATE VIEW v13 AS SELECT strftime('%Y', 'now'), julianday('now'), unixepoch(), date('now', '+1 day'), printf('%d', 1), format('%s', 'x'), hex(randomblob(4)), quote(a), round(1.5), abs(-1), instr(a, 'x'), substr(a, 1, 2), substring(a, 2), trim(a), ltrim(a), rtrim(a), replace(a, 'x', 'y'), char(65), unicode('A'), nullif(a, b), ifnull(a, 0), likely(a), unlikely(a), likelihood(a, 0.5), zeroblob(2), sign(-2), ceil(1.2), floor(1.8), ln(2), log(10, 100), pow(2, 3), sqrt(4), pi(), mod(7, 2) FROM t",
  "CREATE VIEW v14 AS SELECT a FROM t INDEXED BY fi WHERE b = 1",
  "CREATE VIEW v15 AS SELECT \"a\" AS \"x y\", 'lit' lit, a AS [z] FROM t WHERE a = 'it''s' -- trailing comment inside\n AND b = 2",
  // triggers
  "CREATE TRIGGER tr1 AFTER INSERT ON t BEGIN INSERT INTO u(y) VALUES (new.a); END",
  "CREATE TRIGGER tr2 BEFORE UPDATE OF a, b ON t FOR EACH ROW WHEN old.a <> new.a BEGIN UPDATE u SET y = new.a, (x) = (SELECT max(x) + 1 FROM u) WHERE x = old.b; DELETE FROM j WHERE data IS NULL; SELECT RAISE(IGNORE); END",
  "CREATE TRIGGER IF NOT EXISTS tr3 AFTER DELETE ON main.t BEGIN INSERT OR REPLACE INTO u(x, y) SELECT a, b FROM t WHERE a = old.a; REPLACE INTO j VALUES (old.c); END",
  "CREATE TRIGGER tr4 INSTEAD OF INSERT ON fv BEGIN INSERT INTO t VALUES (new.a, new.b, new.c) ON CONFLICT DO NOTHING; END",
  "CREATE TRIGGER tr5 AFTER INSERT ON t BEGIN INSERT INTO u(x, y) VALUES (new.a, new.b) ON CONFLICT(y) WHERE y IS NOT NULL DO UPDATE SET x = excluded.x WHERE x < excluded.x; SELECT CASE WHEN new.a IS NULL THEN RAISE(ABORT, 'a; is required') END; END",
  "CREATE TRIGGER tr6 BEFORE INSERT ON t WHEN (SELECT count(*) FROM u) > 100 BEGIN SELECT RAISE(FAIL, 'full'); END",
  "CREATE TRIGGER tr7 AFTER UPDATE ON t BEGIN UPDATE u SET y = t2.b FROM (SELECT a, b FROM t) AS t2 WHERE u.x = t2.a; END",
  // the application's own functions, where they run only in the application
  "CREATE TRIGGER tr8 AFTER DELETE ON t BEGIN SELECT update_refcount(old.a, -1); END",
  "CREATE TRIGGER tr9 AFTER INSERT ON t WHEN app_ready() BEGIN UPDATE u SET y = app_label(new.a) WHERE x = new.b; END",
  "CREATE VIEW v16 AS SELECT a, app_label(a) AS label, bm25(t) FROM t",
  // virtual tables of the modules SQLite ships
  "CREATE VIRTUAL TABLE ft1 USING fts5(title, body UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3', detail=column)",
  "CREATE VIRTUAL TABLE ft2 USING fts5(a, b, content='t', content_rowid='rowid', columnsize=0)",
  "CREATE VIRTUAL TABLE \"ft 3\" USING fts4(subject, body, languageid=\"lid\", tokenize=unicode61 \"remove_diacritics=0\", notindexed=body, order=DESC, prefix=\"2,4\")",
  "CREATE VIRTUAL TABLE ft4 USING fts3(x, tokenize=porter)",
  "CREATE VIRTUAL TABLE ft5 USING fts4(content=\"t\", a, b)",
  "CREATE VIRTUAL TABLE IF NOT EXISTS main.r1 USING rtree(id, minx, maxx, +label TEXT)",
  "CREATE VIRTUAL TABLE r2 USING rtree_i32(id, a, b, c, d)",
  "CREATE VIRTUAL TABLE voc USING fts5vocab(t, 'row')",
];

describe("schema statements a database holds are accepted, as SQLite accepts them", () => {
  it.each(ACCEPTED.map((sql) => [sql.slice(0, 70), sql]))("%s", async (_, sql) => {
    const [statement] = await read(`${sql};\n`);
    expect(statement!.kind.startsWith("create-")).toBe(true);
    expect(statement!.sql).toBe(sql);
    const db = path.join(await tempDir(), "s.db");
    execFileSync("/usr/bin/sqlite3", [db], { input: `${FIXTURE}\nCREATE INDEX fi ON t(a);\nCREATE VIEW fv AS SELECT * FROM t;\n${sql};\n` });
  });
});

describe("schema statements are refused for what they would call", () => {
  const refused: [string, RegExp][] = [
    ["CREATE TABLE x(a TEXT DEFAULT (readfile('/etc/passwd')))", /function readfile\(\) is not allowed in a backup \(it reads files on the server\)/],
    ["CREATE TABLE x(a, CHECK (writefile('/tmp/x', a) > 0))", /function writefile\(\) is not allowed/],
    ["CREATE TABLE x(a AS (load_extension('/tmp/x.so')))", /function load_extension\(\) is not allowed/],
    ["CREATE TABLE x(a VARCHAR(10) GENERATED ALWAYS AS (\"readfile\"(a)))", /function readfile\(\) is not allowed/],
    ["CREATE TABLE x(a CHECK (`fts3_tokenizer`('simple')))", /function fts3_tokenizer\(\) is not allowed/],
    ["CREATE TABLE x(a CHECK (sqlite_compileoption_get(0)))", /function sqlite_compileoption_get\(\) is not allowed/],
    ["CREATE INDEX x ON t(edit(a))", /function edit\(\) is not allowed/],
    ["CREATE INDEX x ON t(a) WHERE likely(readfile(b))", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT zipfile(a) FROM t", /function zipfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT * FROM zipfile('/tmp/a.zip')", /table-valued function zipfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT * FROM fsdir", /may not read fsdir/],
    ["CREATE VIEW x AS SELECT * FROM pragma_database_list", /may not read pragma_database_list/],
    ["CREATE VIEW x AS SELECT * FROM main.sqlite_dbpage", /may not read sqlite_dbpage/],
    ["CREATE VIEW x AS SELECT * FROM generate_series(1, 10)", /table-valued function generate_series\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT a FROM t WHERE a = (SELECT readfile(b) FROM t)", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS WITH c AS (SELECT readfile('x') AS r) SELECT r FROM c", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT count(*) FILTER (WHERE readfile(a) IS NULL) FROM t", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT sum(a) OVER (PARTITION BY readfile(b)) FROM t", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT CASE readfile(a) WHEN 1 THEN 2 END FROM t", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT CAST(readfile(a) AS TEXT) FROM t", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT a FROM t ORDER BY readfile(a)", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT a FROM t LIMIT readfile(a)", /function readfile\(\) is not allowed/],
    ["CREATE VIEW x AS SELECT a FROM t JOIN u ON readfile(u.y)", /function readfile\(\) is not allowed/],
    ["CREATE INDEX x ON t(left(a, 1))", /function left\(\) is not one of SQLite's built-in functions; in an index expression it would run while rows are restored/],
    ["CREATE TABLE x(a CHECK (update_refcount(a) > 0))", /function update_refcount\(\) is not one of SQLite's built-in functions; in a CHECK constraint it would run while rows are restored/],
    ["CREATE TABLE x(a, b AS (app_label(a)) STORED)", /function app_label\(\) is not one of SQLite's built-in functions; in a generated column/],
    ["CREATE INDEX x ON t(a) WHERE app_ok(b)", /function app_ok\(\) is not one of SQLite's built-in functions; in a partial index's WHERE clause/],
    ["CREATE VIEW x AS SELECT sha3_query('SELECT 1') FROM t", /function sha3_query\(\) is not allowed in a backup \(it runs SQL text\)/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT optimize(new.a); END", /function optimize\(\) is not allowed/],
    ["CREATE VIRTUAL TABLE x USING geopoly(a)", /virtual tables using the geopoly module are not supported \(a backup may hold fts5, fts5vocab, fts4, fts3, rtree and rtree_i32 tables only\)/],
    ["CREATE VIRTUAL TABLE x USING fts5(a, tokenize='icu')", /the tokenizer “icu” is not allowed/],
    ["CREATE VIRTUAL TABLE x USING fts5(a, tokenize='porter my_tokenizer')", /the tokenizer “my_tokenizer” is not allowed/],
    ["CREATE VIRTUAL TABLE x USING fts4(a, compress=zip, uncompress=unzip)", /the fts4 option compress= is not allowed in a backup \(it calls an application function while rows are restored\)/],
    ["CREATE VIRTUAL TABLE x USING fts5(a, content='sqlite_dbpage')", /must be an ordinary table, not sqlite_dbpage/],
    ["CREATE VIRTUAL TABLE x USING fts5(a, content=pragma_database_list)", /must be an ordinary table, not pragma_database_list/],
    ["CREATE VIRTUAL TABLE x USING fts5(a, evil=1)", /the fts5 option “evil” is not allowed/],
    ["CREATE VIRTUAL TABLE x USING fts5vocab(temp, t, 'row')", /may only read a table of the main database/],
    ["CREATE VIRTUAL TABLE temp.x USING fts5(a)", /only the main database can be restored/],
    ["CREATE VIRTUAL TABLE sqlite_x USING fts5(a)", /reserved for SQLite's internal tables/],
    ["CREATE TABLE x(a DEFAULT (filter(1)))", /function filter\(\) is not one of SQLite's built-in functions; in a DEFAULT value/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE u SET y = readfile(new.a); END", /function readfile\(\) is not allowed/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO u SELECT readfile(new.a), 1; END", /function readfile\(\) is not allowed/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM u WHERE y = writefile('x', 'y'); END", /function writefile\(\) is not allowed/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO sqlite_stat1 VALUES ('t', NULL, '1'); END", /a trigger may not write to sqlite_stat1/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1, 2) RETURNING x; END", /RETURNING is not allowed/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN ATTACH 'x' AS y; END", /only INSERT, UPDATE, DELETE and SELECT may appear in a trigger/],
    ["CREATE TRIGGER x AFTER INSERT ON t BEGIN PRAGMA writable_schema = 1; END", /only INSERT, UPDATE, DELETE and SELECT may appear in a trigger/],
    ["CREATE TEMP TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END", /temporary tables, views and triggers are not allowed/],
    ["CREATE TRIGGER x AFTER INSERT ON temp.t BEGIN SELECT 1; END", /only the main database can be restored/],
    ["CREATE VIEW sqlite_v AS SELECT 1", /reserved for SQLite's internal tables/],
    ["CREATE TABLE x(a CHECK (a > ?))", /parameters .* are not allowed/],
    ["CREATE TABLE x(a INT, b INT) FOO", /a table option \(WITHOUT ROWID or STRICT\)/],
    ["CREATE TABLE x(a INT", /expected “,” or “\)” but found the end of the statement/],
    ["CREATE VIEW x AS SELECT (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1", /nested too deeply/],
  ];

  it.each(refused.map(([sql, reason]) => [sql.slice(0, 70), sql, reason] as const))("%s", async (_, sql, reason) => {
    try {
      await read(`CREATE TABLE t(a, b); CREATE TABLE u(x, y);\n${sql};\n`);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidBackupError);
      expect((error as InvalidBackupError).reason).toMatch(reason);
      expect((error as InvalidBackupError).line).toBe(2);
      return;
    }
    throw new Error("accepted");
  });
});
