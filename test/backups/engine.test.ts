import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/db/migrations/index.ts";
import {
  BusyError,
  ChecksumMismatchError,
  ConflictError,
  InvalidBackupError,
  NotFoundError,
  UnsupportedDatabaseError,
  ValidationError,
} from "../../src/errors.ts";
import type { BackupEngineEvent } from "../../src/backups/types.ts";
import { contentDiff, readContent, type DbContent } from "./support/content.ts";
import { backupPath, listDir, makeEngine } from "./support/engine.ts";
import { sqlite3, sqlite3Dump } from "./support/sqlite3.ts";
import { tempDir } from "../support/temp.ts";
import { eventually } from "../support/wait.ts";

const fixedClock = { now: () => new Date("2026-11-26T00:00:00.000Z") };
const hostTag = os.hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40) || "host";

function exec(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.on("close", r));
  return child.pid!;
}

describe("backup names, listing and metadata", () => {
  it("names backups from the UTC time and trigger, unique within one second", async () => {
    const t = await makeEngine({ clock: fixedClock, corpus: { bigRows: 10 } });
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await t.engine.createBackup({ trigger: "manual", actor: "ann" })).name);
    expect(names).toEqual([
      "lifeboat-20261126-000000-manual.sql",
      "lifeboat-20261126-000000-manual-2.sql",
      "lifeboat-20261126-000000-manual-3.sql",
    ]);
    const listed = await t.engine.listBackups();
    expect(listed.map((b) => b.name).sort()).toEqual([...names].sort());
    for (const b of listed) {
      expect(b).toMatchObject({ trigger: "manual", actor: "ann", compressed: false, pinned: false, createdAt: "2026-11-26T00:00:00.000Z" });
      expect(b.sha256).toBe(createHash("sha256").update(await fs.readFile(backupPath(t, b.name))).digest("hex"));
    }
    // Metadata lives beside each file; no temp file is left behind.
    expect(await listDir(t.backupDir)).toEqual(names.flatMap((n) => [n, `${n}.json`]).sort());
  });

  it("lists the folder as it is: hand-dropped files with trigger unknown, never temp files, symlinks or folders", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const made = await t.engine.createBackup({ trigger: "manual" });
    const dropped = path.join(t.backupDir, "from-elsewhere.sql");
    await fs.copyFile(backupPath(t, made.name), dropped);
    const mtime = new Date("2020-01-02T03:04:05.000Z");
    await fs.utimes(dropped, mtime, mtime);
    await fs.writeFile(path.join(t.backupDir, ".lifeboat-tmp.x.1.y.sql"), "partial");
    await fs.writeFile(path.join(t.backupDir, ".upload-abc"), "partial");
    await fs.writeFile(path.join(t.backupDir, "notes.txt"), "hello");
    await fs.symlink(t.dbPath, path.join(t.backupDir, "link.sql"));
    await fs.mkdir(path.join(t.backupDir, "folder.sql"));

    const listed = await t.engine.listBackups();
    expect(listed.map((b) => b.name)).toEqual([made.name, "from-elsewhere.sql"]);
    expect(listed[1]).toEqual({
      name: "from-elsewhere.sql",
      createdAt: mtime.toISOString(),
      size: made.size,
      trigger: "unknown",
      actor: null,
      sha256: null,
      compressed: false,
      encrypted: false,
      rowCounts: null,
      pinned: false,
      periodKey: null,
      offsiteAt: null,
      location: "here",
      offsite: null,
    });
    await expect(t.engine.getBackup("link.sql")).rejects.toBeInstanceOf(NotFoundError);
    await expect(t.engine.getBackup("folder.sql")).rejects.toBeInstanceOf(NotFoundError);
    await expect(t.engine.openBackup("link.sql")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses names that are not backup names with a 400-type error, and unknown ones with a 404-type error", async () => {
    const t = await makeEngine({ corpus: false });
    const bad = ["../app.db", "..", "a/b.sql", ".hidden.sql", "x.txt", "", `${"a".repeat(300)}.sql`, "nul\0.sql", "-x.sql"];
    for (const name of bad) {
      await expect(t.engine.getBackup(name)).rejects.toBeInstanceOf(ValidationError);
      await expect(t.engine.openBackup(name)).rejects.toBeInstanceOf(ValidationError);
      await expect(t.engine.deleteBackup(name)).rejects.toBeInstanceOf(ValidationError);
      await expect(t.engine.setPinned(name, true)).rejects.toBeInstanceOf(ValidationError);
      await expect(t.engine.importBackup(name, { actor: null })).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(t.engine.getBackup("missing.sql")).rejects.toBeInstanceOf(NotFoundError);
    await expect(t.engine.importBackup("missing.sql", { actor: null })).rejects.toBeInstanceOf(NotFoundError);
    expect(await listDir(t.backupDir)).toEqual([]);
  });

  it("streams a backup's exact bytes for download", async () => {
    const t = await makeEngine({ corpus: { bigRows: 2000 } });
    const b = await t.engine.createBackup({ trigger: "manual" });
    const { meta, stream } = await t.engine.openBackup(b.name);
    expect(meta).toEqual(b);
    const bytes = Buffer.from(await new Response(stream).arrayBuffer());
    expect(bytes.equals(await fs.readFile(backupPath(t, b.name)))).toBe(true);
  });

  it("pins and unpins (kept in the sidecar), refuses to delete a pinned backup, deletes file and sidecar", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const b = await t.engine.createBackup({ trigger: "manual" });
    expect((await t.engine.setPinned(b.name, true)).pinned).toBe(true);
    expect((await t.engine.getBackup(b.name)).pinned).toBe(true);
    await expect(t.engine.deleteBackup(b.name)).rejects.toBeInstanceOf(ConflictError);
    expect((await t.engine.setPinned(b.name, false)).pinned).toBe(false);
    const events: BackupEngineEvent[] = [];
    t.engine.events.on((e) => events.push(e));
    await t.engine.deleteBackup(b.name);
    expect(await listDir(t.backupDir)).toEqual([]);
    expect(events).toEqual([{ type: "backup.deleted", name: b.name }]);

    // A hand-dropped file gets a sidecar when pinned, and keeps trigger unknown.
    await fs.writeFile(path.join(t.backupDir, "mine.sql"), "-- x\nCREATE TABLE a (b);\n");
    expect(await t.engine.setPinned("mine.sql", true)).toMatchObject({ name: "mine.sql", pinned: true, trigger: "unknown" });
    expect(await listDir(t.backupDir)).toEqual(["mine.sql", "mine.sql.json"]);
  });

  it("removes leftovers at start: temp files of dead processes, stale uploads and locks, orphaned sidecars", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const kept = await t.engine.createBackup({ trigger: "manual" });
    const dead = await deadPid();
    const old = new Date(Date.now() - 2 * 3600_000);
    const write = async (name: string, content = "x", mtime?: Date) => {
      await fs.writeFile(path.join(t.backupDir, name), content);
      if (mtime) await fs.utimes(path.join(t.backupDir, name), mtime, mtime);
    };
    await write(`.lifeboat-tmp.${hostTag}.${dead}.aaaa.sql`);
    await write(`.lifeboat-tmp.${hostTag}.${process.pid}.bbbb.sql`);
    await write(".upload-old", "x", old);
    await write(".upload-fresh");
    await write(".lifeboat.lock", JSON.stringify({ kind: "backup", host: hostTag, pid: dead, token: "t" }));
    const orphan = JSON.parse(await fs.readFile(backupPath(t, `${kept.name}.json`), "utf8")) as object;
    await write("gone.sql.json", JSON.stringify(orphan));
    await write("notes.txt");

    const removed = await t.engine.cleanupTemporaryFiles();
    expect(removed.sort()).toEqual([`.lifeboat-tmp.${hostTag}.${dead}.aaaa.sql`, ".lifeboat.lock", ".upload-old", "gone.sql.json"].sort());
    expect(await listDir(t.backupDir)).toEqual(
      [`.lifeboat-tmp.${hostTag}.${process.pid}.bbbb.sql`, ".upload-fresh", kept.name, `${kept.name}.json`, "notes.txt"].sort(),
    );
  });
});

