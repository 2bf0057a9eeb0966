import fs from "node:fs/promises";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { bootTestLifeboat } from "../support/app.ts";
import { tempDir } from "../support/temp.ts";
import { lifeboatSql } from "./support/corpus.ts";

async function dataDirWith(sql: string): Promise<string> {
  const dataDir = await tempDir();
  const db = new Database(path.join(dataDir, "app.db"));
  db.exec(sql);
  db.close();
  return dataDir;
}

describe("pre-migration backup at start", () => {
  it("backs up a database that holds data before Lifeboat's migrations touch it", async () => {
    const dataDir = await dataDirWith("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders VALUES (1, 9.5), (2, 12.25);");
    const lb = await bootTestLifeboat({}, { dataDir });
    const backups = await lb.backups.listBackups();
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({ trigger: "pre-migration", actor: "lifeboat", rowCounts: { orders: 2 } });
    // Taken before the migrations: the backup holds the application's table and nothing of Lifeboat's yet.
    const text = await fs.readFile(path.join(lb.config.backupDir, backups[0]!.name), "utf8");
    expect(text).toContain('INSERT INTO "orders"("id","total") VALUES(1,9.5),(2,12.25);');
    expect(text).not.toContain("CREATE TABLE lifeboat_users");
    expect(lb.logs.some((l) => l.msg === "pre-migration backup taken")).toBe(true);
  });

  it("also when the data is only Lifeboat's own (an upgrade with a pending migration)", async () => {
    const dataDir = await dataDirWith(`${lifeboatSql()} DELETE FROM lifeboat_migrations WHERE version = 3; DROP TABLE lifeboat_scheduled_runs;`);
    const lb = await bootTestLifeboat({}, { dataDir });
    const backups = await lb.backups.listBackups();
    expect(backups.map((b) => b.trigger)).toEqual(["pre-migration"]);
    expect(backups[0]!.rowCounts).toMatchObject({ lifeboat_users: 1 });
  });

  it("starts on a database with full-text search and R*Tree tables, backing them up first", async () => {
    const dataDir = await dataDirWith(`
      CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
      INSERT INTO notes VALUES (1, 'harbour lights'), (2, 'storm warning');
      CREATE VIRTUAL TABLE search USING fts5(body, content='notes', content_rowid='id');
      INSERT INTO search(search) VALUES ('rebuild');
      CREATE VIRTUAL TABLE spots USING rtree(id, x0, x1);
      INSERT INTO spots VALUES (1, 0.5, 1.5);`);
    const lb = await bootTestLifeboat({}, { dataDir });
    const backups = await lb.backups.listBackups();
    expect(backups.map((b) => b.trigger)).toEqual(["pre-migration"]);
    expect(backups[0]!.rowCounts).toMatchObject({ notes: 2, spots: 1 });
    expect(Object.keys(backups[0]!.rowCounts!)).not.toContain("search"); // rebuilt from notes
    const text = await fs.readFile(path.join(lb.config.backupDir, backups[0]!.name), "utf8");
    expect(text).toContain("CREATE VIRTUAL TABLE search USING fts5(body, content='notes', content_rowid='id');");
    expect(text).toContain(`INSERT INTO "search"("search") VALUES('rebuild');`);
    expect(text).toContain(`INSERT INTO "spots"("id","x0","x1") VALUES(1,0.5,1.5);`);
  });

  it("takes none for a new, empty database or when nothing is pending", async () => {
    const dataDir = await tempDir();
    const first = await bootTestLifeboat({}, { dataDir });
    expect(await first.backups.listBackups()).toEqual([]);
    await first.close();
    const again = await bootTestLifeboat({}, { dataDir });
    expect(await again.backups.listBackups()).toEqual([]);
  });

  it("refuses to start, migrating nothing, when the pre-migration backup fails", async () => {
    const dataDir = await dataDirWith("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me'); CREATE VIRTUAL TABLE search USING geopoly(body);");
    await expect(bootTestLifeboat({}, { dataDir })).rejects.toThrow(/virtual table search: virtual tables using the geopoly module are not supported/);
    const db = new Database(path.join(dataDir, "app.db"));
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'lifeboat%' AND type = 'table'").raw(true).all() as string[][]).map((r) => r[0]);
    db.close();
    expect(tables.filter((t) => t !== "lifeboat_migrations")).toEqual([]);
    expect(await fs.readdir(path.join(dataDir, "backups"))).toEqual([]);
  });
});
