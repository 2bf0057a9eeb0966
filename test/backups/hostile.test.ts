import fs from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InvalidBackupError } from "../../src/errors.ts";
import { contentDiff, readContent } from "./support/content.ts";
import { backupPath, listDir, makeEngine, type TestEngine } from "./support/engine.ts";
import { tempDir } from "../support/temp.ts";

/** A valid Lifeboat dump of the engine's database, as text. */
async function validDump(t: TestEngine): Promise<string> {
  const b = await t.engine.createBackup({ trigger: "manual" });
  const text = await fs.readFile(backupPath(t, b.name), "utf8");
  await t.engine.deleteBackup(b.name);
  return text;
}

interface Hostile {
  name: string;
  /** Builds the file's bytes; `outside` is a folder the attack would write into. */
  build(valid: string, outside: string): Buffer;
  message: RegExp;
  /** The validation pass refuses it (no safety backup); otherwise the apply step fails and rolls back. */
  refusedBeforeImport: boolean;
  /** 1-based line the error must name, when it names one. */
  line?: (valid: string) => number;
}

const HEADER = "-- a hand-written file\nPRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (a);\n";
const beforeCommit = (valid: string, extra: string) => valid.replace("\nCOMMIT;\n", `\n${extra}\nCOMMIT;\n`);
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;

const CASES: Hostile[] = [
  {
    name: "ATTACH",
    build: (_v, out) => Buffer.from(`${HEADER}ATTACH DATABASE '${out}/attached.db' AS pwn;\nCREATE TABLE pwn.x (a);\nCOMMIT;\n`),
    message: /ATTACH/,
    refusedBeforeImport: true,
    line: () => 5,
  },
  {
    name: "writefile()",
    build: (_v, out) => Buffer.from(`${HEADER}INSERT INTO t VALUES (writefile('${out}/written', 'owned'));\nCOMMIT;\n`),
    message: /writefile/,
    refusedBeforeImport: true,
    line: () => 5,
  },
  {
    name: "readfile()",
    build: () => Buffer.from(`${HEADER}INSERT INTO t VALUES (readfile('/etc/passwd'));\nCOMMIT;\n`),
    message: /readfile/,
    refusedBeforeImport: true,
    line: () => 5,
  },
  {
    name: "VACUUM INTO",
    build: (_v, out) => Buffer.from(`${HEADER}COMMIT;\nVACUUM INTO '${out}/copy.db';\n`),
    message: /VACUUM/,
    refusedBeforeImport: true,
    line: () => 6,
  },
  {
    name: "load_extension()",
    build: (_v, out) => Buffer.from(`${HEADER}INSERT INTO t VALUES (load_extension('${out}/evil.so'));\nCOMMIT;\n`),
    message: /load_extension/,
    refusedBeforeImport: true,
    line: () => 5,
  },
  {
    name: "PRAGMA writable_schema",
    build: () =>
      Buffer.from(`${HEADER}PRAGMA writable_schema=ON;\nUPDATE sqlite_schema SET sql = 'CREATE TABLE t (b)' WHERE name = 't';\nCOMMIT;\n`),
    message: /writable_schema/,
    refusedBeforeImport: true,
    line: () => 5,
  },
  {
    name: "COMMIT; DROP TABLE … inside a valid dump",
    build: (valid) => Buffer.from(beforeCommit(valid, "COMMIT;\nDROP TABLE lifeboat_users;\nBEGIN TRANSACTION;")),
    message: /DROP/,
    refusedBeforeImport: true,
    line: (valid) => lineOf(beforeCommit(valid, "COMMIT;\nDROP TABLE lifeboat_users;\nBEGIN TRANSACTION;"), "DROP TABLE lifeboat_users") ,
  },
  {
    name: "a truncated file (cut inside an INSERT)",
    build: (valid) => Buffer.from(valid.slice(0, valid.indexOf('INSERT INTO "big"') + 5000)),
    message: /truncated|unterminated|ends/i,
    refusedBeforeImport: true,
  },
  {
    name: "a truncated file (cut between statements, trailer missing)",
    build: (valid) => Buffer.from(valid.slice(0, valid.indexOf('CREATE TABLE "values"'))),
    message: /truncated/,
    refusedBeforeImport: true,
  },
  {
    name: "a failing last statement (duplicate primary key)",
    build: (valid) => Buffer.from(beforeCommit(valid, `INSERT INTO "parent"("id","name") VALUES(1,'Mallory');`)),
    message: /UNIQUE constraint failed: parent\.id/,
    refusedBeforeImport: false,
    line: (valid) => lineOf(beforeCommit(valid, `INSERT INTO "parent"("id","name") VALUES(1,'Mallory');`), "'Mallory'"),
  },
  {
    name: "row counts that differ from the header (rows removed)",
    build: (valid) => Buffer.from(valid.replace(/\nINSERT INTO "parent"\("id","name"\) VALUES[^\n]*\n/, "\n")),
    message: /table parent has 0 rows after the import, but the header says 2/,
    refusedBeforeImport: false,
  },
  {
    name: "a row that breaks a foreign key",
    // Right after the child rows (before the triggers exist), and counted in the header.
    build: (valid) =>
      Buffer.from(
        valid
          .replace('"child":3', '"child":4')
          .replace(/(\nINSERT INTO "child"[^\n]*\n)/, `$1INSERT INTO "child"("id","parent_id","note") VALUES(99,12345,'orphan');\n`),
      ),
    message: /foreign_key_check: a row of child \(rowid 99\) refers to a missing row of parent/,
    refusedBeforeImport: false,
  },
  {
    name: "Lifeboat's own text that is not UTF-8 (libsql would abort reading it)",
    build: (valid) => Buffer.from(valid.replace("VALUES(1,'admin','$scrypt$", "VALUES(1,CAST(X'61FF' AS TEXT),'$scrypt$")),
    message: /lifeboat_users holds text that is not valid UTF-8 \(column username\)/,
    refusedBeforeImport: false,
  },
  {
    name: "binary junk",
    build: () => Buffer.concat([Buffer.from([0x00, 0x01, 0x02, 0xff]), randomBytes(4096)]),
    message: /not a SQL backup/,
    refusedBeforeImport: true,
  },
  {
    name: "damaged gzip",
    build: (valid) => {
      const gz = gzipSync(Buffer.from(valid));
      return gz.subarray(0, Math.floor(gz.length / 2));
    },
    message: /the gzip data is damaged or truncated/,
    refusedBeforeImport: true,
  },
  {
    name: "invalid UTF-8 inside a string",
    build: (valid) => {
      const at = Buffer.from(valid).indexOf("'Alice'");
      const bytes = Buffer.from(valid);
      bytes[at + 2] = 0xff;
      return bytes;
    },
    message: /UTF-8/,
    refusedBeforeImport: true,
    line: (valid) => lineOf(valid, "'Alice'"),
  },
];

