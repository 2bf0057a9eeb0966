import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { contentDiff, readContent } from "../backups/support/content.ts";
import { buildCorpus } from "../backups/support/corpus.ts";
import { sqlite3Dump } from "../backups/support/sqlite3.ts";
import { runCli } from "../support/cli.ts";
import { tempDir } from "../support/temp.ts";

async function setup(): Promise<{ env: Record<string, string>; dbPath: string; backupDir: string }> {
  const dataDir = await tempDir();
  const dbPath = path.join(dataDir, "app.db");
  buildCorpus(dbPath, { bigRows: 200 });
  return { env: { DATA_DIR: dataDir }, dbPath, backupDir: path.join(dataDir, "backups") };
}

// Each test starts the CLI as a new process six to ten times: under a second of CPU each from
// the bundle, several times that in wall time when the two cores are shared with other work.
// The first backup goes through tsx exactly as `npm run lifeboat -- backup` runs it.
describe("npm run lifeboat", { timeout: 180_000 }, () => {
  it("backup, list, verify and import a backup by name (exit code 0)", async () => {
    const { env, dbPath, backupDir } = await setup();
    const before = readContent(dbPath);
    const made = await runCli(["backup"], env, { tsx: true });
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const name = /(lifeboat-\d{8}-\d{6}-manual\.sql)/.exec(made.stdout)![1]!;
    expect(made.stdout).toMatch(/sha256 [0-9a-f]{64}/);

    const list = await runCli(["list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^NAME .*\\n${name.replace(/\./g, "\\.")} .* manual +cli`, "m"));
    const listed = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { name: string; trigger: string; actor: string }[];
    expect(listed).toEqual([expect.objectContaining({ name, trigger: "manual", actor: "cli" })]);

    const verify = await runCli(["verify", name], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/restores cleanly/);
    expect(verify.stdout).toMatch(/matches the recorded one/);
    expect(verify.stdout).toMatch(/19 tables/);

    const db = new Database(dbPath);
    db.exec("DELETE FROM big; DROP VIEW v2;");
    db.close();
    const imported = await runCli(["import", name], env);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`Imported ${name.replace(/\./g, "\\.")}: 19 tables`));
    expect(imported.stdout).toMatch(/Safety backup of the previous database: lifeboat-\d{8}-\d{6}-pre-import(-\d+)?\.sql/);
    expect(contentDiff(readContent(dbPath), before)).toEqual([]);
    expect((await fs.readdir(backupDir)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("imports a file from any path (stored as an upload) and verifies a sqlite3-style file without a header", async () => {
    const { env, dbPath, backupDir } = await setup();
    const other = await setup();
    const exported = JSON.parse((await runCli(["backup", "--json"], other.env)).stdout) as { name: string };
    const file = path.join(other.backupDir, exported.name);
    const expected = readContent(other.dbPath);

    const verify = await runCli(["verify", file, "--json"], env);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, tables: 19, header: { trigger: "manual" } });

    const imported = await runCli(["import", file], env);
    expect(imported.code).toBe(0);
    expect(contentDiff(readContent(dbPath), expected)).toEqual([]);
    const triggers = ((JSON.parse((await runCli(["list", "--json"], env)).stdout)) as { trigger: string }[]).map((b) => b.trigger).sort();
    expect(triggers).toEqual(["pre-import", "upload"]);
    await fs.access(file); // the original file is left alone
    expect((await fs.readdir(backupDir)).filter((f) => f.startsWith("."))).toEqual([]);

    const cliDump = path.join(await tempDir(), "cli.sql");
    await sqlite3Dump(other.dbPath, cliDump);
    const v = await runCli(["verify", cliDump], env);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/header +none \(not written by Lifeboat/);

    // A plain application dump has no Lifeboat tables: it restores the application and keeps Lifeboat's accounts (issue 10).
    const plain = path.join(await tempDir(), "plain.sql");
    await fs.writeFile(plain, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\nINSERT INTO t VALUES(1);\nCOMMIT;\n");
    const checked = await runCli(["verify", plain], env);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/kind +plain: application tables only; Lifeboat's current accounts would be kept/);
  });

  it("exit code 3 for an invalid backup, and the database is left as it was", async () => {
    const { env, dbPath, backupDir } = await setup();
    const before = readContent(dbPath);
    const hostile = path.join(await tempDir(), "evil.sql");
    await fs.writeFile(hostile, "CREATE TABLE t (a);\nATTACH DATABASE '/tmp/x.db' AS x;\n");
    for (const cmd of ["verify", "import"]) {
      const r = await runCli([cmd, hostile], env);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`^lifeboat ${cmd}: line 2: ATTACH`));
    }
    expect(contentDiff(readContent(dbPath), before)).toEqual([]);
    expect(await fs.readdir(backupDir)).toEqual([]);

    // A listed backup changed since it was written fails verification.
    const made = JSON.parse((await runCli(["backup", "--json"], env)).stdout) as { name: string };
    const file = path.join(backupDir, made.name);
    await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace("'Alice'", "'Alicia'"));
    const v = await runCli(["verify", made.name], env);
    expect(v.code).toBe(3);
    expect(v.stderr).toMatch(/differs from the one recorded/);
  });

  it("exit code 2 for usage errors, 4 when busy, 1 for other errors", async () => {
    const { env, backupDir } = await setup();
    for (const args of [[], ["frobnicate"], ["verify"], ["import"], ["list", "extra"], ["backup", "--force"], ["import", "no-such-file.sql"]]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^lifeboat/);
    }
    const restore = await runCli(["restore"], env);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/^lifeboat: restore needs --latest \(or use import <name> for a given backup\)/);
    const latest = await runCli(["list", "--latest"], env);
    expect(latest.code).toBe(2);
    expect(latest.stderr).toMatch(/^lifeboat: unknown option --latest/);
    // `npx deno task lifeboat -- list --json` hands its `--` on: skipped, the rest still read as options.
    const dashed = await runCli(["--", "list", "--json"], env);
    expect(dashed.code, dashed.stderr).toBe(0);
    expect(JSON.parse(dashed.stdout)).toEqual([]);
    const help = await runCli(["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 error, 2 usage/);

    const holder = spawn("sleep", ["30"]);
    try {
      const host = (await import("node:os")).hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40);
      await fs.writeFile(path.join(backupDir, ".lifeboat.lock"), JSON.stringify({ kind: "import", host, pid: holder.pid, token: "t", startedAt: "now" }));
      const busy = await runCli(["backup"], env);
      expect(busy.code).toBe(4);
      expect(busy.stderr).toMatch(/Another backup or import is running: an import/);
    } finally {
      holder.kill("SIGKILL");
    }

    const empty = await tempDir();
    const none = await runCli(["backup"], { DATA_DIR: empty });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/does not exist; there is nothing to back up/);
    const badEnv = await runCli(["list"], { DATA_DIR: empty, BACKUP_COMPRESSION: "zip" });
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr).toMatch(/BACKUP_COMPRESSION: expected none or gzip/);
  });
});
