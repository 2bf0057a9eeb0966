import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/db/migrations/index.ts";
import { InvalidBackupError } from "../../src/errors.ts";
import { contentDiff, readContent } from "./support/content.ts";
import { backupPath, listDir, makeEngine, type TestEngine } from "./support/engine.ts";

/**
 * Issue 15, "stop paying for checks twice": an import's apply reads and checks
 * every statement as it goes, so for bytes whose content (what they hold of
 * Lifeboat's tables) Lifeboat recorded when it wrote or fully checked them, the
 * check before the lock is their sha256 alone. What the apply's own reading
 * refuses still changes nothing.
 */

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

function exec(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

async function sidecar(t: TestEngine, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(backupPath(t, name) + ".json", "utf8")) as Record<string, unknown>;
}

/** Rewrites a backup's bytes and its sidecar's sha256 to match them, as someone with access to the folder could. */
async function rewrite(t: TestEngine, name: string, edit: (text: string) => string, sidecarEdit: (s: Record<string, unknown>) => void = () => {}) {
  const file = backupPath(t, name);
  const text = edit(await fs.readFile(file, "utf8"));
  await fs.writeFile(file, text);
  const s = await sidecar(t, name);
  s.sha256 = createHash("sha256").update(text).digest("hex");
  s.size = Buffer.byteLength(text);
  sidecarEdit(s);
  await fs.writeFile(file + ".json", JSON.stringify(s));
}

function stepLog(t: TestEngine): Record<string, unknown> | undefined {
  return t.logs.findLast((l) => l.msg === "import steps");
}

describe("imports of files whose content Lifeboat recorded", () => {
  it("records what a backup holds of Lifeboat's tables, and imports it checking only its sha256 before the lock", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const backup = await t.engine.createBackup({ trigger: "manual" });
    expect((await sidecar(t, backup.name)).content).toEqual({ kind: "lifeboat", schemaVersion: LATEST });
    const saved = readContent(t.dbPath);
    exec(t.dbPath, "DELETE FROM child; UPDATE no_alias SET qty = -1");

    await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(stepLog(t)?.check).toBe("sha256 (content recorded for these bytes)");
    expect(contentDiff(readContent(t.dbPath), saved)).toEqual([]);
  });

  it("records it for uploads and verified files too (their check read every statement)", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const backup = await t.engine.createBackup({ trigger: "manual" });
    const temp = path.join(t.backupDir, ".upload-plain");
    await fs.writeFile(temp, "CREATE TABLE app_notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO app_notes VALUES (1, 'hello');\n");
    const upload = await t.engine.storeUpload(temp, { actor: "ann" });
    expect((await sidecar(t, upload.name)).content).toEqual({ kind: "plain", schemaVersion: null });

    // A sidecar without it (written before this release) gets it from a verification.
    await rewrite(t, backup.name, (text) => text, (s) => delete s.content);
    await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(stepLog(t)?.check).toBe("every statement");
    expect((await t.engine.verifyBackup(backup.name)).ok).toBe(true);
    expect((await sidecar(t, backup.name)).content).toEqual({ kind: "lifeboat", schemaVersion: LATEST });
    // Pinning rewrites the sidecar and keeps it.
    await t.engine.setPinned(backup.name, true);
    expect((await sidecar(t, backup.name)).content).toEqual({ kind: "lifeboat", schemaVersion: LATEST });
  });

  it("refuses, with the line, a hostile statement in recorded bytes whose sha256 was rewritten to match, and changes nothing", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const backup = await t.engine.createBackup({ trigger: "manual" });
    exec(t.dbPath, "UPDATE no_alias SET qty = -2");
    const before = readContent(t.dbPath);
    await rewrite(t, backup.name, (text) => text.replace(/\nCOMMIT;\n/, "\nSELECT writefile('/tmp/lifeboat-pwned', 'x');\nCOMMIT;\n"));

    const err = await t.engine.importBackup(backup.name, { actor: "ann" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidBackupError);
    expect((err as InvalidBackupError).line).toBeGreaterThan(1);
    expect(stepLog(t)).toBeUndefined(); // nothing was committed
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    await expect(fs.access("/tmp/lifeboat-pwned")).rejects.toThrow();
    // The safety backup of the failed import is gone again: only the backup and its sidecar.
    expect(await listDir(t.backupDir)).toEqual([backup.name, `${backup.name}.json`]);
  });

  it("refuses a file whose recorded content is not what it holds, and changes nothing", async () => {
    const t = await makeEngine({ corpus: { bigRows: 10 } });
    const backup = await t.engine.createBackup({ trigger: "manual" });
    exec(t.dbPath, "UPDATE no_alias SET qty = -2");
    const before = readContent(t.dbPath);
    await rewrite(t, backup.name, (text) => text, (s) => (s.content = { kind: "lifeboat", schemaVersion: 1 }));

    const err = await t.engine.importBackup(backup.name, { actor: "ann" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidBackupError);
    expect(contentDiff(readContent(t.dbPath), before)).toEqual([]);
    expect(await listDir(t.backupDir)).toEqual([backup.name, `${backup.name}.json`]);
  });
});
