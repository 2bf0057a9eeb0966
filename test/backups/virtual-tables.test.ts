import fs from "node:fs/promises";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { contentDiff, readContent } from "./support/content.ts";
import { backupPath, makeEngine } from "./support/engine.ts";
import { sqlite3, sqlite3Dump } from "./support/sqlite3.ts";
import { tempDir } from "../support/temp.ts";
import { readDumpBatches, type DumpStatement } from "../../src/dump/reader.ts";
import { InvalidBackupError } from "../../src/errors.ts";
import { lifeboatSql } from "./support/corpus.ts";

/** Words for generated documents, so MATCH queries hit varied sets of rows. */
const WORDS = "lifeboat harbour running runner runs ocean storm anchor rope sail keel mast tide wave gull beacon compass chart".split(" ");

/** A deterministic pseudo-random sequence (tests must not depend on luck). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function sentence(next: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(next() * WORDS.length)]).join(" ");
}

/**
 * A database using every construct issue 10 names: fts5 with its own content
 * (settings, non-text values, gaps in rowids), fts5 over an external content
 * table kept in sync by triggers, fts4 with a languageid, fts3, an R*Tree with
 * an auxiliary column, an fts5vocab table, a trigger and a view calling the
 * application's own functions, NUL text and rowids without INTEGER PRIMARY
 * KEY, user_version, application_id and sqlite_stat1.
 */
function buildVirtualDb(file: string, options: { rtree?: boolean; lifeboat?: boolean } = {}): void {
  const db = new Database(file);
  const next = rng(10);
  // Lifeboat's own tables, with an admin: a restore must never lock everyone out.
  if (options.lifeboat !== false) db.exec(lifeboatSql());
  db.exec(`
    PRAGMA user_version = 31; PRAGMA application_id = 1095321427;
    CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT);
    CREATE VIRTUAL TABLE notes USING fts5(title, body UNINDEXED, tags, tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3');
    INSERT INTO notes(notes, rank) VALUES('rank', 'bm25(10.0, 1.0, 5.0)');
    INSERT INTO notes(notes, rank) VALUES('pgsz', 1000);
    CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, content='docs', content_rowid='id');
    CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN INSERT INTO docs_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END;
    CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN INSERT INTO docs_fts(docs_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END;
    CREATE VIRTUAL TABLE mail USING fts4(subject, content, languageid="lid", tokenize=unicode61 "remove_diacritics=0");
    CREATE VIRTUAL TABLE legacy USING fts3(text, tokenize=porter);
    CREATE VIRTUAL TABLE vocab USING fts5vocab(notes, 'row');
    CREATE TABLE objects(id INTEGER PRIMARY KEY, refs INTEGER NOT NULL DEFAULT 0);
    CREATE TRIGGER objects_gone AFTER DELETE ON objects BEGIN SELECT update_refcount(old.id, -1); END;
    CREATE VIEW labelled AS SELECT id, app_label(id) AS label FROM objects;
    CREATE TABLE plain(a TEXT, b);
    CREATE INDEX plain_a ON plain(a);
  `);
  if (options.rtree !== false) {
    db.exec("CREATE VIRTUAL TABLE places USING rtree(id, minx, maxx, miny, maxy, +label, +weight);");
    db.exec("CREATE VIRTUAL TABLE grid USING rtree_i32(id, x0, x1); INSERT INTO grid VALUES (1, -5, 5), (2, 100, 2000000000), (3, 7, 7);");
  }
  const insDoc = db.prepare("INSERT INTO docs(id, title, body) VALUES (?, ?, ?)");
  const insNote = db.prepare("INSERT INTO notes(rowid, title, body, tags) VALUES (?, ?, ?, ?)");
  const insMail = db.prepare("INSERT INTO mail(docid, subject, content, lid) VALUES (?, ?, ?, ?)");
  const insLegacy = db.prepare("INSERT INTO legacy(docid, text) VALUES (?, ?)");
  const insPlace = options.rtree !== false ? db.prepare("INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?)") : null;
  db.exec("BEGIN");
  for (let i = 1; i <= 400; i++) {
    insDoc.run([i * 3, sentence(next, 3), sentence(next, 12)]);
    // Non-text values are kept as they are by fts5; rowids have gaps and negatives.
    insNote.run([i * 7 - 1000, sentence(next, 4), i % 50 === 0 ? 42.5 : sentence(next, 9), i % 40 === 0 ? BigInt(i) : sentence(next, 2)]);
    insMail.run([i + 10_000, sentence(next, 3), `${sentence(next, 8)} Élan café`, i % 3]);
    insLegacy.run([i, sentence(next, 6)]);
    const x = next() * 100;
    const y = next() * 100;
    insPlace?.run([i * 11, x, x + next() * 5, y, y + next() * 5, `place ${i}`, i % 7 === 0 ? null : next()]);
  }
  db.exec("COMMIT");
  db.exec(`
    DELETE FROM docs WHERE id % 33 = 0;
    INSERT INTO objects(id, refs) VALUES (1, 2), (2, 0), (5, 1);
    INSERT INTO plain(rowid, a, b) VALUES (-5, 'neg', 1), (7, CAST(X'6E756C00696E73696465' AS TEXT), 2), (900, 'ninehundred', 3.25);
    ANALYZE;
  `);
  db.close();
}

