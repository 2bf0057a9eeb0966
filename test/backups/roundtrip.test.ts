import fs from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { contentDiff, readContent, type DbContent } from "./support/content.ts";
import { backupPath, listDir, makeEngine } from "./support/engine.ts";
import { sqlite3, sqlite3Dump } from "./support/sqlite3.ts";
import { tempDir } from "../support/temp.ts";

/** Changes the database so an import has something to replace. */
function scribble(file: string): void {
  const db = new Database(file);
  db.exec(`DELETE FROM big WHERE id < 100; DROP VIEW "v 3"; CREATE TABLE extra (x); INSERT INTO extra VALUES (1); PRAGMA user_version = 7;
    UPDATE "values" SET t = 'changed' WHERE id = 1;`);
  db.close();
}

describe("export → import round trips", () => {
  it("restores identical content with Lifeboat's own import (schema, every value with its type, rowids, pragmas)", async () => {
    const t = await makeEngine({ statementBytes: 2048 });
    const before = readContent(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    scribble(t.dbPath);
    expect(readContent(t.dbPath)).not.toEqual(before);

    const result = await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    expect(result.source).toBe(backup.name);
    expect(result.safetyBackup).toMatch(/^lifeboat-\d{8}-\d{6}-pre-import(-\d+)?\.sql$/);
    expect(result.migrated).toEqual([]);
    const counts = backup.rowCounts!;
    expect(result.tables).toBe(Object.keys(counts).length);
    expect(result.rows).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
    // The safety backup holds the scribbled state: restoring it undoes the import.
    const names = (await t.engine.listBackups()).map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining([backup.name, result.safetyBackup]));
  });

  it("writes the agreed file shape: header, pragmas, bounded multi-row INSERTs, rowids kept, generated columns left out", async () => {
    const t = await makeEngine({ statementBytes: 2048 });
    const backup = await t.engine.createBackup({ trigger: "scheduled", actor: "scheduler", periodKey: "2026-11-26" });
    expect(backup.name).toMatch(/^lifeboat-\d{8}-\d{6}-scheduled\.sql$/);
    expect(backup.periodKey).toBe("2026-11-26");
    const text = await fs.readFile(backupPath(t, backup.name), "utf8");
    const lines = text.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "-- Lifeboat backup",
      "-- format: 1",
      "-- lifeboat-version: 0.1.0",
      `-- created-at: ${backup.createdAt}`,
      "-- trigger: scheduled",
    ]);
    expect(JSON.parse(lines[5]!.replace(/^-- rows: /, ""))).toEqual(backup.rowCounts);
    expect(backup.rowCounts).toMatchObject({ big: 2970, 'odd "name" table': 2, keyed: 603, values: 9 });
    expect(lines.slice(6, 10)).toEqual([
      "PRAGMA foreign_keys=OFF;",
      "BEGIN TRANSACTION;",
      "PRAGMA user_version=42;",
      "PRAGMA application_id=-1234567;",
    ]);
    expect(text.endsWith("COMMIT;\n-- end of Lifeboat backup\n")).toBe(true);
    expect(text).toContain('INSERT INTO "no_alias"("rowid","name","qty") VALUES(-3,\'negative\',-3),(5,\'five\',5)');
    expect(text).toContain('INSERT INTO "shadow"("_rowid_","rowid","v") VALUES(10,\'not the rowid\',1)');
    expect(text).toContain('INSERT INTO "gen"("id","a") VALUES');
    expect(text).toContain("CAST(X'6E756C00696E73696465' AS TEXT)");
    expect(text).toContain("1e999");
    expect(text).toContain("-1e999");
    expect(text).toContain("DELETE FROM sqlite_sequence;\nINSERT INTO sqlite_sequence VALUES('lifeboat_users',1);");
    expect(text).toContain("ANALYZE sqlite_schema;\nINSERT INTO sqlite_stat1 VALUES(");
    // The big table spans many bounded statements.
    const bigInserts = lines.filter((l) => l.startsWith('INSERT INTO "big"'));
    expect(bigInserts.length).toBeGreaterThan(20);
    for (const l of bigInserts) expect(Buffer.byteLength(l)).toBeLessThan(2 * 2048);
    // Indexes, views and triggers come after all the data; views in dependency order.
    const lastInsert = lines.findLastIndex((l) => l.startsWith("INSERT INTO"));
    for (const kw of ["CREATE INDEX", "CREATE UNIQUE INDEX", "CREATE VIEW", "CREATE TRIGGER"]) {
      expect(lines.findIndex((l) => l.startsWith(kw))).toBeGreaterThan(lastInsert);
    }
    expect(text.indexOf("CREATE VIEW v1")).toBeLessThan(text.indexOf("CREATE VIEW v2"));
    expect(text.indexOf("CREATE VIEW v2")).toBeLessThan(text.indexOf('CREATE VIEW "v 3"'));
    // The sidecar's hash is the file's.
    expect(backup.sha256).toBe(createHash("sha256").update(await fs.readFile(backupPath(t, backup.name))).digest("hex"));
    expect(backup.size).toBe((await fs.stat(backupPath(t, backup.name))).size);
  });

  it("restores identical content with the stock sqlite3 CLI (`sqlite3 new.db < file`)", async () => {
    const t = await makeEngine({ statementBytes: 2048 });
    const before = readContent(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual" });
    const target = path.join(await tempDir(), "new.db");
    const run = await sqlite3(target, [], backupPath(t, backup.name));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(contentDiff(readContent(target), before)).toEqual([]);
  });

  it("restores a `sqlite3 .dump` file with Lifeboat (apart from what .dump itself loses)", async () => {
    const t = await makeEngine();
    const dumpFile = path.join(await tempDir(), "cli.sql");
    await sqlite3Dump(t.dbPath, dumpFile);
    const source = readContent(t.dbPath, { rowids: false });
    // The CLI's file, imported the way `npm run lifeboat -- import <file>` does.
    const result = await t.engine.importFile(dumpFile, { actor: "cli" });
    expect(result.rows).toBeGreaterThan(3000);
    const restored = readContent(t.dbPath, { rowids: false });
    // sqlite3 .dump drops text holding NUL (it stops at the NUL), writes -0.0 as 0.0,
    // and does not write user_version or application_id: Lifeboat's own dumps keep all of these.
    const lossy = (c: DbContent) => ({
      ...c,
      userVersion: 0,
      applicationId: 0,
      tables: { ...c.tables, values: c.tables.values!.filter((r) => !/^id=integer:3[38]\|/.test(r) && !r.startsWith("id=integer:37|")) },
    });
    expect(contentDiff(lossy(restored), lossy(source))).toEqual([]);
    expect(restored.userVersion).toBe(0);
  });

  it("keeps TEXT that is not valid UTF-8 byte for byte (written as CAST(X'…' AS TEXT))", async () => {
    const t = await makeEngine({ corpus: { invalidUtf8: true, bigRows: 50 } });
    const before = readContent(t.dbPath);
    expect(before.tables.values!.some((r) => r.includes("text:61FF62C3"))).toBe(true);
    const backup = await t.engine.createBackup({ trigger: "manual" });
    const text = await fs.readFile(backupPath(t, backup.name));
    expect(text.toString("utf8")).toContain("CAST(X'61FF62C3' AS TEXT)");
    scribble(t.dbPath);
    await t.engine.importBackup(backup.name, { actor: null });
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    const target = path.join(await tempDir(), "cli.db");
    expect((await sqlite3(target, [], backupPath(t, backup.name))).code).toBe(0);
    expect(contentDiff(readContent(target), before)).toEqual([]);
  });

  it("round-trips gzip backups (BACKUP_COMPRESSION=gzip): .sql.gz name, hash of the stored bytes, same content", async () => {
    const t = await makeEngine({ env: { BACKUP_COMPRESSION: "gzip" } });
    const before = readContent(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual" });
    expect(backup.name).toMatch(/-manual\.sql\.gz$/);
    expect(backup.compressed).toBe(true);
    const stored = await fs.readFile(backupPath(t, backup.name));
    expect([stored[0], stored[1]]).toEqual([0x1f, 0x8b]);
    expect(backup.sha256).toBe(createHash("sha256").update(stored).digest("hex"));
    const plain = gunzipSync(stored).toString("utf8");
    expect(plain.startsWith("-- Lifeboat backup\n")).toBe(true);
    scribble(t.dbPath);
    const result = await t.engine.importBackup(backup.name, { actor: null });
    expect(result.safetyBackup).toMatch(/\.sql\.gz$/);
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
  });

  it("gives the same result through @libsql/client (the remote-database path) as through the worker", async () => {
    const t = await makeEngine({ driver: "client", statementBytes: 1500 });
    const before = readContent(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual" });
    scribble(t.dbPath);
    await t.engine.importBackup(backup.name, { actor: null });
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    // And the client's dump restores with sqlite3 too.
    const target = path.join(await tempDir(), "cli.db");
    expect((await sqlite3(target, [], backupPath(t, backup.name))).code).toBe(0);
    expect(contentDiff(readContent(target), before)).toEqual([]);
    expect((await listDir(t.backupDir)).filter((f) => f.startsWith("."))).toEqual([]);
  });
});