describe("one backup or import at a time", () => {
  it("answers BusyError while a backup runs, and reports the activity", async () => {
    const t = await makeEngine({ corpus: { bigRows: 20000 } });
    const running = t.engine.createBackup({ trigger: "scheduled", actor: "scheduler" });
    expect(t.engine.activity()).toMatchObject({ kind: "backup", trigger: "scheduled", actor: "scheduler" });
    await expect(t.engine.createBackup({ trigger: "manual", actor: "ann" })).rejects.toBeInstanceOf(BusyError);
    await expect(t.engine.importBackup("whatever.sql", { actor: "ann" })).rejects.toThrow(/A scheduled backup is running/);
    await running;
    expect(t.engine.activity()).toBeNull();
    await expect(t.engine.createBackup({ trigger: "manual" })).resolves.toMatchObject({ trigger: "manual" });
  });

  it("honours another process's lock on the backup folder, and takes over a dead process's lock", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const other = spawn("sleep", ["30"]);
    const lock = path.join(t.backupDir, ".lifeboat.lock");
    await fs.writeFile(lock, JSON.stringify({ kind: "import", host: hostTag, pid: other.pid, token: "x", startedAt: "2026-11-26T00:00:00.000Z" }));
    await expect(t.engine.createBackup({ trigger: "manual" })).rejects.toThrow(new RegExp(`an import \\(process ${other.pid}`));
    other.kill("SIGKILL");
    await new Promise((r) => other.on("close", r));
    await expect(t.engine.createBackup({ trigger: "manual" })).resolves.toMatchObject({ trigger: "manual" });
    expect(await listDir(t.backupDir)).not.toContain(".lifeboat.lock");
  });

  it("queues in-process writes behind an import (write gate) instead of failing or losing them", async () => {
    const t = await makeEngine({ corpus: { bigRows: 20000 } });
    const b = await t.engine.createBackup({ trigger: "manual" });
    let imported = false;
    const importing = t.engine.importBackup(b.name, { actor: null }).finally(() => (imported = true));
    await eventually(
      () => {
        if (!t.writeGate.busy && imported) throw new Error("the import ended before it was seen holding the write gate");
        return t.writeGate.busy;
      },
      "the import to hold the write gate",
      { intervalMs: 2 },
    );
    const write = t.writeGate.run(() => t.db.execute("INSERT INTO parent (id, name) VALUES (99, 'late')"));
    await importing;
    await write;
    const rs = await t.db.execute("SELECT name FROM parent WHERE id = 99");
    expect(rs.rows.map((r) => r.name)).toEqual(["late"]);
  });
});

