import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  openDumpFile,
  readDumpBatches,
  sniffDump,
  type DumpHeader,
  type DumpStatement,
  type ReadDumpOptions,
} from "../../src/dump/reader.ts";
import { InvalidBackupError } from "../../src/errors.ts";
import { tempDir } from "../support/temp.ts";

/** The reader's statements one by one, through its public batches (what the import consumes). */
async function* readDump(source: Parameters<typeof readDumpBatches>[0], options?: ReadDumpOptions): AsyncGenerator<DumpStatement> {
  for await (const batch of readDumpBatches(source, options)) yield* batch;
}

const SQLITE3 = "/usr/bin/sqlite3";
const utf8 = new TextEncoder();

/** Yields `bytes` in chunks of `size` bytes (1 = every possible boundary). */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === "string" ? utf8.encode(input) : input;
}

/**
 * All statements of a dump fed in chunks of `chunk` bytes. Windows are scanned
 * at every chunk (minWindowBytes 1) unless a test asks otherwise, so small
 * chunks really put a boundary at every position.
 */
async function read(input: string | Uint8Array, options: ReadDumpOptions & { chunk?: number } = {}): Promise<DumpStatement[]> {
  const bytes = toBytes(input);
  const out: DumpStatement[] = [];
  for await (const s of readDump(chunked(bytes, options.chunk ?? 65536), { minWindowBytes: 1, ...options })) out.push(s);
  return out;
}

/** The error a dump is refused with (fails the test when it is accepted). */
async function refusal(input: string | Uint8Array, options: ReadDumpOptions & { chunk?: number } = {}): Promise<InvalidBackupError> {
  try {
    await read(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidBackupError);
    return error as InvalidBackupError;
  }
  throw new Error("the dump was accepted");
}

/** Runs SQL through the sqlite3 CLI against `db`. */
function sqlite(db: string, sql: string, ...args: string[]): string {
  return execFileSync(SQLITE3, [db, ...args], { input: sql, encoding: "utf8" });
}

/** The statements joined back into a script (what an importer would hand SQLite). */
function script(statements: DumpStatement[]): string {
  return statements.map((s) => `${s.sql};\n`).join("");
}

const PRELUDE = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a, b);\n"; // hostile statements go on line 4
const wrap = (hostile: string) => `${PRELUDE}${hostile}\nCOMMIT;\n`;

// A database holding every construct a backup must carry, built by the sqlite3 CLI.
const CORPUS_SQL = `
PRAGMA user_version = 42;
PRAGMA application_id = 1819243362;
CREATE TABLE "select"(
  "from" INTEGER PRIMARY KEY AUTOINCREMENT, -- keyword names; a comment kept in the schema
  "a b" TEXT NOT NULL DEFAULT 'x''y',
  "quo""te" BLOB,
  [with space] REAL CHECK ([with space] IS NULL OR [with space] > -1e999 OR [with space] = -1e999),
  \`back\`\`tick\` TEXT COLLATE NOCASE,
  upper_ab TEXT GENERATED ALWAYS AS (upper("a b")) VIRTUAL
);
CREATE TABLE nums(i INTEGER, r REAL, t TEXT, b BLOB) STRICT;
CREATE TABLE kv(k TEXT PRIMARY KEY, v ANY) STRICT, WITHOUT ROWID;
CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  note TEXT, created TEXT DEFAULT (datetime('2026-01-01')), total REAL AS (id * 1.5) STORED);
CREATE TABLE log(id INTEGER PRIMARY KEY, msg TEXT UNIQUE, n INTEGER DEFAULT 0);
INSERT INTO "select"("a b", "quo""te", [with space], \`back\`\`tick\`) VALUES
 ('multi
line', X'00FF10', 1e999, 'Ünïcødé 😀'),
 ('cr' || char(13) || 'lf' || char(13,10) || 'end', X'', -1e999, NULL),
 (';semi;--not a comment /* nor this */', NULL, 0.1, 'tab	x');
INSERT INTO nums VALUES (9223372036854775807, 1.7976931348623157e308, 'a', X'01'), (-9223372036854775808, -0.0, '', X''),
  (9007199254740993, 5e-324, 'text', NULL);
INSERT INTO kv VALUES ('int', 1), ('real', 2.5), ('text', 'x'), ('blob', X'BEEF'), ('null', NULL);
INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');
INSERT INTO child(id, parent_id, note) VALUES (1, 1, 'c1'), (2, 2, NULL);
CREATE INDEX child_parent ON child(parent_id) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX parent_name_lower ON parent(lower(name));
CREATE INDEX "odd index" ON "select"("a b" COLLATE NOCASE DESC, length([with space]));
CREATE VIEW v_parent AS SELECT id, name FROM parent;
CREATE VIEW v_parent2 AS SELECT v.id, count(c.id) AS kids, group_concat(c.note, ';') AS notes
  FROM v_parent AS v LEFT JOIN child c ON c.parent_id = v.id GROUP BY v.id;
CREATE VIEW v_window AS SELECT id, row_number() OVER (ORDER BY id DESC) AS rn, sum(id) OVER w AS running
  FROM parent WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);
CREATE VIEW v_json AS SELECT kv.k, j.key, j.value FROM kv, json_each('{"a":1,"b":[2,3]}') AS j;
CREATE VIEW v_cte AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5)
  SELECT x, CASE WHEN x % 2 = 0 THEN 'even' ELSE 'odd' END AS parity FROM c;
CREATE TRIGGER child_log AFTER INSERT ON child BEGIN
  INSERT INTO log(msg) VALUES ('child ' || new.id || ';inserted') ON CONFLICT(msg) DO UPDATE SET n = n + 1;
  UPDATE parent SET name = CASE WHEN name LIKE '%;%' THEN name ELSE name || '' END WHERE id = new.parent_id;
END;
CREATE TRIGGER parent_guard BEFORE DELETE ON parent FOR EACH ROW WHEN old.id = 1 BEGIN
  SELECT RAISE(ABORT, 'parent 1 stays; END; always');
END;
CREATE TRIGGER v_parent_ins INSTEAD OF INSERT ON v_parent BEGIN INSERT INTO parent(id, name) VALUES (new.id, new.name); END;
INSERT INTO child(id, parent_id, note) VALUES (3, 1, 'after trigger');
ANALYZE;
`;

