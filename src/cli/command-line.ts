import fs from "node:fs/promises";
import path from "node:path";
import type { Client } from "@libsql/client";
import { formatBytes } from "../bytes.ts";
import { systemClock } from "../clock.ts";
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { createWriteGate } from "../db/write-gate.ts";
import { AppError, BusyError, InvalidBackupError, NotFoundError, ValidationError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { createBackupEngine, type BackupEngine } from "../backups/engine.ts";
import { isSafeBackupName } from "../storage/names.ts";
import type { BackupMeta } from "../backups/types.ts";

/** Exit codes of `npm run lifeboat` (documented in the README and in `USAGE`). */
const EXIT = { ok: 0, error: 1, usage: 2, invalidBackup: 3, busy: 4 } as const;

const USAGE = `Usage: npm run lifeboat -- <command> [--json]

Commands:
  backup            Take a backup now (trigger "manual", actor "cli").
  list              List the backups in BACKUP_DIR, newest first.
  verify <file>     Check a backup end to end without touching the database:
                    sha256, every statement, and a dry-run restore into a
                    scratch database. <file> is a backup name or a path.
  import <file>     Replace the database with a backup: a "pre-import" safety
                    backup first, then all or nothing. <file> is a backup name
                    or a path (a path is first stored as an "upload" backup).
  restore --latest  Import the newest backup there is, here or off-site (the
                    disaster recovery onto an empty host: same configuration,
                    empty DATA_DIR). Off-site backups are fetched and checked.

Options:
  --json            Print the result as JSON.
  --latest          With restore: the newest backup.
  --help            Show this help.

Configuration comes from the same environment variables as the server
(DATA_DIR, DATABASE_URL, BACKUP_DIR, BACKUP_COMPRESSION, BACKUP_S3_*, …).
With BACKUP_S3_BUCKET, list shows the bucket's backups too, a new backup is
copied off-site before the command ends, and verify/import fetch an
off-site-only backup first.

Exit codes: 0 ok, 1 error, 2 usage (unknown command, missing or unknown
file), 3 invalid backup (refused file, failed verification), 4 busy or locked
(another backup or import runs, or the database is locked).`;

export interface CommandLineIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n");
}

function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof ValidationError || err instanceof NotFoundError) return EXIT.usage;
  if (err instanceof InvalidBackupError) return EXIT.invalidBackup;
  if (err instanceof BusyError) return EXIT.busy;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code)) return EXIT.busy;
  return EXIT.error;
}