/** The questions an application asks of these tables; a restore must give the same answers. */
const QUERIES = [
  "SELECT rowid, title, tags, round(bm25(notes), 6) FROM notes WHERE notes MATCH 'runn* OR harbour' ORDER BY rank, rowid",
  "SELECT rowid, highlight(notes, 0, '[', ']') FROM notes WHERE notes MATCH 'title:anchor' ORDER BY rowid",
  "SELECT rowid, typeof(body), body, typeof(tags), tags FROM notes WHERE rowid IN (-650, -720, -440) ORDER BY rowid",
  "SELECT count(*) FROM notes WHERE notes MATCH 'ca*'",
  "SELECT rowid, title, round(bm25(docs_fts), 6) FROM docs_fts WHERE docs_fts MATCH 'ocean NOT storm' ORDER BY rank, rowid",
  "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH 'keel'",
  "SELECT docid, lid, subject FROM mail WHERE mail MATCH 'élan' AND lid = 1 ORDER BY docid",
  "SELECT docid, subject, snippet(mail) FROM mail WHERE mail MATCH 'beacon compass' AND lid = 2 ORDER BY docid",
  "SELECT docid FROM legacy WHERE legacy MATCH 'run' ORDER BY docid",
  "SELECT term, doc, cnt FROM vocab ORDER BY term",
];
const RTREE_QUERIES = [
  "SELECT id, minx, maxx, miny, maxy, label, weight FROM places WHERE minx >= 20 AND maxx <= 45 AND miny >= 10 AND maxy <= 80 ORDER BY id",
  "SELECT id FROM places WHERE maxx >= 50 AND minx <= 51 ORDER BY id",
  "SELECT count(*), sum(id) FROM places",
  "SELECT id, x0, x1 FROM grid WHERE x1 >= 6 ORDER BY id",
];

function answers(file: string, queries = [...QUERIES, ...RTREE_QUERIES]): Record<string, unknown[][]> {
  const db = new Database(file, { readonly: true });
  try {
    db.defaultSafeIntegers(true);
    return Object.fromEntries(queries.map((q) => [q, db.prepare(q).raw(true).all() as unknown[][]]));
  } finally {
    db.close();
  }
}

/** Shadow tables hold index pages, which a rebuilt index lays out its own way: compared through the queries instead. */
function shadowsAndVirtuals(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('shadow', 'virtual')").raw(true).all() as string[][]).map((r) => r[0]!);
  } finally {
    db.close();
  }
}

function content(file: string) {
  return readContent(file, { skip: shadowsAndVirtuals(file) });
}

/** Statistics rows name shadow tables too; those differ after a rebuild, the rest must not. */
function appContent(file: string) {
  const c = content(file);
  return c;
}