// A Lifeboat-format dump written by hand: every value form the reader accepts, CRLF lines included.
const LIFEBOAT_DUMP = [
  "-- Lifeboat backup",
  "-- format: 1",
  "-- lifeboat-version: 0.1.0",
  "-- created-at: 2026-11-26T00:00:00.000Z",
  "-- trigger: scheduled",
  '-- rows: {"values":6,"odd \\"name\\"":2}',
  "PRAGMA foreign_keys=OFF;",
  "BEGIN TRANSACTION;",
  "PRAGMA user_version=7;",
  "PRAGMA application_id=-5;",
  'CREATE TABLE "values"(id INTEGER PRIMARY KEY AUTOINCREMENT, v ANY) STRICT;',
  'INSERT INTO "values"(id,v) VALUES(1,9223372036854775807),(2,-9223372036854775808),(3,1e999),(4,-1e999),(5,.5),(6,0x1F);',
  'CREATE TABLE "odd ""name"""("a""b" TEXT, [c d] BLOB);',
  "INSERT INTO \"odd \"\"name\"\"\" VALUES(CAST(X'610062' AS TEXT),X''),\r",
  "(replace(replace('a\\r\\nb','\\r',char(13)),'\\n',char(10)) || 'end' || 'x''y', x'00ff');",
  "INSERT INTO \"values\" VALUES (7, -- a comment inside",
  "  /* and another */ 'multi-line",
  "text ; with -- no comment'),(8,TRUE),(9,FALSE),(10,null),(11,+5),(12,- 3),(13,CAST(1 AS TEXT)),(14,char()),(15,'é€😀');",
  "DELETE FROM sqlite_sequence;",
  "INSERT INTO sqlite_sequence VALUES('values',15);",
  "ANALYZE sqlite_schema;",
  "INSERT INTO sqlite_stat1 VALUES('values',NULL,'15');",
  "COMMIT;",
  "-- end of Lifeboat backup",
  "",
].join("\n");

