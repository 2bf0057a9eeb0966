import fs from "node:fs/promises";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { bootTestLifeboat } from "../support/app.ts";
import { bundled } from "../support/bundle.ts";
import { start } from "../support/process.ts";
import { tempDir } from "../support/temp.ts";
import { eventually } from "../support/wait.ts";
import { lifeboatSql } from "./support/corpus.ts";

describe("a crash during export", () => {
  it("leaves no listed partial file, and the leftover is removed at the next start", async () => {
    const dataDir = await tempDir();
    const backupDir = path.join(dataDir, "backups");
    await fs.mkdir(backupDir);
    const db = new Database(path.join(dataDir, "app.db"));
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(lifeboatSql());
    db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT, n INTEGER);
      WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400000)
      INSERT INTO events SELECT i, printf('%.200c', 'x') || i, i * 7 FROM c;`);
    db.close();

    const child = start(process.execPath, [bundled("backup-child")], {
      DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
    });
    // Wait until the export is well under way (its temp file is growing), then kill it hard.
    let partial: string | undefined;
    await eventually(async () => {
      for (const f of await fs.readdir(backupDir)) {
        const size = f.startsWith(".lifeboat-tmp.") ? await fs.stat(path.join(backupDir, f)).then((s) => s.size, () => 0) : 0;
        if (size > 2_000_000) partial = f;
      }
      if (!partial && child.child.exitCode !== null) throw new Error(`the export ended before it was under way:\n${child.output()}`);
      return partial !== undefined;
    }, "the export's temp file to pass 2 MB");
    expect(partial, child.output()).toBeDefined();
    child.child.kill("SIGKILL");
    await child.exited;

    // The partial file is there, under a temp name only, next to the dead process's lock.
    const left = await fs.readdir(backupDir);
    expect(left).toContain(partial);
    expect(left.filter((f) => !f.startsWith("."))).toEqual([]);

    const lb = await bootTestLifeboat({}, { dataDir });
    expect(await lb.backups.listBackups()).toEqual([]);
    expect(await fs.readdir(backupDir)).toEqual([]);
    expect(lb.logs.some((l) => l.msg === "removed leftover temporary files")).toBe(true);
    // The next backup works normally.
    const b = await lb.backups.createBackup({ trigger: "manual", actor: "ann" });
    expect(b.rowCounts?.events).toBe(400000);
  });
});