describe("virtual tables: backup and restore", () => {
  it("backs up fts5, fts4, fts3, R*Tree and fts5vocab tables and restores the same rows and query answers with Lifeboat", async () => {
    const t = await makeEngine({ corpus: false, statementBytes: 4096 });
    buildVirtualDb(t.dbPath);
    const before = answers(t.dbPath);
    const beforeContent = appContent(t.dbPath);
    expect(before[QUERIES[0]!]!.length).toBeGreaterThan(20);
    expect(before[RTREE_QUERIES[0]!]!.length).toBeGreaterThan(0);

    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    expect(backup.rowCounts).toMatchObject({ docs: 364, notes: 400, mail: 400, legacy: 400, places: 400 });
    // The external-content index is rebuilt from docs and fts5vocab holds nothing of its own: no counts of theirs.
    expect(Object.keys(backup.rowCounts!)).not.toContain("docs_fts");
    expect(Object.keys(backup.rowCounts!)).not.toContain("vocab");
    const text = await fs.readFile(backupPath(t, backup.name), "utf8");
    // Through the virtual tables themselves; the index (shadow tables) is never written.
    expect(text).toMatch(/CREATE VIRTUAL TABLE notes USING fts5/);
    expect(text).toContain(`INSERT INTO "notes"("notes","rank") VALUES('rank','bm25(10.0, 1.0, 5.0)');`);
    expect(text).toContain(`INSERT INTO "notes"("notes","rank") VALUES('pgsz',1000);`);
    expect(text).toContain(`INSERT INTO "notes"("rowid","title","body","tags") VALUES(-993,`);
    expect(text).toContain(`INSERT INTO "mail"("docid","subject","content","lid") VALUES(10001,`);
    expect(text).toContain(`INSERT INTO "docs_fts"("docs_fts") VALUES('rebuild');`);
    expect(text).not.toMatch(/INSERT INTO "?(notes|docs_fts|mail|legacy|places)_(data|idx|content|docsize|config|segments|segdir|stat|node|rowid|parent)/);
    expect(text).not.toMatch(/writable_schema/i);
    // The rebuild runs before the triggers exist, so it is not indexed twice.
    expect(text.indexOf(`VALUES('rebuild')`)).toBeLessThan(text.indexOf("CREATE TRIGGER docs_ai"));

    // Change everything, then restore.
    const db = new Database(t.dbPath);
    db.exec("DELETE FROM notes WHERE rowid > 0; DELETE FROM places WHERE id < 2000; DELETE FROM docs WHERE id < 600; DROP TABLE legacy; PRAGMA user_version = 1;");
    db.close();
    expect(answers(t.dbPath, QUERIES.slice(0, 1))[QUERIES[0]!]).not.toEqual(before[QUERIES[0]!]);

    await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(answers(t.dbPath)).toEqual(before);
    expect(contentDiff(appContent(t.dbPath), beforeContent)).toEqual([]);
    expect(integrity(t.dbPath)).toBe("ok");
  });

  it("writes backups that the sqlite3 CLI restores to the same rows and query answers", async () => {
    const t = await makeEngine({ corpus: false });
    buildVirtualDb(t.dbPath);
    const before = answers(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    const restored = path.join(await tempDir(), "cli.db");
    const r = await sqlite3(restored, [], backupPath(t, backup.name));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(answers(restored)).toEqual(before);
    expect(contentDiff(appContent(restored), appContent(t.dbPath))).toEqual([]);
    expect(integrity(restored)).toBe("ok");
  });

  it("does the same over @libsql/client, as for a remote database", async () => {
    const t = await makeEngine({ corpus: false, driver: "client", statementBytes: 4096 });
    buildVirtualDb(t.dbPath);
    const before = answers(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    const db = new Database(t.dbPath);
    db.exec("DELETE FROM notes; DELETE FROM places; DELETE FROM mail;");
    db.close();
    await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(answers(t.dbPath)).toEqual(before);
  });

  it("keeps the external-content index in step with its triggers after a restore", async () => {
    const t = await makeEngine({ corpus: false });
    buildVirtualDb(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    await t.engine.importBackup(backup.name, { actor: "ann" });
    const db = new Database(t.dbPath);
    db.exec("INSERT INTO docs(id, title, body) VALUES (5000, 'zanzibar', 'a new word')");
    const hits = db.prepare("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'zanzibar'").raw(true).all();
    const rows = db.prepare("SELECT count(*) FROM docs_fts WHERE docs_fts MATCH 'anchor'").raw(true).all() as number[][];
    db.close();
    expect(hits).toEqual([[5000]]);
    expect(rows[0]![0]).toBeGreaterThan(0);
  });
});

async function read(sql: string): Promise<DumpStatement[]> {
  const bytes = new TextEncoder().encode(sql);
  const out: DumpStatement[] = [];
  for await (const batch of readDumpBatches((async function* () {
    yield bytes;
  })())) out.push(...batch);
  return out;
}

async function refusal(sql: string): Promise<InvalidBackupError> {
  const error = await read(sql).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidBackupError);
  return error as InvalidBackupError;
}

const SCHEMA_INSERT = "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES";

describe("virtual tables in a sqlite3 .dump", () => {
  it("restores fts5, fts4, fts3 and R*Tree tables from sqlite3 .dump's writable_schema form, translated, with the same query answers", async () => {
    const t = await makeEngine({ corpus: false });
    buildVirtualDb(t.dbPath);
    const before = answers(t.dbPath);
    const beforeContent = appContent(t.dbPath);
    const dump = path.join(await tempDir(), "cli.sql");
    await sqlite3Dump(t.dbPath, dump);
    const text = await fs.readFile(dump, "utf8");
    expect(text).toContain("PRAGMA writable_schema=ON;");
    expect(text).toMatch(/INSERT INTO notes_data VALUES/);

    // What reaches SQLite: CREATE VIRTUAL TABLE, rows through the table, settings, a rebuild; no shadow table, no pragma.
    const statements = await read(text);
    const sql = statements.map((st) => st.sql);
    expect(sql).toContain("CREATE VIRTUAL TABLE notes USING fts5(title, body UNINDEXED, tags, tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')");
    expect(sql).toContain(`INSERT INTO "notes"("notes","rank") VALUES('rank','bm25(10.0, 1.0, 5.0)')`);
    expect(sql.some((q) => q.startsWith(`INSERT INTO "notes"("rowid","title","body","tags") VALUES(-993,`))).toBe(true);
    expect(sql.some((q) => q.startsWith(`INSERT INTO "mail"("docid","subject","content","lid") VALUES(10001,`))).toBe(true);
    expect(sql).toContain(`INSERT INTO "docs_fts"("docs_fts") VALUES('rebuild')`);
    // R*Tree rows read out of the tree's pages, coordinates exact, auxiliary columns from places_rowid.
    expect(sql.some((q) => q.startsWith(`INSERT INTO "places"("id","minx","maxx","miny","maxy","label","weight") VALUES(`))).toBe(true);
    expect(sql).toContain(`INSERT INTO "grid"("id","x0","x1") VALUES(1,-5,5),(2,100,2000000000),(3,7,7)`);
    // (Statistics rows name the shadow tables too: they are kept, as for any table.)
    const written = statements.filter((st) => st.kind !== "stat-insert" && st.kind !== "analyze" && st.kind !== "create-virtual").map((st) => st.sql);
    expect(written.filter((q) => /writable_schema|sqlite_schema|_data|_idx|_segdir|_docsize|_config\b|_stat\b|_content\b|_node|_rowid|_parent/i.test(q))).toEqual([]);

    await t.engine.importFile(dump, { actor: "ann" });
    expect(answers(t.dbPath)).toEqual(before);
    // What sqlite3 .dump itself loses (user_version, application_id, NUL text, rowids of `plain`) stays lost; the rest is equal.
    const lossy = (c: ReturnType<typeof appContent>) => ({ ...c, userVersion: 0, applicationId: 0, tables: { ...c.tables, plain: [] } });
    expect(contentDiff(lossy(appContent(t.dbPath)), lossy(beforeContent))).toEqual([]);
    expect(integrity(t.dbPath)).toBe("ok");
  });

  it("refuses an R*Tree whose pages in the dump do not form a tree, and a contentless index", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "r.db");
    const db = new Database(file);
    db.exec("CREATE VIRTUAL TABLE places USING rtree(id, x0, x1); INSERT INTO places VALUES (1, 0, 1), (2, 3, 4);");
    db.close();
    const dump = path.join(dir, "r.sql");
    await sqlite3Dump(file, dump);
    const text = await fs.readFile(dump, "utf8");
    expect((await read(text)).map((st) => st.sql)).toContain(`INSERT INTO "places"("id","x0","x1") VALUES(1,0.0,1.0),(2,3.0,4.0)`);
    // A rowid the tree does not hold, or a page that is not there: refused, naming the table.
    const extraRow = await refusal(text.replace("INSERT INTO places_rowid VALUES(2,1);", "INSERT INTO places_rowid VALUES(2,1);\nINSERT INTO places_rowid VALUES(9,1);"));
    expect(extraRow.reason).toMatch(/R\*Tree places: the tree holds 2 rows but its rowid table 3/);
    const noRoot = await refusal(text.replace(/INSERT INTO places_node VALUES\(1,/, "INSERT INTO places_node VALUES(7,"));
    expect(noRoot.reason).toMatch(/R\*Tree places: the dump has rows but no root page/);
    const contentless = await refusal(
      `PRAGMA writable_schema=ON;\n${SCHEMA_INSERT}('table','bare','bare',0,'CREATE VIRTUAL TABLE bare USING fts5(a, content='''')');\n`,
    );
    expect(contentless.line).toBe(2);
    expect(contentless.reason).toMatch(/bare is a contentless full-text table/);
  });

  const hostile: [string, string, number, RegExp][] = [
    ["a write to a shadow table", "CREATE VIRTUAL TABLE f USING fts5(a);\nINSERT INTO f_data VALUES(10, X'00');", 2, /f_data is an internal \(shadow\) table of virtual table f; a backup may not write it directly/],
    ["a shadow table created by hand", "CREATE VIRTUAL TABLE f USING fts5(a);\nCREATE TABLE f_config(k PRIMARY KEY, v) WITHOUT ROWID;", 2, /f_config is an internal \(shadow\) table/],
    ["a trigger writing a shadow table", "CREATE TABLE t(a);\nCREATE VIRTUAL TABLE r USING rtree(id, a, b);\nCREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM r_node; END;", 3, /r_node is an internal \(shadow\) table/],
    ["an fts5 command other than rebuild", "CREATE VIRTUAL TABLE f USING fts5(a);\nINSERT INTO f(f) VALUES('delete-all');", 2, /only INSERT INTO f\(f\) VALUES\('rebuild'\) and fts5 settings/],
    ["an unknown fts5 setting", "CREATE VIRTUAL TABLE f USING fts5(a);\nINSERT INTO f(f, rank) VALUES('evil', 1);", 2, /only INSERT INTO f\(f\) VALUES\('rebuild'\)/],
    ["writable_schema without the .dump form after it", "PRAGMA writable_schema=ON;\nUPDATE sqlite_schema SET sql = 'x';", 1, /PRAGMA writable_schema is not allowed in a backup/],
    ["writable_schema=OFF alone", "PRAGMA writable_schema=OFF;", 1, /PRAGMA writable_schema is not allowed in a backup/],
    ["writable_schema=1", "PRAGMA writable_schema=1;", 1, /PRAGMA writable_schema is not allowed in a backup/],
    ["a table through sqlite_schema", `PRAGMA writable_schema=ON;\n${SCHEMA_INSERT}('table','x','x',0,'CREATE TABLE x(a)');`, 2, /INSERT INTO sqlite_schema is not allowed in a backup except sqlite3 \.dump's form for a virtual table/],
    ["a second statement hidden in sqlite_schema's sql", `PRAGMA writable_schema=ON;\n${SCHEMA_INSERT}('table','f','f',0,'CREATE VIRTUAL TABLE f USING fts5(a); DROP TABLE users');`, 2, /a definition must be a single statement/],
    ["a rootpage other than 0", `PRAGMA writable_schema=ON;\n${SCHEMA_INSERT}('table','f','f',2,'CREATE VIRTUAL TABLE f USING fts5(a)');`, 2, /INSERT INTO sqlite_schema is not allowed/],
    ["another module through sqlite_schema", `PRAGMA writable_schema=ON;\n${SCHEMA_INSERT}('table','f','f',0,'CREATE VIRTUAL TABLE f USING zipfile(''/tmp/x.zip'')');`, 2, /virtual tables using the zipfile module are not supported/],
    ["shadow rows outside the .dump form", "CREATE VIRTUAL TABLE f USING fts5(a);\nPRAGMA writable_schema=ON;\nINSERT INTO f_content VALUES(1, 'x');", 2, /PRAGMA writable_schema is not allowed/],
  ];
  for (const [name, sql, line, reason] of hostile) {
    it(`refuses ${name}`, async () => {
      const error = await refusal(`${sql}\n`);
      expect(error.reason).toMatch(reason);
      expect(error.line).toBe(line);
    });
  }
});

describe("functions only the application has", () => {
  /** An application database whose table CHECKs a function the application registers (built here as the app's schema would read). */
  function buildCheckDb(file: string): void {
    const db = new Database(file);
    db.exec(lifeboatSql());
    db.exec(`CREATE TABLE items(id INTEGER PRIMARY KEY, qty INTEGER);
      INSERT INTO items VALUES (1, 5), (2, 7);
      CREATE TABLE refs(id INTEGER PRIMARY KEY, n INTEGER);
      CREATE TRIGGER refs_gone AFTER DELETE ON refs BEGIN SELECT update_refcount(old.id, -1); END;`);
    // libsql cannot register a function from JS, so the CHECK is put in the schema the way the application's own CREATE TABLE left it.
    db.exec(`PRAGMA writable_schema = ON;
      UPDATE sqlite_schema SET sql = 'CREATE TABLE items(id INTEGER PRIMARY KEY, qty INTEGER CHECK (valid_qty(qty)))' WHERE name = 'items';
      PRAGMA writable_schema = OFF;`);
    db.close();
  }

  it("flags a backup Lifeboat could not restore when it is written, and refuses its import with the line and why", async () => {
    const t = await makeEngine({ corpus: false });
    buildCheckDb(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "scheduled", actor: "scheduler" });
    const problem = /^table items: function valid_qty\(\) is not one of SQLite's built-in functions; in a CHECK constraint it would run while rows are restored/;
    expect(backup.restoreProblems).toEqual([expect.stringMatching(problem)]);
    // Listed, kept beside the file and logged the day it is written.
    const [listed] = await t.engine.listBackups();
    expect(listed!.restoreProblems).toEqual(backup.restoreProblems);
    const sidecar = JSON.parse(await fs.readFile(`${backupPath(t, backup.name)}.json`, "utf8")) as { restoreProblems?: string[] };
    expect(sidecar.restoreProblems).toEqual(backup.restoreProblems);
    expect(t.logs).toContainEqual(expect.objectContaining({ level: "warn", name: backup.name, problems: backup.restoreProblems }));
    // Pinning keeps the flag.
    expect((await t.engine.setPinned(backup.name, true)).restoreProblems).toEqual(backup.restoreProblems);

    const before = readContent(t.dbPath);
    const error = await t.engine.importBackup(backup.name, { actor: "ann" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBackupError);
    const text = await fs.readFile(backupPath(t, backup.name), "utf8");
    const line = text.split("\n").findIndex((l) => l.startsWith("CREATE TABLE items")) + 1;
    expect((error as InvalidBackupError).line).toBe(line);
    expect((error as InvalidBackupError).reason).toMatch(/function valid_qty\(\) is not one of SQLite's built-in functions; in a CHECK constraint/);
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);

    // sqlite3 cannot restore it either without the application's function: the same verdict, for the same reason.
    const r = await sqlite3(path.join(await tempDir(), "cli.db"), [], backupPath(t, backup.name));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no such function: valid_qty/);
  });

  it("restores a trigger and a view that call the application's functions, and writes no flag", async () => {
    const t = await makeEngine({ corpus: false });
    buildVirtualDb(t.dbPath, { rtree: false });
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    expect(backup.restoreProblems).toBeUndefined();
    const before = readContent(t.dbPath, { skip: shadowsAndVirtuals(t.dbPath) });
    await t.engine.importBackup(backup.name, { actor: "ann" });
    const after = readContent(t.dbPath, { skip: shadowsAndVirtuals(t.dbPath) });
    expect(contentDiff(after, before)).toEqual([]);
    expect(after.schema.map((s) => s.sql)).toEqual(
      expect.arrayContaining([
        "CREATE TRIGGER objects_gone AFTER DELETE ON objects BEGIN SELECT update_refcount(old.id, -1); END",
        "CREATE VIEW labelled AS SELECT id, app_label(id) AS label FROM objects",
      ]),
    );
    // verify agrees: a dry run restores it.
    const verified = await t.engine.verifyFile(backupPath(t, backup.name));
    expect(verified.rows).toBeGreaterThan(0);
  });
});

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("PRAGMA integrity_check").raw(true).all() as string[][]).map((r) => r[0]).join("; ");
  } finally {
    db.close();
  }
}
