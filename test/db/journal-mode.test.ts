import { execFileSync } from "node:child_process";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { bootTestLifeboat } from "../support/app.ts";
import { tempDir } from "../support/temp.ts";

/** The file's journal mode, asked by the sqlite3 CLI (a process of its own, so no connection lingers here). */
function journalMode(file: string): string {
  return execFileSync("/usr/bin/sqlite3", [file, "PRAGMA journal_mode"], { encoding: "utf8" }).trim();
}

async function rollbackDatabase(): Promise<{ dataDir: string; file: string }> {
  const dataDir = await tempDir();
  const file = path.join(dataDir, "app.db");
  const db = new Database(file);
  db.exec("PRAGMA journal_mode = DELETE; CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders VALUES (1, 9.5), (2, 12.25);");
  db.close();
  return { dataDir, file };
}

describe("journal mode", () => {
  it("leaves a rollback-journal database in its mode through start, backup and import", async () => {
    const { dataDir, file } = await rollbackDatabase();
    const lb = await bootTestLifeboat({}, { dataDir });
    expect(journalMode(file)).toBe("delete");
    const [preMigration] = await lb.backups.listBackups();
    expect(preMigration).toMatchObject({ trigger: "pre-migration", rowCounts: { orders: 2 } });

    const backup = await lb.backups.createBackup({ trigger: "manual", actor: "ann" });
    expect(journalMode(file)).toBe("delete");
    const db = new Database(file);
    db.exec("DELETE FROM orders; INSERT INTO orders VALUES (3, 1.0);");
    db.close();

    const result = await lb.backups.importBackup(backup.name, { actor: "ann" });
    expect(result.rows).toBeGreaterThanOrEqual(2);
    expect(journalMode(file)).toBe("delete");
    const check = new Database(file);
    expect(check.prepare("SELECT id, total FROM orders ORDER BY id").raw(true).all()).toEqual([
      [1, 9.5],
      [2, 12.25],
    ]);
    check.close();
    await lb.close();
    // And again at the next start.
    await bootTestLifeboat({}, { dataDir });
    expect(journalMode(file)).toBe("delete");
  });

  it("switches when DATABASE_JOURNAL_MODE says so, and gives a new database WAL", async () => {
    const { dataDir, file } = await rollbackDatabase();
    await bootTestLifeboat({ DATABASE_JOURNAL_MODE: "WAL" }, { dataDir });
    expect(journalMode(file)).toBe("wal");

    const fresh = await bootTestLifeboat();
    expect(journalMode(path.join(fresh.dataDir, "app.db"))).toBe("wal");

    // And back: a WAL database made a rollback-journal one.
    const walDir = await tempDir();
    const walDb = new Database(path.join(walDir, "app.db"));
    walDb.exec("PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');");
    walDb.close();
    expect(journalMode(path.join(walDir, "app.db"))).toBe("wal");
    await bootTestLifeboat({ DATABASE_JOURNAL_MODE: "delete" }, { dataDir: walDir });
    expect(journalMode(path.join(walDir, "app.db"))).toBe("delete");
  });

  it("refuses a journal mode that could lose data", async () => {
    await expect(loadConfig({ DATABASE_JOURNAL_MODE: "off" })).rejects.toThrow(/DATABASE_JOURNAL_MODE: expected wal or delete/);
    await expect(loadConfig({ DATABASE_JOURNAL_MODE: "memory" })).rejects.toThrow(/DATABASE_JOURNAL_MODE/);
    expect((await loadConfig({ DATABASE_JOURNAL_MODE: " Delete " })).databaseJournalMode).toBe("delete");
  });
});