/**
 * The data folder's files, without the database's own -wal/-shm: SQLite creates
 * them with the first connection and removes them with the last (the engine's
 * worker processes and threads open and close theirs on their own schedule), so
 * they say nothing about what a hostile file did. The database's content is
 * compared separately.
 */
async function dataFolder(dir: string): Promise<string[]> {
  return (await listDir(dir)).filter((f) => !/\.db-(wal|shm)$/.test(f));
}

describe("hostile and broken files are refused and change nothing", () => {
  it.each(CASES)("$name", async (c) => {
    const t = await makeEngine({ corpus: { bigRows: 400 } });
    const valid = await validDump(t);
    const outside = await tempDir();
    const before = readContent(t.dbPath);
    const listed = (await t.engine.listBackups()).map((b) => b.name);
    const backupFiles = await listDir(t.backupDir);
    const dataFiles = await dataFolder(t.dir);

    // Arrives as an upload does: a dot-file in the backup folder, consumed by the engine.
    const upload = path.join(t.backupDir, `.upload-${randomBytes(6).toString("hex")}`);
    await fs.writeFile(upload, c.build(valid, outside));
    const err = await t.engine.importUpload(upload, { actor: "mallory" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidBackupError);
    const e = err as InvalidBackupError;
    expect(e.message).toMatch(c.message);
    if (c.line) expect(e.line).toBe(c.line(valid));

    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    const after = (await t.engine.listBackups()).map((b) => b.name);
    // Not even the safety backup stays: the import failed, so nothing needs undoing.
    expect(after).toEqual(listed);
    expect(await listDir(t.backupDir)).toEqual(backupFiles);
    // Refused by the validation pass, or by SQLite while applying (then rolled back).
    expect(t.logs.some((l) => l.msg === "import steps")).toBe(false);
    if (c.line) expect(e.message).toMatch(/^line \d+: /);
    // No file appeared or vanished beside the database (ATTACH, VACUUM INTO, writefile …).
    expect(await dataFolder(t.dir)).toEqual(dataFiles);
    expect(await listDir(outside)).toEqual([]);
    expect(t.engine.activity()).toBeNull();
    expect(t.engine.lastResults().import).toMatchObject({ ok: false, actor: "mallory", error: { code: "invalid_backup" } });
  });

  it("refuses a hostile file dropped into the backup folder by hand, by the same rules", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const before = readContent(t.dbPath);
    const outside = await tempDir();
    await fs.writeFile(path.join(t.backupDir, "dropped.sql"), CASES[0]!.build("", outside));
    const listed = await t.engine.listBackups();
    expect(listed.map((b) => [b.name, b.trigger])).toEqual([["dropped.sql", "unknown"]]);
    await expect(t.engine.importBackup("dropped.sql", { actor: null })).rejects.toThrow(/line 5: .*ATTACH/);
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    expect(await listDir(t.backupDir)).toEqual(["dropped.sql"]);
    expect(await listDir(outside)).toEqual([]);
  });
});