/** A backup in the folder by name, or null when `arg` is not one (then it is a path). */
async function findListed(engine: BackupEngine, arg: string): Promise<BackupMeta | null> {
  if (!isSafeBackupName(arg) || arg.includes("/")) return null;
  try {
    return await engine.getBackup(arg);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

async function requireFile(file: string): Promise<string> {
  const st = await fs.stat(file).catch(() => null);
  if (!st) throw new UsageError(`${file}: no such backup in the backup folder, and no such file.`);
  if (!st.isFile()) throw new UsageError(`${file} is not a file.`);
  return path.resolve(file);
}

/**
 * Runs one command of the command line (`backup`, `list`, `verify <file>`,
 * `import <file>`) with the same engine and rules as the server. Returns the
 * exit code; writes results to `io.stdout` and errors to `io.stderr`.
 */
export async function runCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandLineIo,
): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  const args = argv.filter((a) => !a.startsWith("--"));
  const json = flags.has("--json");
  if (flags.has("--help") || args[0] === "help") {
    io.stdout(USAGE + "\n");
    return EXIT.ok;
  }
  const [command, file, ...extra] = args;
  const commands = ["backup", "list", "verify", "import", "restore"];
  const unknownFlag = [...flags].find((f) => f !== "--json" && !(f === "--latest" && command === "restore"));
  const needsFile = command === "verify" || command === "import";
  if (
    unknownFlag ||
    !command ||
    !commands.includes(command) ||
    (needsFile && !file) ||
    (!needsFile && file !== undefined) ||
    (command === "restore" && !flags.has("--latest")) ||
    extra.length > 0
  ) {
    const what = unknownFlag
      ? `unknown option ${unknownFlag}`
      : !command
        ? "no command given"
        : !commands.includes(command)
          ? `unknown command "${command}"`
          : needsFile && !file
            ? `${command} needs a file: a backup name or a path`
            : command === "restore" && !flags.has("--latest")
              ? "restore needs --latest (or use import <name> for a given backup)"
              : "too many arguments";
    io.stderr(`lifeboat: ${what}\n\n${USAGE}\n`);
    return EXIT.usage;
  }

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    io.stderr(`lifeboat: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    return EXIT.error;
  }
  // Quiet unless asked: the command's own output is what matters here. Logs go to stderr.
  const logger = createLogger({
    level: env.LOG_LEVEL ? config.logLevel : "error",
    write: (line) => io.stderr(line + "\n"),
  });
  await fs.mkdir(config.backupDir, { recursive: true, mode: 0o700 });

  let db: Client | undefined;
  let opened: BackupEngine | undefined;
  const engineFor = async (open: boolean) => {
    // A local file needs no client (the backup worker opens it); `import` creates it when missing.
    if (!config.databaseIsLocal || open) db = await openDatabase(config);
    opened = createBackupEngine({ config, ...(db ? { db } : {}), logger, clock: systemClock, writeGate: createWriteGate() });
    await opened.cleanupTemporaryFiles();
    return opened;
  };

  try {
    switch (command) {
      case "list": {
        const backups = await (await engineFor(false)).listBackups();
        if (json) io.stdout(JSON.stringify(backups, null, 2) + "\n");
        else if (backups.length === 0) io.stdout(`No backups in ${config.backupDir}.\n`);
        else {
          io.stdout(
            table([
              ["NAME", "CREATED", "SIZE", "TRIGGER", "ACTOR", "WHERE", "PINNED"],
              ...backups.map((b) => [
                b.name,
                b.createdAt,
                formatBytes(b.size, "binary"),
                b.trigger,
                b.actor ?? "-",
                b.location === "both" ? "here+off-site" : b.location === "offsite" ? "off-site" : "here",
                b.pinned ? "yes" : "",
              ]),
            ]) + "\n",
          );
          for (const b of backups.filter((x) => x.restoreProblems)) {
            io.stdout(`! ${b.name}: Lifeboat cannot restore it: ${b.restoreProblems!.join("; ")}\n`);
          }
        }
        return EXIT.ok;
      }
      case "backup": {
        if (config.databasePath && !(await fs.stat(config.databasePath).catch(() => null))) {
          throw new Error(`The database file ${config.databasePath} does not exist; there is nothing to back up.`);
        }
        const engine = await engineFor(false);
        const b = await engine.createBackup({ trigger: "manual", actor: "cli" });
        // The copy off-site belongs to the backup: wait for it (a failure is reported, the local backup stays).
        await engine.offsiteIdle();
        const copy = engine.offsiteStatus()?.pending.find((p) => p.name === b.name);
        if (copy?.error) io.stderr(`lifeboat backup: the backup is here, but not off-site yet: ${copy.error}\n`);
        if (json) io.stdout(JSON.stringify(b, null, 2) + "\n");
        else io.stdout(`Backup created: ${path.join(config.backupDir, b.name)} (${formatBytes(b.size, "binary")}, sha256 ${b.sha256})\n`);
        if (!json && b.restoreProblems) io.stderr(`Warning: Lifeboat cannot restore this backup: ${b.restoreProblems.join("; ")}\n`);
        return EXIT.ok;
      }
      case "verify": {
        const engine = await engineFor(false);
        const listed = await findListed(engine, file!);
        // An off-site-only backup is fetched (streamed, sha256 checked) into the backup folder first.
        if (listed) await engine.fetchBackup(listed.name);
        const target = listed ? path.join(config.backupDir, listed.name) : await requireFile(file!);
        const result = await engine.verifyFile(target);
        if (listed?.sha256 && listed.sha256 !== result.sha256) {
          throw new InvalidBackupError(
            `the file's sha256 ${result.sha256} differs from the one recorded when it was written (${listed.sha256}); it has changed since`,
          );
        }
        if (json) io.stdout(JSON.stringify({ file: target, ok: true, recordedSha256Matches: listed?.sha256 ? true : null, ...result }, null, 2) + "\n");
        else {
          const h = result.header;
          io.stdout(
            [
              `OK: ${target} restores cleanly.`,
              `  sha256   ${result.sha256}${listed?.sha256 ? " (matches the recorded one)" : ""}`,
              `  size     ${formatBytes(result.size, "binary")}${result.compressed ? " (gzip)" : ""}`,
              `  content  ${result.tables} tables, ${result.rows} rows`,
              h
                ? `  header   Lifeboat ${h.lifeboatVersion ?? "?"}, created ${h.createdAt ?? "?"}, trigger ${h.trigger ?? "?"}`
                : "  header   none (not written by Lifeboat, e.g. sqlite3 .dump)",
              ...(result.migrated.length ? [`  a restore would apply Lifeboat migrations ${result.migrated.join(", ")}`] : []),
            ].join("\n") + "\n",
          );
        }
        return EXIT.ok;
      }
      case "restore": {
        const engine = await engineFor(true);
        const latest = (await engine.listBackups())[0];
        if (!latest) {
          throw new UsageError(
            `there is no backup to restore: ${config.backupDir} is empty${config.offsite ? ` and so is ${`s3://${config.offsite.bucket}/${config.offsite.prefix}`}` : " (and BACKUP_S3_BUCKET is not set)"}`,
          );
        }
        if (!json) io.stdout(`Restoring the newest backup, ${latest.name} (${latest.createdAt}, ${latest.location === "offsite" ? "off-site" : "here"})…\n`);
        const result = await engine.importBackup(latest.name, { actor: "cli" });
        await engine.offsiteIdle();
        if (json) io.stdout(JSON.stringify(result, null, 2) + "\n");
        else io.stdout(`Imported ${result.source}: ${result.tables} tables, ${result.rows} rows. Safety backup: ${result.safetyBackup}\n`);
        return EXIT.ok;
      }
      case "import": {
        const engine = await engineFor(true);
        const listed = await findListed(engine, file!);
        const result = listed
          ? await engine.importBackup(listed.name, { actor: "cli" })
          : await engine.importFile(await requireFile(file!), { actor: "cli" });
        await engine.offsiteIdle();
        if (json) io.stdout(JSON.stringify(result, null, 2) + "\n");
        else {
          io.stdout(
            [
              `Imported ${result.source}: ${result.tables} tables, ${result.rows} rows in ${(result.durationMs / 1000).toFixed(1)} s.`,
              `Safety backup of the previous database: ${result.safetyBackup}`,
              ...(result.migrated.length ? [`Lifeboat migrations applied: ${result.migrated.join(", ")}`] : []),
            ].join("\n") + "\n",
          );
        }
        return EXIT.ok;
      }
    }
    return EXIT.usage;
  } catch (err) {
    const code = exitCodeOf(err);
    const message = err instanceof AppError || err instanceof UsageError ? err.message : (err as Error).message ?? String(err);
    io.stderr(`lifeboat ${command}: ${message}\n`);
    return code;
  } finally {
    // Waits for work after the answer (the WAL checkpoint of an import) before the process exits.
    await opened?.close();
    db?.close();
  }
}
