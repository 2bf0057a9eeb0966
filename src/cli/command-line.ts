import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatBytes } from "../bytes.ts";
import { systemClock, systemTimers } from "../clock.ts";
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { AppError, BusyError, InvalidBackupError, NotFoundError, ValidationError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { redactCredentials } from "../redact.ts";
import type { BackupEngine } from "../backups/engine.ts";
import { openBackupEngine } from "../backups/open.ts";
import { isSafeBackupName } from "../storage/names.ts";
import type { BackupMeta } from "../backups/types.ts";

/** Exit codes of `npm run lifeboat` (documented in the README and in `USAGE`). */
const EXIT = { ok: 0, error: 1, usage: 2, invalidBackup: 3, busy: 4 } as const;

const USAGE = `Usage: npm run lifeboat -- <command> [--json]

Commands:
  backup            Take a backup now (trigger "manual", actor "cli").
  list              List the backups in BACKUP_DIR (and the bucket), newest
                    first, with where each one is.
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
With BACKUP_S3_BUCKET, list shows the bucket's backups too, backup copies the
new backup off-site before it ends, and verify/import/restore fetch an
off-site-only backup first. Other backups the command line writes (the safety
backup of an import) are copied off-site by the server at its next start.

Exit codes: 0 ok, 1 error, 2 usage (unknown command, missing or unknown
file), 3 invalid backup (refused file, failed verification), 4 busy or locked
(another backup or import runs, or the database is locked).`;

export interface CommandLineIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}

const COMMANDS = ["backup", "list", "verify", "import", "restore"] as const;
type Command = (typeof COMMANDS)[number];
const isCommand = (word: string): word is Command => (COMMANDS as readonly string[]).includes(word);

const OPTIONS = {
  json: { type: "boolean" },
  latest: { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** What the arguments ask for: the help, or one command with its file. */
type Invocation = { help: true } | { help: false; command: Command; file: string | undefined; json: boolean };

/** parseArgs's own error as the short usage message the CLI prints (`unknown option --force`). */
function usageErrorOf(err: unknown): UsageError {
  const code = (err as { code?: unknown }).code;
  const option = /'([^']+)'/.exec((err as Error).message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return new UsageError(`unknown option ${option}`);
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) return new UsageError(`option ${option} takes no value`);
  return new UsageError((err as Error).message);
}

/**
 * Reads the arguments with `node:util` `parseArgs`. `--help` (or `help`) wins
 * over everything else; anything else wrong throws a `UsageError`.
 */
function parseInvocation(argv: readonly string[]): Invocation {
  // `npx deno task lifeboat -- list` hands its `--` on to the program (`npm run` drops it).
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  const loose = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: false });
  if (loose.values.help === true || loose.positionals[0] === "help") return { help: true };
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw usageErrorOf(err);
  }
  const [command, file, ...extra] = parsed.positionals;
  if (!command) throw new UsageError("no command given");
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"`);
  const needsFile = command === "verify" || command === "import";
  if (needsFile && !file) throw new UsageError(`${command} needs a file: a backup name or a path`);
  if ((!needsFile && file !== undefined) || extra.length > 0) throw new UsageError("too many arguments");
  const latest = parsed.values.latest === true;
  if (latest && command !== "restore") throw new UsageError("unknown option --latest");
  if (command === "restore" && !latest) throw new UsageError("restore needs --latest (or use import <name> for a given backup)");
  return { help: false, command, file, json: parsed.values.json === true };
}

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
 * `import <file>`) with the same engine and rules as the server, opened by the
 * same `openBackupEngine`. Returns the exit code; writes results to `io.stdout`
 * and errors to `io.stderr`, both without credentials (a driver error quotes
 * DATABASE_URL whole).
 */
