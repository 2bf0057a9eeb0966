import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { contentDiff, readContent } from "./support/content.ts";
import { makeEngine, type TestEngine } from "./support/engine.ts";
import { sqlite3 } from "./support/sqlite3.ts";
import { tempDir } from "../support/temp.ts";

/**
 * A backup of a large database formats every other page on a second thread
 * (page-helper.ts). `parallelMinBytes: 0` makes these small databases take
 * that path; the "backup written" log says how many threads formatted it.
 */

function threadsOf(t: TestEngine): unknown[] {
  return t.logs.filter((l) => l.msg === "backup written").map((l) => l.threads);
}

/** Rows whose rowids are spread the hard way: both ends of the 64-bit range, a dense run, a crowded cluster, wide gaps. */
function addSpreadTable(file: string): void {
  const db = new Database(file);
  db.defaultSafeIntegers(true);
  db.exec("CREATE TABLE spread (id INTEGER PRIMARY KEY, v TEXT, r REAL)");
  const insert = db.prepare("INSERT INTO spread VALUES (?, ?, ?)");
  const keys: bigint[] = [-9223372036854775808n, -9223372036854775807n, -1n, 0n, 9223372036854775807n, 9223372036854775806n];
  for (let i = 1n; i <= 2000n; i++) keys.push(i); // dense
  for (let i = 0n; i < 1500n; i++) keys.push(1_000_000_000_000n + i); // a cluster far from the rest
  for (let i = 1n; i <= 40n; i++) keys.push(i * 123_456_789_012_345n); // sparse
  db.exec("BEGIN");
  for (const k of keys) insert.run([k, `row ${k}\r\n${"x".repeat(Number(k & 31n))}`, Number(k % 1000n) / 7]);
  db.exec("COMMIT");
  db.close();
}

describe("a backup on two threads", () => {
  it("restores exactly what a one-thread backup restores: every value, rowid and table of the corpus", async () => {
    const t = await makeEngine({ statementBytes: 2048, parallelMinBytes: 0 });
    addSpreadTable(t.dbPath);
    const before = readContent(t.dbPath);
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    expect(threadsOf(t)).toEqual([2]);
    expect(backup.rowCounts).toMatchObject({ spread: 3546 });

    // Into an empty database with sqlite3, and over a changed one with Lifeboat's import.
    const dir = await tempDir();
    const restored = path.join(dir, "restored.db");
    const run = await sqlite3(restored, [], path.join(t.backupDir, backup.name));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(contentDiff(readContent(restored), before)).toEqual([]);

    const db = new Database(t.dbPath);
    db.exec("DELETE FROM spread WHERE id > 0; UPDATE big SET id = -id WHERE id < 50");
    db.close();
    await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
  });

  it("is one snapshot: a writer that changes every row of a table while the backup runs never shows half done", async () => {
    const t = await makeEngine({ statementBytes: 1024, parallelMinBytes: 0 });
    const writer = new Database(t.dbPath, { timeout: 5000 });
    writer.exec("CREATE TABLE ledger (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
    writer.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) INSERT INTO ledger (id, v) SELECT i, 0 FROM n");
    let stop = false;
    let during = 0;
    let backupRunning = false;
    const writing = (async () => {
      while (!stop) {
        writer.exec("UPDATE ledger SET v = v + 1");
        if (backupRunning) during++;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    backupRunning = true;
    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    backupRunning = false;
    stop = true;
    await writing;
    writer.close();
    expect(threadsOf(t)).toEqual([2]);
    expect(during).toBeGreaterThan(0);

    const dir = await tempDir();
    const restored = path.join(dir, "restored.db");
    expect((await sqlite3(restored, [], path.join(t.backupDir, backup.name))).code).toBe(0);
    const check = new Database(restored);
    const [rows, values] = check.prepare("SELECT count(*), count(DISTINCT v) FROM ledger").raw(true).get() as [number, number];
    check.close();
    expect(rows).toBe(4000);
    expect(values).toBe(1);
  });

  it("stays on one thread for a database below the size where a second one pays", async () => {
    const t = await makeEngine({ statementBytes: 2048 });
    await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    expect(threadsOf(t)).toEqual([1]);
  });
});
