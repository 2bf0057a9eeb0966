import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { makeEngine, backupPath, type TestEngine } from "./support/engine.ts";
import { sqlite3 } from "./support/sqlite3.ts";
import { tempDir } from "../support/temp.ts";
import { eventually } from "../support/wait.ts";

/**
 * Issue 10, short write locks: the write lock is taken only for the
 * replacement, and the safety backup is exactly the state the import replaces,
 * whatever the application commits meanwhile. In WAL mode the safety backup is
 * read from the state under the lock while the import writes; with a rollback
 * journal it is read from a snapshot beside the file check, and taken again
 * under the lock when a write came in between.
 */

function exec(file: string, sql: string): void {
  const db = new Database(file, { timeout: 5000 });
  db.exec(sql);
  db.close();
}

function ids(file: string, sql: string): number[] {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare(sql).raw(true).all() as unknown[][];
  db.close();
  return rows.map((r) => Number(r[0]));
}

/** Loads a backup file into a new database with the sqlite3 CLI; returns that database's path. */
async function loadWithSqlite3(file: string): Promise<string> {
  const db = path.join(await tempDir(), "loaded.db");
  const r = await sqlite3(db, [], file);
  expect(r.stderr).toBe("");
  return db;
}

async function appEngine(journal: "wal" | "delete", onImportStep?: (step: string) => Promise<void> | void): Promise<TestEngine> {
  const t = await makeEngine({ corpus: false, env: { DATABASE_JOURNAL_MODE: journal }, ...(onImportStep ? { onImportStep } : {}) });
  exec(
    t.dbPath,
    `PRAGMA journal_mode=${journal.toUpperCase()};
     CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, total REAL);
     CREATE TABLE IF NOT EXISTS ticks (n INTEGER PRIMARY KEY);
     DELETE FROM orders; INSERT INTO orders VALUES (1, 9.5), (2, 12.25);`,
  );
  return t;
}

function stepLog(t: TestEngine): Record<string, unknown> | undefined {
  return t.logs.find((l) => l.msg === "import steps");
}

describe("short write locks: the safety backup equals what the import replaced", () => {
  for (const journal of ["wal", "delete"] as const) {
    it(`keeps a row committed after the snapshot in the safety backup (${journal} mode)`, async () => {
      let dbPath = "";
      let late: Promise<unknown> | null = null;
      const t = await appEngine(journal, async (step) => {
        if (journal === "wal") {
          // Another connection commits after the file was checked, just before the lock.
          if (step === "checked") exec(dbPath, "INSERT INTO orders VALUES (3, 77.5)");
          return;
        }
        if (step !== "safety-backup-written") return;
        // In rollback-journal mode the snapshot's read lock keeps writers from committing:
        // another process takes the write lock and waits to commit, so the import's lock must give way.
        late = sqlite3(dbPath, [".timeout 10000", "BEGIN IMMEDIATE", "INSERT INTO orders VALUES (3, 77.5)", "COMMIT"]);
        await eventually(() => {
          const probe = new Database(dbPath, { timeout: 0 });
          try {
            probe.exec("BEGIN IMMEDIATE; ROLLBACK");
            return false;
          } catch {
            return true; // the other process holds the write lock now
          } finally {
            probe.close();
          }
        }, "the other process's write lock");
      });
      dbPath = t.dbPath;
      const backup = await t.engine.createBackup({ trigger: "manual" });
      exec(t.dbPath, "UPDATE orders SET total = 1 WHERE id = 1");

      const result = await t.engine.importBackup(backup.name, { actor: "ann" });
      if (late) expect(await late).toMatchObject({ code: 0, stderr: "" });
      // The import replaced everything, the row written in between included.
      expect(ids(t.dbPath, "SELECT id FROM orders ORDER BY id")).toEqual([1, 2]);
      // The safety backup holds exactly the state that was replaced: the update and the late row.
      const safety = await loadWithSqlite3(backupPath(t, result.safetyBackup));
      const rows = new Database(safety, { readonly: true }).prepare("SELECT id, total FROM orders ORDER BY id").raw(true).all();
      expect(rows).toEqual([
        [1n, 1],
        [2n, 12.25],
        [3n, 77.5],
      ].map(([id, total]) => [Number(id), total]));
      expect(String(stepLog(t)?.safetyBackup)).toMatch(journal === "wal" ? /^read from the state under the lock/ : /^taken again under the lock/);
      // Only the final safety backup is listed; the stale one was removed.
      const safetyBackups = (await t.engine.listBackups()).filter((b) => b.trigger === "pre-import");
      expect(safetyBackups.map((b) => b.name)).toEqual([result.safetyBackup]);
      expect((await sqlite3(t.dbPath, ["PRAGMA journal_mode"])).stdout.trim()).toBe(journal);
    });
  }

  it("uses the snapshot's safety backup when nothing was written in between (rollback journal)", async () => {
    const t = await appEngine("delete");
    const backup = await t.engine.createBackup({ trigger: "manual" });
    exec(t.dbPath, "INSERT INTO orders VALUES (5, 5)");
    const result = await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(stepLog(t)?.safetyBackup).toBe("from the snapshot (no write in between)");
    const safety = await loadWithSqlite3(backupPath(t, result.safetyBackup));
    expect(ids(safety, "SELECT id FROM orders ORDER BY id")).toEqual([1, 2, 5]);
    expect(ids(t.dbPath, "SELECT id FROM orders ORDER BY id")).toEqual([1, 2]);
  });

  it("loses no write of another process that inserts all through an import", async () => {
    const t = await appEngine("wal");
    const backup = await t.engine.createBackup({ trigger: "manual" }); // ticks is empty in it
    // A separate process inserting one row after another (busy timeout 5 s), printing each committed n.
    const writer: ChildProcess = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import Database from "libsql";
         const db = new Database(process.argv[1], { timeout: 5000 });
         let n = 0, stop = false;
         process.stdin.on("data", () => (stop = true));
         while (!stop) {
           n++;
           try { db.prepare("INSERT INTO ticks VALUES (?)").run(n); process.stdout.write(n + "\\n"); }
           catch (e) { process.stderr.write(String(e) + "\\n"); }
           await new Promise((r) => setTimeout(r, 3));
         }
         db.close();
         process.exit(0);`,
        t.dbPath,
      ],
      { cwd: process.cwd(), stdio: ["pipe", "pipe", "pipe"] },
    );
    const acked: number[] = [];
    let errors = "";
    writer.stdout!.on("data", (d: Buffer) => acked.push(...String(d).split("\n").filter(Boolean).map(Number)));
    writer.stderr!.on("data", (d: Buffer) => (errors += String(d)));
    const closed = new Promise((r) => writer.on("close", r));
    try {
      await eventually(() => acked.length >= 5, "the writer's first rows");
      const result = await t.engine.importBackup(backup.name, { actor: "ann" });
      const atImport = acked.length;
      await eventually(() => acked.length >= atImport + 5, "the writer's rows after the import");
      writer.stdin!.write("stop\n");
      await closed;
      expect(errors).toBe("");
      const before = ids(await loadWithSqlite3(backupPath(t, result.safetyBackup)), "SELECT n FROM ticks ORDER BY n");
      const after = ids(t.dbPath, "SELECT n FROM ticks ORDER BY n");
      // Every committed row is in exactly one place: the safety backup (committed before the
      // import's lock) or the restored database (committed after its COMMIT).
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);
      expect([...before, ...after]).toEqual(acked);
    } finally {
      writer.kill();
    }
  });
});