export async function runCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  rawIo: CommandLineIo,
): Promise<number> {
  const io: CommandLineIo = {
    stdout: (text) => rawIo.stdout(redactCredentials(text)),
    stderr: (text) => rawIo.stderr(redactCredentials(text)),
  };
  let invocation: Invocation;
  try {
    invocation = parseInvocation(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`lifeboat: ${err.message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (invocation.help) {
    io.stdout(USAGE + "\n");
    return EXIT.ok;
  }
  const { command, file, json } = invocation;

  let config: Config;
  try {
    config = await loadConfig(env);
  } catch (err) {
    io.stderr(`lifeboat: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    return EXIT.error;
  }
  // Quiet unless asked: the command's own output is what matters here. Logs go to stderr.
  const logger = createLogger({
    level: env.LOG_LEVEL ? config.logLevel : "error",
    write: (line) => io.stderr(line + "\n"),
  });

  let opened: Awaited<ReturnType<typeof openBackupEngine>> | undefined;
  /** The engine, opened as the server opens it; `import` needs a client on a local database too (and creates it when missing). */
  const engineFor = async (database: "always" | "if-remote") => {
    opened = await openBackupEngine({ config, logger, clock: systemClock, timers: systemTimers, database });
    return opened.engine;
  };

  try {
    switch (command) {
      case "list": {
        const backups = await (await engineFor("if-remote")).listBackups();
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
        const engine = await engineFor("if-remote");
        const b = await engine.createBackup({ trigger: "manual", actor: "cli" });
        // The copy off-site belongs to the backup: one attempt, waited for. A failure is reported; the
        // local backup stays, and the server copies it at its next start.
        const copyError = await engine.copyOffsite(b.name);
        if (copyError) io.stderr(`lifeboat backup: the backup is here, but not off-site yet: ${copyError}\n`);
        if (json) io.stdout(JSON.stringify(b, null, 2) + "\n");
        else io.stdout(`Backup created: ${path.join(config.backupDir, b.name)} (${formatBytes(b.size, "binary")}, sha256 ${b.sha256})\n`);
        if (!json && b.restoreProblems) io.stderr(`Warning: Lifeboat cannot restore this backup: ${b.restoreProblems.join("; ")}\n`);
        return EXIT.ok;
      }
      case "verify": {
        const engine = await engineFor("if-remote");
        const listed = await findListed(engine, file!);
        const target = listed ? path.join(config.backupDir, listed.name) : await requireFile(file!);
        let result;
        if (listed) {
          // A listed backup: checked against its recorded sha256, and the outcome recorded with it; an
          // off-site-only one is fetched (streamed, sha256 checked) into the backup folder first.
          const report = await engine.verifyBackup(listed.name);
          if (!report.ok) throw new InvalidBackupError(report.message ?? "the backup failed verification");
          result = report.result!;
        } else {
          result = await engine.verifyFile(target);
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
              result.content.kind === "plain"
                ? "  kind     plain: application tables only; Lifeboat's current accounts would be kept"
                : "  kind     lifeboat: with Lifeboat's accounts, audit trail and schedule state, which a restore replaces",
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
        const engine = await engineFor("always");
        const latest = (await engine.listBackups())[0];
        if (!latest) {
          throw new UsageError(
            `there is no backup to restore: ${config.backupDir} is empty${config.offsite ? ` and so is ${`s3://${config.offsite.bucket}/${config.offsite.prefix}`}` : " (and BACKUP_S3_BUCKET is not set)"}`,
          );
        }
        if (!json) io.stdout(`Restoring the newest backup, ${latest.name} (${latest.createdAt}, ${latest.location === "offsite" ? "off-site" : "here"})…\n`);
        const result = await engine.importBackup(latest.name, { actor: "cli" });
        if (json) io.stdout(JSON.stringify(result, null, 2) + "\n");
        else io.stdout(`Imported ${result.source}: ${result.tables} tables, ${result.rows} rows. Safety backup: ${result.safetyBackup}\n`);
        return EXIT.ok;
      }
      case "import": {
        const engine = await engineFor("always");
        const listed = await findListed(engine, file!);
        const result = listed
          ? await engine.importBackup(listed.name, { actor: "cli" })
          : await engine.importFile(await requireFile(file!), { actor: "cli" });
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
  }
}