describe("backups and events", () => {
  it("announces created and failed backups and keeps the last result", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const created: unknown[] = [];
    const failed: unknown[] = [];
    t.engine.events.on((e) => {
      if (e.type === "backup.created") created.push(e);
      if (e.type === "backup.failed") failed.push(e);
    });
    const b = await t.engine.createBackup({ trigger: "change", actor: "ann" });
    expect(created).toEqual([expect.objectContaining({ type: "backup.created", trigger: "change", actor: "ann", backup: b })]);
    expect(t.engine.lastResults().backup).toMatchObject({ ok: true, trigger: "change", backup: { name: b.name } });

    exec(t.dbPath, "CREATE VIRTUAL TABLE shapes USING geopoly(label);");
    await expect(t.engine.createBackup({ trigger: "scheduled" })).rejects.toThrow(
      /virtual table shapes: virtual tables using the geopoly module are not supported/,
    );
    expect(failed).toEqual([
      expect.objectContaining({ type: "backup.failed", trigger: "scheduled", error: expect.objectContaining({ code: "unsupported_database" }) }),
    ]);
    expect(t.engine.lastResults().backup).toMatchObject({ ok: false, trigger: "scheduled" });
    // No partial file, no temp file: only the first backup is there.
    expect(await listDir(t.backupDir)).toEqual([b.name, `${b.name}.json`]);
  });

  it("refuses an import when the safety backup cannot be taken, and changes nothing", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const b = await t.engine.createBackup({ trigger: "manual" });
    exec(t.dbPath, "CREATE VIRTUAL TABLE docs USING geopoly(label); INSERT INTO docs(_shape, label) VALUES ('[[0,0],[1,0],[0,1],[0,0]]', 'hello');");
    const before = readContent(t.dbPath, { skip: ["docs", "docs_node", "docs_rowid", "docs_parent"] });
    const err = await t.engine.importBackup(b.name, { actor: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedDatabaseError);
    expect((err as Error).message).toMatch(/^The safety backup failed, so nothing was imported: .*docs/);
    expect(contentDiff(readContent(t.dbPath, { skip: ["docs", "docs_node", "docs_rowid", "docs_parent"] }), before)).toEqual([]);
    expect(await listDir(t.backupDir)).toEqual([b.name, `${b.name}.json`]);
  });

  it("answers a changed file with its checksum refusal, also when the safety backup fails beside the check (rollback journal)", async () => {
    // With a rollback journal the safety backup is read beside the check; in WAL mode it comes after it.
    const t = await makeEngine({ corpus: { bigRows: 10 }, env: { DATABASE_JOURNAL_MODE: "delete" } });
    const b = await t.engine.createBackup({ trigger: "manual" });
    const file = backupPath(t, b.name);
    await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace("BEGIN TRANSACTION;", "BEGIN TRANSACTION; "));
    exec(t.dbPath, "CREATE VIRTUAL TABLE docs USING geopoly(label); INSERT INTO docs(_shape, label) VALUES ('[[0,0],[1,0],[0,1],[0,0]]', 'hello');");
    const before = readContent(t.dbPath, { skip: ["docs", "docs_node", "docs_rowid", "docs_parent"] });
    const err = await t.engine.importBackup(b.name, { actor: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(contentDiff(readContent(t.dbPath, { skip: ["docs", "docs_node", "docs_rowid", "docs_parent"] }), before)).toEqual([]);
    expect(await listDir(t.backupDir)).toEqual([b.name, `${b.name}.json`]);
  });
});