describe("readDump: what a backup may contain", () => {
  it("accepts a real sqlite3 .dump whole, and the statements rebuild the same database", async () => {
    const dir = await tempDir();
    const source = path.join(dir, "source.db");
    sqlite(source, CORPUS_SQL);
    const dump = sqlite(source, "", ".dump");

    const statements = await read(dump);
    const kinds = new Set(statements.map((s) => s.kind));
    for (const kind of ["pragma", "begin", "create-table", "insert", "analyze", "stat-insert", "sequence-delete", "sequence-insert", "create-index", "create-view", "create-trigger", "commit"]) {
      expect(kinds, kind).toContain(kind);
    }
    expect(statements.at(-1)!.kind).toBe("commit");
    // Line numbers point at the statement starts in the file.
    const lines = dump.split("\n");
    for (const s of statements) expect(lines[s.line - 1]!.startsWith(s.sql.split("\n")[0]!), s.sql).toBe(true);
    // Names come unquoted.
    expect(statements.find((s) => s.kind === "create-table")!.name).toBe("select");
    expect(statements.find((s) => s.kind === "create-index" && s.name === "odd index")!.table).toBe("select");
    expect(statements.find((s) => s.kind === "sequence-insert")!.name).toBe("sqlite_sequence");

    // What the reader hands on restores exactly what the file itself restores
    // (schema text and comments included, value for value).
    const direct = path.join(dir, "direct.db");
    const restored = path.join(dir, "restored.db");
    sqlite(direct, dump);
    sqlite(restored, script(statements));
    expect(sqlite(restored, "", ".dump")).toBe(sqlite(direct, "", ".dump"));
    expect(sqlite(restored, "", ".dump")).toContain("a comment kept in the schema");
  });

  it("reads a Lifeboat dump: header, every value form, names, rows and lines", async () => {
    let header: DumpHeader | null | undefined;
    let calls = 0;
    const statements = await read(LIFEBOAT_DUMP, {
      onHeader: (h) => {
        header = h;
        calls++;
      },
    });
    expect(calls).toBe(1);
    expect(header).toEqual({
      formatVersion: 1,
      lifeboatVersion: "0.1.0",
      createdAt: "2026-11-26T00:00:00.000Z",
      trigger: "scheduled",
      rowCounts: { values: 6, 'odd "name"': 2 },
    });
    const summary = statements.map((s) => [s.line, s.kind, s.name ?? null, s.rows ?? null]);
    expect(summary).toEqual([
      [7, "pragma", null, null],
      [8, "begin", null, null],
      [9, "pragma", null, null],
      [10, "pragma", null, null],
      [11, "create-table", "values", null],
      [12, "insert", "values", 6],
      [13, "create-table", 'odd "name"', null],
      [14, "insert", 'odd "name"', 2],
      [16, "insert", "values", 9],
      [19, "sequence-delete", "sqlite_sequence", null],
      [20, "sequence-insert", "sqlite_sequence", 1],
      [21, "analyze", null, null],
      [22, "stat-insert", "sqlite_stat1", 1],
      [23, "commit", null, null],
    ]);
    expect(statements[0]!.pragma).toEqual({ name: "foreign_keys", value: "OFF" });
    expect(statements[2]).toMatchObject({ sql: "PRAGMA user_version=7", pragma: { name: "user_version", value: "7" } });
    expect(statements[3]).toMatchObject({ sql: "PRAGMA application_id=-5", pragma: { name: "application_id", value: "-5" } });
    expect(statements[5]!.columns).toEqual(["id", "v"]);
    // Comments are dropped from INSERTs; the string keeps its newline, `;` and `--`.
    expect(statements[8]!.sql).toBe(
      "INSERT INTO \"values\" VALUES (7, 'multi-line\ntext ; with -- no comment'),(8,TRUE),(9,FALSE),(10,null),(11,+5),(12,- 3),(13,CAST(1 AS TEXT)),(14,char()),(15,'é€😀')",
    );

    // SQLite reads the rebuilt statements to exactly the values the file meant.
    const db = path.join(await tempDir(), "lifeboat.db");
    sqlite(db, script(statements));
    expect(sqlite(db, 'SELECT id, typeof(v), quote(v) FROM "values" ORDER BY id;')).toBe(
      [
        "1|integer|9223372036854775807",
        "2|integer|-9223372036854775808",
        "3|real|Inf",
        "4|real|-Inf",
        "5|real|0.5",
        "6|integer|31",
        "7|text|'multi-line\ntext ; with -- no comment'",
        "8|integer|1",
        "9|integer|0",
        "10|null|NULL",
        "11|integer|5",
        "12|integer|-3",
        "13|text|'1'",
        "14|text|''",
        "15|text|'é€😀'",
        "",
      ].join("\n"),
    );
    expect(sqlite(db, 'SELECT hex("a""b"), hex([c d]) FROM "odd ""name""";')).toBe("610062|\n" + "610D0A62656E64782779|00FF\n");
    expect(sqlite(db, "PRAGMA user_version; PRAGMA application_id;")).toBe("7\n-5\n");
    expect(sqlite(db, "SELECT name, seq FROM sqlite_sequence; SELECT * FROM sqlite_stat1;")).toBe("values|15\nvalues||15\n");
  });

  it("finds the same statements whatever the chunk boundaries (every byte split)", async () => {
    const whole = await read(LIFEBOAT_DUMP);
    for (const size of [1, 2, 3, 7, 64]) {
      expect(await read(LIFEBOAT_DUMP, { chunk: size }), `chunks of ${size}`).toEqual(whole);
      expect(await read(LIFEBOAT_DUMP, { chunk: size, minWindowBytes: 100 }), `chunks of ${size}, windows of 100`).toEqual(whole);
    }
    const dir = await tempDir();
    const db = path.join(dir, "c.db");
    sqlite(db, CORPUS_SQL);
    const dump = sqlite(db, "", ".dump");
    expect(await read(dump, { chunk: 1 })).toEqual(await read(dump));
  });

  it("batches: the same statements, in the same order, grouped per chunk", async () => {
    const bytes = utf8.encode(LIFEBOAT_DUMP);
    const flat: DumpStatement[] = [];
    for await (const batch of readDumpBatches(chunked(bytes, 100))) flat.push(...batch);
    expect(flat).toEqual(await read(LIFEBOAT_DUMP));
  });

  it("accepts a file without BEGIN/COMMIT, a BOM, CRLF lines, comments and empty statements", async () => {
    const text = "\ufeff-- made by hand\r\nCREATE TABLE t(a);\r\n;;\r\n/* rows */ INSERT INTO t VALUES(1);\r\nINSERT INTO main.t VALUES(2);\r\n";
    const statements = await read(text);
    expect(statements.map((s) => [s.line, s.kind, s.sql])).toEqual([
      [2, "create-table", "CREATE TABLE t(a)"],
      [4, "insert", "INSERT INTO t VALUES(1)"],
      [5, "insert", "INSERT INTO main.t VALUES(2)"],
    ]);
  });

  it("keeps CREATE text as written (comments inside included) and drops the comment after it", async () => {
    const text = "CREATE TABLE t( -- the id\n  id INTEGER /* key */ PRIMARY KEY\n) /* ; ATTACH 'x' AS y; */ ;\n";
    const [s] = await read(text);
    expect(s!.sql).toBe("CREATE TABLE t( -- the id\n  id INTEGER /* key */ PRIMARY KEY\n)");
  });

  it("ends a trigger at its END, not at a `;` in its body, a string or a CASE … END", async () => {
    const text = [
      "CREATE TABLE t(a); CREATE TABLE u(b);",
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN",
      "  INSERT INTO u VALUES('; END;');",
      "  SELECT CASE WHEN new.a THEN 1 END; SELECT CASE new.a WHEN 1 THEN 'END' ELSE 2 END;",
      "END;",
      "INSERT INTO t VALUES(1);",
    ].join("\n");
    const statements = await read(text);
    expect(statements.map((s) => s.kind)).toEqual(["create-table", "create-table", "create-trigger", "insert"]);
    expect(statements[2]!.sql.endsWith("END")).toBe(true);
    expect(statements[3]!.line).toBe(6);
    const db = path.join(await tempDir(), "t.db");
    sqlite(db, script(statements));
    expect(sqlite(db, "SELECT b FROM u;")).toBe("; END;\n");
  });

  it("hides nothing behind comments: the rebuilt INSERT holds only the validated tokens", async () => {
    const text = wrap("INSERT INTO t VALUES('a'/*', readfile('/etc/passwd') --*/, 2) -- ; ATTACH 'x' AS y\n;");
    const statements = await read(text);
    const insert = statements.find((s) => s.kind === "insert")!;
    expect(insert.sql).toBe("INSERT INTO t VALUES('a' , 2)");
    expect(insert.line).toBe(4);
  });

  it("drops a comment wherever it sits in an INSERT, and SQLite reads the same row", async () => {
    const c = "/*c*/";
    const text = `CREATE TABLE t(a, b, c, d);\nINSERT${c}INTO${c}t${c}(${c}a${c},b,c,d)${c}VALUES${c}(${c}1${c},${c}CAST${c}(${c}'x'${c}AS${c}TEXT${c}(${c}5${c})${c})${c},${c}char${c}(${c}65${c},${c}66${c})${c}||${c}'z'${c},${c}-${c}2${c})${c},${c}(TRUE,--x\nNULL,X'',.5)${c};\n`;
    for (const chunk of [65536, 1]) {
      const statements = await read(text, { chunk });
      const insert = statements[1]!;
      expect(insert.sql).not.toMatch(/\/\*|--/);
      expect(insert.rows).toBe(2);
      const db = path.join(await tempDir(), "c.db");
      sqlite(db, script(statements));
      expect(sqlite(db, "SELECT quote(a), quote(b), quote(c), quote(d) FROM t;")).toBe("1|'x'|'ABz'|-2\n1|NULL|X''|0.5\n");
    }
  });

  it("stops reading the source when the caller stops early", async () => {
    let cancelled = false;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(utf8.encode("CREATE TABLE t(a);\nINSERT INTO t VALUES(1);\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const s of readDump(source)) {
      expect(s.kind).toBe("create-table");
      break;
    }
    expect(cancelled).toBe(true);
  });

  it("accepts unistr() and nested dump functions in values", async () => {
    const statements = await read(wrap("INSERT INTO t VALUES(unistr('\\u0041'), replace(replace('a\\nb','\\r',char(13)),'\\n',char(10)) || CAST(X'00' AS BLOB));"));
    expect(statements.find((s) => s.kind === "insert")!.rows).toBe(1);
  });

  it("treats a `;` inside strings, quoted names and comments as text", async () => {
    const statements = await read('CREATE TABLE "a;b"(";" TEXT); INSERT INTO "a;b" VALUES(\';\') /* ; */ ; -- ;\n');
    expect(statements.map((s) => s.name)).toEqual(["a;b", "a;b"]);
  });
});

describe("readDump refuses what a dump never holds, naming the line", () => {
  const cases: [string, string, number, RegExp][] = [
    ["ATTACH", "ATTACH 'other.db' AS other;", 4, /ATTACH is not allowed/],
    ["DETACH", "DETACH other;", 4, /DETACH is not allowed/],
    ["SELECT writefile()", "SELECT writefile('/tmp/pwned', 'x');", 4, /SELECT is not allowed/],
    ["VACUUM INTO", "VACUUM INTO '/tmp/copy.db';", 4, /VACUUM is not allowed.*VACUUM INTO writes a file/],
    ["load_extension in values", "INSERT INTO t VALUES(load_extension('/tmp/evil.so'), 1);", 4, /function load_extension\(\) is not allowed in a backup \(it loads native code\)/],
    ["readfile in values", "INSERT INTO t VALUES(1, readfile('/etc/passwd'));", 4, /function readfile\(\) is not allowed in a backup/],
    ["readfile quoted", "INSERT INTO t VALUES(1, \"readfile\"('/etc/passwd'));", 4, /function readfile\(\) is not allowed/],
    ["readfile nested", "INSERT INTO t VALUES(1, replace('a', 'b', readfile('/etc/passwd')));", 4, /function readfile\(\) is not allowed/],
    ["readfile after ||", "INSERT INTO t VALUES('a' || readfile('/etc/passwd'), 1);", 4, /function readfile\(\) is not allowed/],
    ["a later row", "INSERT INTO t VALUES(1,2),\n(3,\n writefile('x','y'));", 6, /function writefile\(\) is not allowed/],
    ["PRAGMA writable_schema", "PRAGMA writable_schema=ON;", 4, /PRAGMA writable_schema is not allowed/],
    ["other PRAGMA", "PRAGMA journal_mode=DELETE;", 4, /PRAGMA journal_mode is not allowed/],
    ["INSERT INTO sqlite_schema", "INSERT INTO sqlite_schema VALUES('table','x','x',0,'CREATE TABLE x(a)');", 4, /INSERT INTO sqlite_schema is not allowed.*schema/],
    ["INSERT INTO sqlite_master (any case)", 'INSERT INTO "SQLITE_MASTER" VALUES(1);', 4, /INSERT INTO SQLITE_MASTER is not allowed/],
    ["INSERT INTO sqlite_temp_master", "INSERT INTO main.sqlite_dbpage VALUES(1, X'00');", 4, /INSERT INTO sqlite_dbpage is not allowed/],
    ["INSERT … SELECT", "INSERT INTO t SELECT a, b FROM t;", 4, /INSERT … SELECT is not allowed/],
    ["INSERT … DEFAULT VALUES", "INSERT INTO t DEFAULT VALUES;", 4, /DEFAULT VALUES is not allowed/],
    ["upsert", "INSERT INTO t VALUES(1,2) ON CONFLICT DO NOTHING;", 4, /ON CONFLICT \(upsert\) clause is not allowed/],
    ["RETURNING", "INSERT INTO t VALUES(1,2) RETURNING a;", 4, /RETURNING clause is not allowed/],
    ["INSERT OR REPLACE", "INSERT OR REPLACE INTO t VALUES(1,2);", 4, /INSERT OR … is not allowed/],
    ["REPLACE INTO", "REPLACE INTO t VALUES(1,2);", 4, /REPLACE INTO is not allowed/],
    ["an expression", "INSERT INTO t VALUES(1+1, 2);", 4, /expected “,” or “\)” after a value but found “\+”/],
    ["a double-quoted value", 'INSERT INTO t VALUES("a", 2);', 4, /“a” is not a value a backup may insert/],
    ["a product holding a column", "INSERT INTO t VALUES((2*a), 2);", 4, /only a product of numbers may stand in parentheses/],
    ["a product holding a call", "INSERT INTO t VALUES((2*readfile('x')), 2);", 4, /only a product of numbers may stand in parentheses/],
    ["a lone number in parentheses", "INSERT INTO t VALUES((2), 2);", 4, /only a product of numbers may stand in parentheses/],
    ["a sub-select value", "INSERT INTO t VALUES((SELECT 1), 2);", 4, /only a product of numbers may stand in parentheses in a backup.s values/],
    ["a parameter", "INSERT INTO t VALUES(?1, 2);", 4, /parameters .* are not allowed/],
    ["a column name as value", "INSERT INTO t VALUES(a, 2);", 4, /“a” is not a value/],
    ["UPDATE", "UPDATE t SET a = 1;", 4, /UPDATE is not allowed/],
    ["DELETE", "DELETE FROM t;", 4, /DELETE is not allowed in a backup \(only DELETE FROM sqlite_sequence\)/],
    ["DELETE FROM sqlite_sequence WHERE", "DELETE FROM sqlite_sequence WHERE name = 't';", 4, /may not have a WHERE clause/],
    ["DROP", "DROP TABLE t;", 4, /DROP is not allowed/],
    ["ALTER", "ALTER TABLE t ADD COLUMN c;", 4, /ALTER is not allowed/],
    ["REINDEX", "REINDEX;", 4, /REINDEX is not allowed/],
    ["SAVEPOINT", "SAVEPOINT s;", 4, /SAVEPOINT is not allowed/],
    ["RELEASE", "RELEASE s;", 4, /RELEASE is not allowed/],
    ["ROLLBACK", "ROLLBACK; -- due to errors", 4, /ROLLBACK is not allowed.*incomplete/],
    ["ANALYZE of a table", "ANALYZE t;", 4, /only ANALYZE sqlite_schema is allowed/],
    ["a second BEGIN", "BEGIN;", 4, /a second BEGIN TRANSACTION/],
    ["not SQL", "hello world;", 4, /“hello” is not a statement a backup may contain/],
    ["CREATE VIRTUAL TABLE of another module", "CREATE VIRTUAL TABLE f USING geopoly(a);", 4, /virtual tables using the geopoly module are not supported/],
    ["CREATE TEMP TABLE", "CREATE TEMP TABLE x(a);", 4, /temporary tables, views and triggers are not allowed/],
    ["CREATE TABLE AS SELECT", "CREATE TABLE x AS SELECT * FROM t;", 4, /CREATE TABLE … AS SELECT is not allowed/],
    ["CREATE TABLE in another schema", "CREATE TABLE temp.x(a);", 4, /only the main database can be restored/],
    ["CREATE TABLE sqlite_*", "CREATE TABLE sqlite_x(a);", 4, /reserved for SQLite's internal tables/],
    ["readfile in CHECK", "CREATE TABLE x(a CHECK (readfile('/etc/passwd') IS NOT NULL));", 4, /function readfile\(\) is not allowed/],
    ["readfile in DEFAULT", "CREATE TABLE x(\n  a,\n  b DEFAULT (readfile('/etc/passwd'))\n);", 6, /function readfile\(\) is not allowed/],
    ["readfile in a generated column", "CREATE TABLE x(a, b AS (readfile(a)));", 4, /function readfile\(\) is not allowed/],
    ["readfile in a table CHECK", "CREATE TABLE x(a, CONSTRAINT c CHECK (length(readfile(a)) > 0));", 4, /function readfile\(\) is not allowed/],
    ["readfile in an index expression", "CREATE INDEX i ON t(readfile(a));", 4, /function readfile\(\) is not allowed/],
    ["readfile in a partial index", "CREATE INDEX i ON t(a) WHERE readfile(b) IS NULL;", 4, /function readfile\(\) is not allowed/],
    ["readfile in a view", "CREATE VIEW v AS\nSELECT a,\n  readfile('/etc/passwd') AS secret FROM t;", 6, /function readfile\(\) is not allowed/],
    ["readfile deep in a view", "CREATE VIEW v AS SELECT * FROM t WHERE a IN (SELECT b FROM t WHERE EXISTS (SELECT [readfile](b)));", 4, /function readfile\(\) is not allowed/],
    ["writefile in a trigger body", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT writefile('/tmp/x', new.a);\nEND;", 5, /function writefile\(\) is not allowed/],
    ["readfile in a trigger WHEN", "CREATE TRIGGER tr AFTER INSERT ON t WHEN readfile(new.a) IS NULL BEGIN SELECT 1; END;", 4, /function readfile\(\) is not allowed/],
    ["load_extension in a trigger upsert", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO t VALUES(1,2) ON CONFLICT DO UPDATE SET a = load_extension('x'); END;", 4, /function load_extension\(\) is not allowed/],
    ["an unknown function in a CHECK", "CREATE TABLE x(a CHECK (my_udf(a)));", 4, /function my_udf\(\) is not one of SQLite's built-in functions; in a CHECK constraint it would run while rows are restored/],
    ["a window function's argument", "CREATE VIEW v AS SELECT sum(readfile(a)) OVER (ORDER BY b) FROM t;", 4, /function readfile\(\) is not allowed/],
    ["a pragma table-valued function", "CREATE VIEW v AS SELECT * FROM pragma_table_info('t');", 4, /table-valued function pragma_table_info\(\) is not allowed/],
    ["sqlite_dbpage in a view", "CREATE VIEW v AS SELECT * FROM sqlite_dbpage;", 4, /may not read sqlite_dbpage/],
    ["fsdir via IN", "CREATE VIEW v AS SELECT * FROM t WHERE a IN fsdir('/');", 4, /table-valued function fsdir\(\) is not allowed/],
    ["a trigger writing sqlite_sequence", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM sqlite_sequence; END;", 4, /a trigger may not write to sqlite_sequence/],
    ["a parameter in a CHECK", "CREATE TABLE x(a CHECK (a > :min));", 4, /parameters .* are not allowed/],
    ["COMMIT; DROP TABLE", "COMMIT; DROP TABLE t;", 4, /a statement after the final COMMIT is not allowed \(found “DROP TABLE t;”\)/],
  ];

  for (const [name, hostile, line, reason] of cases) {
    it(name, async () => {
      const error = await refusal(wrap(hostile));
      expect(error.reason).toMatch(reason);
      expect(error.line).toBe(line);
      expect(error.message).toBe(`line ${line}: ${error.reason}`);
    });
  }

  it("refuses the same way when every byte arrives alone", async () => {
    for (const [, hostile, line, reason] of cases.slice(0, 12)) {
      const error = await refusal(wrap(hostile), { chunk: 1 });
      expect(error.reason).toMatch(reason);
      expect(error.line).toBe(line);
    }
  });

  it("refuses a statement after the final COMMIT even when allowed before it", async () => {
    const error = await refusal("BEGIN;\nCREATE TABLE t(a);\nCOMMIT;\nINSERT INTO t VALUES(1);\n");
    expect(error.line).toBe(4);
    expect(error.reason).toMatch(/after the final COMMIT/);
  });

  it("refuses COMMIT without BEGIN and a newer format", async () => {
    expect((await refusal("CREATE TABLE t(a);\nCOMMIT;\n")).reason).toMatch(/COMMIT without BEGIN/);
    const newer = await refusal("-- Lifeboat backup\n-- format: 2\nCREATE TABLE t(a);\n-- end of Lifeboat backup\n");
    expect(newer.line).toBe(2);
    expect(newer.reason).toMatch(/newer Lifeboat \(format 2\)/);
    expect((await refusal('-- Lifeboat backup\n-- format: 1\n-- rows: {"t":\nCREATE TABLE t(a);\n')).reason).toMatch(/rows line is not valid JSON/);
  });
});

describe("readDump refuses truncated files", () => {
  it("mid-string", async () => {
    const error = await refusal("BEGIN TRANSACTION;\nCREATE TABLE t(a);\nINSERT INTO t VALUES('never\nclosed);\n");
    expect(error.reason).toMatch(/ends inside a string \(the file is truncated\)/);
    expect(error.line).toBe(3);
  });

  it("mid-statement, mid-comment, mid-quoted-name, mid-blob and mid-trigger", async () => {
    for (const [tail, reason] of [
      ["INSERT INTO t VALUES(1,", /ends in the middle of a statement/],
      ["INSERT INTO t VALUES(1)", /ends in the middle of a statement/],
      ["CREATE TABLE u(a", /ends in the middle of a statement/],
      ["/* a comment", /ends inside a \/\* comment/],
      ['CREATE TABLE "unfinished', /ends inside a quoted name/],
      ["INSERT INTO t VALUES(X'00", /ends inside a blob/],
      ["CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1;", /ends in the middle of a statement/],
    ] as const) {
      const error = await refusal(`BEGIN TRANSACTION;\nCREATE TABLE t(a);\n${tail}`);
      expect(error.reason, tail).toMatch(reason);
      expect(error.line, tail).toBe(3);
    }
  });

  it("BEGIN without COMMIT", async () => {
    const error = await refusal("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\nINSERT INTO t VALUES(1);\n");
    expect(error.reason).toMatch(/truncated: BEGIN TRANSACTION has no matching COMMIT/);
    expect(error.line).toBe(5);
  });

  it("a Lifeboat header without the closing line", async () => {
    const cut = LIFEBOAT_DUMP.replace("-- end of Lifeboat backup\n", "");
    const error = await refusal(cut);
    expect(error.reason).toMatch(/truncated: the closing “-- end of Lifeboat backup” line is missing/);
    // …which is found at every chunk boundary too
    expect((await read(LIFEBOAT_DUMP, { chunk: 5 })).length).toBe(14);
  });

  it("an empty file and a file of comments", async () => {
    expect((await refusal("")).reason).toBe("the file is empty");
    expect((await refusal("\n\n  \n")).reason).toBe("the file is empty");
    expect((await refusal("-- just a comment\n/* and this */\n")).reason).toBe("the file holds no SQL statements");
  });
});

describe("readDump refuses binary data and bad text", () => {
  it("binary junk, a database file, an archive: called binary at line 1", async () => {
    let x = 12345;
    for (let seed = 0; seed < 20; seed++) {
      const junk = new Uint8Array(4096);
      for (let i = 0; i < junk.length; i++) junk[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      for (const chunk of [65536, 1]) {
        const error = await refusal(junk, { chunk });
        expect(error.reason).toMatch(/^binary data \(.*\), not a SQL backup$/);
        expect(error.line).toBe(1);
      }
    }
    const dir = await tempDir();
    const db = path.join(dir, "x.db");
    sqlite(db, "CREATE TABLE t(a); INSERT INTO t VALUES(1);");
    expect((await refusal(await fs.readFile(db))).message).toMatch(/^line 1: binary data \(.*\), not a SQL backup$/);
    expect((await refusal(new Uint8Array([0x50, 0x4b, 3, 4, 10, 0]))).reason).toBe("binary data (control character U+0003), not a SQL backup");
    expect((await refusal(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]))).reason).toBe("binary data (not UTF-8 text), not a SQL backup");
  });

  it("invalid UTF-8, with its line, whatever the chunking", async () => {
    const good = utf8.encode("CREATE TABLE t(a);\nINSERT INTO t VALUES('ok');\nINSERT INTO t VALUES('");
    const bytes = new Uint8Array([...good, 0xc3, 0x28, ...utf8.encode("');\n")]);
    for (const chunk of [65536, 1, 2]) {
      const error = await refusal(bytes, { chunk });
      expect(error.reason).toMatch(/invalid UTF-8 text/);
      expect(error.line).toBe(3);
    }
    // a character cut off at the very end
    const cut = await refusal(new Uint8Array([...utf8.encode("CREATE TABLE t(a);\n-- é"), 0xc3]));
    expect(cut.reason).toMatch(/invalid UTF-8 text/);
    expect(cut.line).toBe(2);
  });

  it("an earlier problem wins over later bad bytes in the same chunk", async () => {
    const bytes = new Uint8Array([...utf8.encode("ATTACH 'x' AS y;\n"), 0xff, 0xfe]);
    expect((await refusal(bytes)).reason).toMatch(/ATTACH/);
  });

  it("NUL bytes (also inside strings) and control characters", async () => {
    const nul = await refusal("CREATE TABLE t(a);\nINSERT INTO t VALUES('a\0b');\n");
    expect(nul.reason).toBe("binary data (a NUL byte), not a SQL backup");
    expect(nul.line).toBe(2);
    const ctl = await refusal("CREATE TABLE t(a);\n\n\x01INSERT INTO t VALUES(1);\n");
    expect(ctl.reason).toMatch(/binary data \(control character U\+0001\)/);
    expect(ctl.line).toBe(3);
    // …while control characters inside a string are text
    expect((await read("CREATE TABLE t(a);\nINSERT INTO t VALUES('bell\x07');\n")).length).toBe(2);
  });

  it("gzip data handed over without decompression", async () => {
    const error = await refusal(gzipSync("CREATE TABLE t(a);\n"));
    expect(error.reason).toMatch(/gzip-compressed/);
  });
});

describe("readDump limits the size of one statement", () => {
  it("refuses a statement over maxStatementBytes and accepts one at the limit", async () => {
    const insert = `INSERT INTO t VALUES('${"x".repeat(1000)}');`; // 1024 bytes without the `;`
    const text = `CREATE TABLE t(a);\n${insert}\n`;
    expect((await read(text, { maxStatementBytes: insert.length })).length).toBe(2);
    for (const chunk of [65536, 100]) {
      const error = await refusal(text, { maxStatementBytes: insert.length - 1, chunk });
      expect(error.reason).toBe(`a statement is larger than the limit of ${insert.length - 1} bytes`);
      expect(error.line).toBe(2);
    }
    // counted in bytes of UTF-8, not characters
    const wide = `INSERT INTO t VALUES('${"é".repeat(500)}');`;
    expect((await refusal(wide, { maxStatementBytes: wide.length + 100 })).reason).toMatch(/larger than the limit/);
  });

  it("stops waiting for the end of an endless statement", async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield utf8.encode("CREATE TABLE t(a);\nINSERT INTO t VALUES('");
      for (;;) yield new Uint8Array(4096).fill(0x61);
    }
    await expect(async () => {
      for await (const _ of readDump(endless(), { maxStatementBytes: 100_000 }));
    }).rejects.toThrow("line 2: a statement is larger than the limit of 100000 bytes");
  });
});

describe("readDump decodes only up to where no statement is open", () => {
  it("reads trigger bodies, quotes and comments holding `;` the same in any chunking", async () => {
    const text = [
      "CREATE TABLE t(a, b);",
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN",
      "  INSERT INTO t VALUES('x;y', 1); -- a comment; still the trigger",
      "  /* ; END; */ UPDATE t SET b = CASE WHEN a = 'END;' THEN 1 ELSE 2 END;",
      "END;",
      "CREATE TRIGGER IF NOT EXISTS tr2 BEFORE DELETE ON t BEGIN SELECT 1; END ;",
      'INSERT INTO "t" VALUES(\'a;b\', X\'3b\'); /* ; */',
      "",
    ].join("\n");
    const whole = await read(text, { chunk: 1 << 20 });
    expect(whole.map((s) => s.kind)).toEqual(["create-table", "create-trigger", "create-trigger", "insert"]);
    expect(whole[1]!.sql).toContain("ELSE 2 END;\nEND");
    for (const chunk of [1, 2, 3, 7]) expect(await read(text, { chunk }), `chunks of ${chunk}`).toEqual(whole);
  });

  it("refuses an endless trigger body at the statement limit, naming its line", async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield utf8.encode("CREATE TABLE t(a);\n\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n");
      for (;;) yield utf8.encode("SELECT 1;\n".repeat(400));
    }
    await expect(async () => {
      for await (const _ of readDump(endless(), { maxStatementBytes: 100_000 }));
    }).rejects.toThrow("line 3: a statement is larger than the limit of 100000 bytes");
  });
});