describe("uploads", () => {
  it("stores a valid upload as an `upload` backup and consumes the temp file", async () => {
    const t = await makeEngine({ clock: fixedClock, corpus: { bigRows: 10 } });
    const b = await t.engine.createBackup({ trigger: "manual" });
    const bytes = await fs.readFile(backupPath(t, b.name));
    const temp = path.join(t.backupDir, ".upload-1");
    await fs.writeFile(temp, bytes);
    const stored = await t.engine.storeUpload(temp, { actor: "ann" });
    expect(stored).toMatchObject({
      name: "lifeboat-20261126-000000-upload.sql",
      trigger: "upload",
      actor: "ann",
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      rowCounts: b.rowCounts,
    });
    await expect(fs.access(temp)).rejects.toThrow();

    // gzip is recognised by content, whatever the client called it; a file from elsewhere is copied in.
    const outside = path.join(await tempDir(), "backup.sql");
    await fs.writeFile(outside, gzipSync(bytes));
    const gz = await t.engine.storeUpload(outside, { actor: "ann" });
    expect(gz).toMatchObject({ name: "lifeboat-20261126-000000-upload.sql.gz", compressed: true });
    await expect(fs.access(outside)).rejects.toThrow();
    expect((await listDir(t.backupDir)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("refuses an invalid upload, removes it and lists nothing new", async () => {
    const t = await makeEngine({ corpus: false });
    const temp = path.join(t.backupDir, ".upload-2");
    await fs.writeFile(temp, "-- hi\nCREATE TABLE t (a);\nSELECT * FROM t;\n");
    await expect(t.engine.storeUpload(temp, { actor: null })).rejects.toThrow(/line 3: .*SELECT/);
    expect(await listDir(t.backupDir)).toEqual([]);
    expect(() => t.engine.checkUploadStart(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))).toThrow(InvalidBackupError);
    expect(() => t.engine.checkUploadStart(Buffer.from([0x1f, 0x8b, 8, 0]))).not.toThrow();
  });
});

describe("Lifeboat's own tables on import", () => {
  it("migrates a dump from an older Lifeboat forward, in the same transaction", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    // A Lifeboat of schema version 2: the tables of migrations 3 (schedule) and 4 (sessions) are not there yet.
    exec(
      t.dbPath,
      "DELETE FROM lifeboat_migrations WHERE version >= 3; DROP TABLE lifeboat_scheduled_runs; DROP TABLE lifeboat_revoked_tokens; DROP TABLE lifeboat_session_epochs;",
    );
    const b = await t.engine.createBackup({ trigger: "manual" });
    const result = await t.engine.importBackup(b.name, { actor: null });
    expect(result.migrated).toEqual([3, 4]);
    const rs = await t.db.execute("SELECT version FROM lifeboat_migrations ORDER BY version");
    expect(rs.rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    await t.db.execute("SELECT count(*) FROM lifeboat_scheduled_runs");
  });

  it("refuses a dump from a newer Lifeboat", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    exec(t.dbPath, "INSERT INTO lifeboat_migrations VALUES (999, 'future', '2030-01-01T00:00:00.000Z')");
    const b = await t.engine.createBackup({ trigger: "manual" });
    exec(t.dbPath, "DELETE FROM lifeboat_migrations WHERE version = 999");
    const before = readContent(t.dbPath);
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    await expect(t.engine.importBackup(b.name, { actor: null })).rejects.toThrow(
      `newer Lifeboat (schema version 999; this Lifeboat knows up to ${latest})`,
    );
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
  });

  it("refuses a dump whose only admin is disabled (it would lock everyone out)", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    exec(t.dbPath, "UPDATE lifeboat_users SET disabled = 1");
    const b = await t.engine.createBackup({ trigger: "manual" });
    exec(t.dbPath, "UPDATE lifeboat_users SET disabled = 0");
    const before = readContent(t.dbPath);
    await expect(t.engine.importBackup(b.name, { actor: null })).rejects.toThrow(/no enabled admin account/);
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
  });

  it("restores a plain application dump (no Lifeboat tables) and keeps Lifeboat's current accounts and migrations", async () => {
    const source = await makeEngine({ corpus: { bigRows: 10, lifeboatTables: false } });
    const dump = path.join(await tempDir(), "app.sql");
    await sqlite3Dump(source.dbPath, dump);
    expect(await fs.readFile(dump, "utf8")).not.toMatch(/lifeboat_/i);

    const t = await makeEngine({ corpus: { bigRows: 5 } });
    exec(t.dbPath, "INSERT INTO lifeboat_audit (at, actor, action, target_id, target_username) VALUES ('2026-02-01T00:00:00.000Z', 'admin', 'user.created', 1, 'admin');");
    const lifeboatPart = (c: DbContent) => ({
      schema: c.schema.filter((o) => /^lifeboat_/i.test(o.tblName)),
      tables: Object.fromEntries(Object.entries(c.tables).filter(([n]) => /^lifeboat_/i.test(n))),
      // Which row of sqlite_sequence holds a counter does not matter; its name and value do.
      sequences: (c.tables.sqlite_sequence ?? [])
        .filter((r) => r.includes(Buffer.from("lifeboat_").toString("hex").toUpperCase()))
        .map((r) => r.replace(/^rowid=\d+\|/, "")),
    });
    const appPart = (c: DbContent): DbContent => ({
      ...c,
      schema: c.schema.filter((o) => !/^lifeboat_/i.test(o.tblName) && o.name !== "sqlite_sequence"),
      tables: Object.fromEntries(Object.entries(c.tables).filter(([n]) => !/^lifeboat_|^sqlite_sequence$|^sqlite_stat/i.test(n))),
    });
    const lifeboatBefore = lifeboatPart(readContent(t.dbPath));
    expect(lifeboatBefore.sequences.length).toBeGreaterThan(0);
    const checked = await t.engine.verifyFile(dump);
    expect(checked.content).toEqual({ kind: "plain", schemaVersion: null });
    const result = await t.engine.importFile(dump, { actor: "cli" });
    expect(result.migrated).toEqual([]);
    expect(lifeboatPart(readContent(t.dbPath))).toEqual(lifeboatBefore);
    // The application's part is what the sqlite3 CLI itself restores from the same dump.
    const reference = path.join(await tempDir(), "reference.db");
    expect((await sqlite3(reference, [], dump)).code).toBe(0);
    // (`values` holds the edge cases sqlite3 3.40 itself reads back wrongly, e.g. 5e-324: compared by count only.)
    const opts = { rowids: false, skip: ["values"] };
    expect(contentDiff(appPart(readContent(t.dbPath, opts)), appPart(readContent(reference, opts)))).toEqual([]);
    const count = (file: string) => Number((new Database(file).prepare('SELECT count(*) FROM "values"').raw(true).all() as unknown[][])[0]![0]);
    expect(count(t.dbPath)).toBe(count(source.dbPath));

    const early = await makeEngine({ corpus: { bigRows: 5 }, migrations: MIGRATIONS.filter((m) => m.version === 1) });
    exec(
      early.dbPath,
      "DROP TABLE lifeboat_users; DROP TABLE lifeboat_audit; DROP TABLE lifeboat_scheduled_runs; DROP TABLE lifeboat_revoked_tokens; DROP TABLE lifeboat_session_epochs; DELETE FROM lifeboat_migrations WHERE version > 1;",
    );
    const kept = await early.engine.importFile(dump, { actor: "cli" });
    expect(kept.migrated).toEqual([]);
    const tables = (await early.db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'lifeboat%' ORDER BY name")).rows.map((r) => r.name);
    expect(tables).toEqual(["lifeboat_meta", "lifeboat_migrations"]);
  });
});