describe("openDumpFile and sniffDump", () => {
  it("opens plain and gzip files by content, whatever their name", async () => {
    const dir = await tempDir();
    const plain = path.join(dir, "a.sql.gz");
    const packed = path.join(dir, "b.sql");
    await fs.writeFile(plain, LIFEBOAT_DUMP);
    await fs.writeFile(packed, gzipSync(LIFEBOAT_DUMP));
    const expected = await read(LIFEBOAT_DUMP);
    for (const file of [plain, packed]) {
      const out: DumpStatement[] = [];
      for await (const s of readDump(await openDumpFile(file))) out.push(s);
      expect(out, file).toEqual(expected);
    }
  });

  it("refuses damaged and truncated gzip", async () => {
    const dir = await tempDir();
    const rows = Array.from({ length: 3000 }, (_, i) => `INSERT INTO t VALUES(${i},'row ${i}');\n`).join("");
    const gz = gzipSync(`BEGIN TRANSACTION;\nCREATE TABLE t(a, b);\n${rows}COMMIT;\n`);
    const damaged = Uint8Array.from(gz);
    for (let i = 20; i < 60; i++) damaged[i] = damaged[i]! ^ 0x5a;
    const truncated = gz.subarray(0, gz.length - 40);
    for (const [name, bytes] of [["damaged", damaged], ["truncated", truncated]] as const) {
      const file = path.join(dir, `${name}.sql.gz`);
      await fs.writeFile(file, bytes);
      const consume = async () => {
        for await (const _ of readDump(await openDumpFile(file)));
      };
      await expect(consume(), name).rejects.toThrow(InvalidBackupError);
      await expect(consume(), name).rejects.toThrow(/^the gzip data is damaged or truncated/);
    }
  });

  it("sniffs SQL text, gzip and the rest", () => {
    expect(sniffDump(utf8.encode("-- Lifeboat backup\n"))).toBe("sql");
    expect(sniffDump(utf8.encode("\ufeff\n  PRAGMA foreign_keys=OFF;"))).toBe("sql");
    expect(sniffDump(utf8.encode("/* hi */ CREATE TABLE"))).toBe("sql");
    expect(sniffDump(gzipSync("x"))).toBe("gzip");
    // a character cut at the end of the sample is fine
    expect(sniffDump(utf8.encode("INSERT INTO t VALUES('é").subarray(0, 24))).toBe("sql");
    const refusedFor = (bytes: Uint8Array) => {
      try {
        sniffDump(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidBackupError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refusedFor(utf8.encode("SQLite format 3\0\x10\x00"))).toMatch(/^not a SQL backup \(this is an SQLite database file/);
    expect(refusedFor(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]))).toBe("not a SQL backup (a zip archive)");
    expect(refusedFor(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBe("not a SQL backup (binary data)");
    expect(refusedFor(utf8.encode("{\"json\": true}"))).toBe("not a SQL backup (it starts with “{\"json\": true}”)");
    expect(refusedFor(new Uint8Array(0))).toBe("not a SQL backup (the file is empty)");
    expect(refusedFor(utf8.encode("abc\0def"))).toBe("not a SQL backup (binary data)");
  });
});
