import { Buffer } from "node:buffer";
import type { ApplyConnection, MigrationSpec } from "./connection.ts";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { InvalidBackupError } from "../../errors.ts";
import { decryptedDump, gunzipStream, openDumpFile, readDumpBatches, sniffDump, type DumpHeader, type DumpStatement } from "../../dump/reader.ts";
import { fileHandleStream } from "../../dump/file-stream.ts";
import { quoteIdent, quoteText, toBytes, type SqlArg } from "../../dump/writer.ts";
import { guarded, isLifeboatName, LIVE_TABLES, LifeboatGuard, type LifeboatContent } from "../lifeboat-tables.ts";
import { checkLifeboatRows } from "../lifeboat-rows.ts";
import { MIGRATIONS_TABLE, MIGRATIONS_TABLE_SQL } from "../migrations/table.ts";
import { CURRENT_SCRYPT, type ScryptParams } from "../../users/password.ts";

/**
 * Import: the validation pass over a dump file and the all-or-nothing apply
 * step. The apply functions take an `ApplyConnection` inside a write
 * transaction the caller opened, so the same code runs in the backup worker
 * (raw libsql on a local file) and on `@libsql/client` (a remote database).
 */

const USERS_TABLE = "lifeboat_users";
/** Statements of at most this many bytes are sent to SQLite together (fast for sqlite3 .dump files). */
const CHUNK_BYTES = 4 * 1024;
const READ_BYTES = 256 * 1024;

/** What the validation pass learned about a file. */
export interface ValidatedDump {
  header: DumpHeader | null;
  /** Hex sha256 of the file as stored (compressed bytes for gzip). */
  sha256: string;
  /** Bytes of the file as stored. */
  size: number;
  compressed: boolean;
  /** age-encrypted (decrypted with the configured identities to be checked). */
  encrypted: boolean;
  statements: number;
  /** Whether the file carries Lifeboat's tables (`lifeboat`) or only the application's (`plain`). */
  content: LifeboatContent;
}

/** Statements sent to SQLite in one call; more than one only for small row statements. */
interface StatementChunk {
  statements: { sql: string; line: number }[];
}

/** Bounds of what an import reads (MAX_IMPORT_BYTES, MAX_STATEMENT_BYTES). */
export interface ReadLimits {
  maxTotalBytes: number;
  maxStatementBytes: number;
}

/** What the apply pass needs to know from the checking pass. */
export interface ApplyPlan {
  content: LifeboatContent;
  migrations: readonly MigrationSpec[];
  limits?: ReadLimits;
  /** age identities to decrypt an encrypted file with (BACKUP_AGE_IDENTITY_FILE). */
  identities?: readonly string[];
}

export interface FinishImportOptions {
  /** What the checking pass found: Lifeboat's rows are checked only when the dump brought them. */
  content: LifeboatContent;
  /** The scrypt cost Lifeboat writes; a stored hash with any other is refused. Default: `CURRENT_SCRYPT`. */
  scrypt?: ScryptParams;
  /** Row counts from the dump's header; checked when present. */
  headerRowCounts: Record<string, number> | null;
  migrations: readonly MigrationSpec[];
  /** ISO time recorded for migrations applied now. */
  now: string;
}

export interface ApplyOutcome {
  tables: number;
  rows: number;
  /** Rows per table as restored (before Lifeboat's migrations), for the restore preview. */
  tableRows: Record<string, number>;
  /** Enabled admin accounts after the restore; null when the result has no users table. */
  admins: string[] | null;
  migrated: number[];
  /** Milliseconds per step (counts, migrations, quick_check, foreign_key_check), for the debug log. */
  timings: Record<string, number>;
}

/**
 * Reads the whole file through the dump reader — every statement checked
 * against the allow-list — without touching any database, and hashes the bytes
 * as stored on the way. Throws `InvalidBackupError` naming the line and reason
 * for the first problem (hostile statement, truncated file, invalid UTF-8,
 * damaged gzip, binary junk, no statements at all).
 */
export async function validateDumpFile(
  filePath: string,
  options: { onBytes?: (n: number) => void; migrations: readonly MigrationSpec[]; limits?: ReadLimits; identities?: readonly string[] },
): Promise<ValidatedDump> {
  const fh = await fs.open(filePath, "r");
  try {
    const probe = new Uint8Array(512);
    const { bytesRead } = await fh.read(probe, 0, probe.length, 0);
    const kind = sniffDump(probe.subarray(0, bytesRead));
    const hash = createHash("sha256");
    let size = 0;
    const raw = fileHandleStream(fh, {
      chunkBytes: READ_BYTES,
      tap: (b) => {
        hash.update(b);
        size += b.byteLength;
        options.onBytes?.(b.byteLength);
      },
    });
    let compressed = kind === "gzip";
    const text =
      kind === "age"
        ? await decryptedDump(raw, probe.subarray(0, bytesRead), options.identities ?? [], (gz) => (compressed = gz))
        : kind === "gzip"
          ? gunzipStream(raw)
          : raw;
    let header: DumpHeader | null = null;
    let statements = 0;
    const guard = new LifeboatGuard(options.migrations);
    for await (const batch of guarded(readDumpBatches(text, { onHeader: (h) => (header = h), ...options.limits }), guard)) statements += batch.length;
    if (statements === 0) throw new InvalidBackupError("the file holds no SQL statements");
    return { header, sha256: hash.digest("hex"), size, compressed, encrypted: kind === "age", statements, content: guard.result() };
  } finally {
    await fh.close();
  }
}

/** The statements of a dump file, validated again as they are read (the apply pass). */
async function* readDumpFile(
  filePath: string,
  onHeader?: (h: DumpHeader | null) => void,
  limits?: ReadLimits,
  identities: readonly string[] = [],
): AsyncGenerator<DumpStatement[]> {
  yield* readDumpBatches(await openDumpFile(filePath, { identities }), { ...(onHeader ? { onHeader } : {}), ...limits });
}

/** Statements the importer handles itself rather than passing to SQLite. */
function isManaged(s: DumpStatement): boolean {
  if (s.kind === "begin" || s.kind === "commit") return true; // the import owns its transaction
  // Lifeboat's tables and indexes are built from its migrations, never from a dump's DDL.
  if ((s.kind === "create-table" || s.kind === "create-index") && isLifeboatName(s.name ?? "")) return true;
  // foreign_keys cannot change inside a transaction; the import defers and checks them instead.
  return s.kind === "pragma" && s.pragma?.name === "foreign_keys";
}

const BATCHABLE = new Set(["insert", "sequence-insert", "stat-insert"]);

/**
 * Groups validated statements into chunks for SQLite: row statements together
 * up to `CHUNK_BYTES` (one call per ~4 KB is what keeps sqlite3 .dump files
 * fast), everything else alone so a failure names its statement. Yields arrays
 * of chunks of about `groupBytes` (what one message to the worker carries).
 */
async function* chunkStatements(
  batches: AsyncIterable<DumpStatement[]>,
  groupBytes = 256 * 1024,
): AsyncGenerator<StatementChunk[]> {
  let group: StatementChunk[] = [];
  let groupSize = 0;
  let open: StatementChunk | null = null;
  let openSize = 0;
  const closeOpen = () => {
    if (open) {
      group.push(open);
      groupSize += openSize;
      open = null;
      openSize = 0;
    }
  };
  for await (const batch of batches) {
    for (const s of batch) {
      if (isManaged(s)) continue;
      const size = s.sql.length + 2;
      if (BATCHABLE.has(s.kind) && size < CHUNK_BYTES) {
        if (open && openSize + size > CHUNK_BYTES) closeOpen();
        open ??= { statements: [] };
        open.statements.push({ sql: s.sql, line: s.line });
        openSize += size;
      } else {
        closeOpen();
        group.push({ statements: [{ sql: s.sql, line: s.line }] });
        groupSize += size;
      }
      if (groupSize >= groupBytes) {
        yield group;
        group = [];
        groupSize = 0;
      }
    }
  }
  closeOpen();
  if (group.length) yield group;
}

function sqliteReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^SQLITE_\w+:\s*/, "");
}

async function names(conn: ApplyConnection, sql: string, args: SqlArg[] = []): Promise<string[]> {
  return (await conn.query(sql, args)).map((r) => Buffer.from(toBytes(r[0])).toString("utf8"));
}

/**
 * Drops every object of the current database (triggers and views first, then
 * tables with their indexes) and empties sqlite_sequence, inside the caller's
 * transaction. With `keepLifeboat`, Lifeboat's own tables, their indexes and
 * their AUTOINCREMENT counters stay (a plain dump replaces the application
 * only). Foreign key checks are deferred to the end (a no-op when the
 * connection has them off, as the worker's has).
 */
async function clearDatabase(conn: ApplyConnection, options: { keepLifeboat?: boolean } = {}): Promise<void> {
  await conn.exec("PRAGMA defer_foreign_keys=ON");
  for (const type of ["trigger", "view"] as const) {
    for (const name of await names(conn, "SELECT CAST(name AS BLOB) FROM sqlite_schema WHERE type = ?1 ORDER BY rowid DESC", [type])) {
      await conn.exec(`DROP ${type.toUpperCase()} IF EXISTS ${quoteIdent(name)}`);
    }
  }
  // A virtual table's shadow tables go with it (DROP of the virtual table drops them).
  const tables = await names(
    conn,
    `SELECT CAST(name AS BLOB) FROM sqlite_schema WHERE type = 'table' AND name NOT IN (${SHADOW_TABLES}) ORDER BY rowid DESC`,
  );
  for (const name of tables) {
    const lower = name.toLowerCase();
    if (lower === "sqlite_sequence") continue;
    if (lower.startsWith("sqlite_") && !/^sqlite_stat[1-4]$/.test(lower)) continue;
    if (options.keepLifeboat && isLifeboatName(name)) continue;
    await conn.exec(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
  }
  if (tables.some((t) => t.toLowerCase() === "sqlite_sequence")) await conn.exec("DELETE FROM sqlite_sequence");
  // A dump that does not set them (sqlite3 .dump) restores them as a new database has them.
  await conn.exec("PRAGMA user_version=0; PRAGMA application_id=0");
  await conn.settle?.();
}

/** The shadow tables of the main database's virtual tables (their modules own them). */
const SHADOW_TABLES = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'";

/** Lifeboat's tables as its migrations build them up to `version` (the dump's rows go in next). */
async function buildLifeboatTables(conn: ApplyConnection, migrations: readonly MigrationSpec[], version: number): Promise<void> {
  await conn.exec(MIGRATIONS_TABLE_SQL);
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version > version) break;
    try {
      for (const sql of m.up) await conn.exec(sql);
    } catch (err) {
      throw new InvalidBackupError(`Lifeboat migration ${m.version} (${m.name}) failed while rebuilding Lifeboat's tables: ${sqliteReason(err)}`);
    }
  }
}

/** Where a live table's rows wait (in the connection's TEMP schema) while the import rebuilds Lifeboat's tables. */
const asideName = (table: string) => quoteIdent(`kept_${table}`);

async function tableExists(conn: ApplyConnection, schema: "main" | "temp", table: string): Promise<boolean> {
  return Number(await scalar(conn, `SELECT count(*) FROM ${schema}.sqlite_schema WHERE type = 'table' AND name = ?1`, [table])) > 0;
}

/**
 * Copies the rows of Lifeboat's live tables (signed-out tokens, session
 * epochs) into TEMP tables before a `lifeboat` import drops Lifeboat's tables;
 * `putLiveTablesBack` restores them afterwards. Inside the import's transaction,
 * so a rollback leaves everything as it was.
 */
async function setLiveTablesAside(conn: ApplyConnection): Promise<void> {
  for (const table of LIVE_TABLES) {
    await conn.exec(`DROP TABLE IF EXISTS temp.${asideName(table)}`);
    if (await tableExists(conn, "main", table)) {
      await conn.exec(`CREATE TEMP TABLE ${asideName(table)} AS SELECT * FROM main.${quoteIdent(table)}`);
    }
  }
}

/**
 * After the migrations brought Lifeboat's tables forward: the live tables hold
 * exactly what they held before the import, whatever the backup carried (a
 * database without them, e.g. verify's scratch one, ends up with them empty).
 */
async function putLiveTablesBack(conn: ApplyConnection): Promise<void> {
  for (const table of LIVE_TABLES) {
    if (!(await tableExists(conn, "main", table))) continue;
    await conn.exec(`DELETE FROM main.${quoteIdent(table)}`);
    if (await tableExists(conn, "temp", `kept_${table}`)) {
      await conn.exec(`INSERT INTO main.${quoteIdent(table)} SELECT * FROM temp.${asideName(table)}`);
      await conn.exec(`DROP TABLE temp.${asideName(table)}`);
    }
  }
}

/** AUTOINCREMENT counters of Lifeboat's tables, as they are now. */
async function lifeboatSequences(conn: ApplyConnection): Promise<unknown[][]> {
  const exists = await scalar(conn, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'");
  if (Number(exists) === 0) return [];
  return conn.query("SELECT CAST(name AS BLOB), seq FROM sqlite_sequence WHERE name LIKE 'lifeboat\\_%' ESCAPE '\\'");
}

/**
 * The apply pass, inside the caller's write transaction: clears the database
 * (keeping Lifeboat's tables for a plain dump, else building them from the
 * migrations at the dump's schema version), then runs every statement of the
 * file, read and checked again as it streams (Lifeboat's DDL in the dump is
 * skipped; its rows go into the tables just built). `onChunk` sees the bytes of
 * each group (the worker collects garbage by it). Returns the file's header.
 */
export async function applyDump(
  conn: ApplyConnection,
  filePath: string,
  plan: ApplyPlan,
  onChunk?: (bytes: number) => void,
): Promise<DumpHeader | null> {
  const plain = plan.content.kind === "plain";
  const kept = plain ? await lifeboatSequences(conn) : [];
  if (!plain) await setLiveTablesAside(conn);
  await clearDatabase(conn, { keepLifeboat: plain });
  if (!plain) await buildLifeboatTables(conn, plan.migrations, plan.content.schemaVersion ?? 0);
  let header: DumpHeader | null = null;
  const guard = new LifeboatGuard(plan.migrations);
  for await (const group of chunkStatements(guarded(readDumpFile(filePath, (h) => (header = h), plan.limits, plan.identities), guard))) {
    let bytes = 0;
    for (const chunk of group) {
      await applyChunk(conn, chunk);
      for (const st of chunk.statements) bytes += st.sql.length;
    }
    onChunk?.(bytes);
  }
  const seen = guard.result();
  if (seen.kind !== plan.content.kind || seen.schemaVersion !== plan.content.schemaVersion) {
    throw new InvalidBackupError(
      "the file does not hold what its check found, or what Lifeboat recorded for it, of Lifeboat's own tables: it changed since; nothing was imported",
    );
  }
  if (plain) {
    // The dump's `DELETE FROM sqlite_sequence` and its counters must not touch Lifeboat's tables.
    const hasSequence = Number(await scalar(conn, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'")) > 0;
    if (hasSequence) await conn.exec("DELETE FROM sqlite_sequence WHERE name LIKE 'lifeboat\\_%' ESCAPE '\\'");
    for (const [name, seq] of kept) {
      const text = Buffer.from(toBytes(name)).toString("utf8");
      await conn.exec(`INSERT INTO sqlite_sequence (name, seq) VALUES (${quoteText(text)}, ${BigInt(seq as bigint | number).toString()})`);
    }
  }
  return header;
}

const SAVEPOINT = "lifeboat_chunk";

/**
 * Runs one chunk. A single statement runs as it is; several run inside a
 * savepoint so that, when one fails, the chunk is undone and replayed one by
 * one to name the failing statement's line. Throws `InvalidBackupError(reason, line)`.
 */
async function applyChunk(conn: ApplyConnection, chunk: StatementChunk): Promise<void> {
  const stmts = chunk.statements;
  if (stmts.length === 1) {
    try {
      await conn.exec(stmts[0]!.sql);
    } catch (err) {
      throw new InvalidBackupError(sqliteReason(err), stmts[0]!.line, { cause: err });
    }
    return;
  }
  let sql = `SAVEPOINT ${SAVEPOINT};\n`;
  for (const s of stmts) sql += s.sql + ";\n";
  sql += `RELEASE ${SAVEPOINT}`;
  try {
    await conn.exec(sql);
  } catch (err) {
    await conn.exec(`ROLLBACK TO ${SAVEPOINT}; RELEASE ${SAVEPOINT}`);
    for (const s of stmts) {
      try {
        await conn.exec(s.sql);
      } catch (inner) {
        throw new InvalidBackupError(sqliteReason(inner), s.line, { cause: inner });
      }
    }
    throw new InvalidBackupError(sqliteReason(err), stmts[0]!.line, { cause: err });
  }
}

async function scalar(conn: ApplyConnection, sql: string, args: SqlArg[] = []): Promise<unknown> {
  return (await conn.query(sql, args))[0]?.[0];
}

/** True when some migration creates `table`, i.e. this Lifeboat's schema defines it. */
function migrationsDefine(migrations: readonly MigrationSpec[], table: string): boolean {
  const re = new RegExp(`\\bCREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?["\`\\[]?${table}\\b`, "i");
  return migrations.some((m) => m.up.some((s) => re.test(s)));
}

/**
 * The checks and the Lifeboat part of an import, after every statement ran and
 * before the caller commits: row counts against the header; Lifeboat's own
 * schema (a dump from a newer Lifeboat is refused, an older one is migrated
 * forward in the same transaction); at least one enabled admin when the users
 * table exists; `quick_check` and `foreign_key_check`. Throws
 * `InvalidBackupError` with a readable reason; the caller rolls back.
 */
/** Usernames of the enabled admins in the database being restored; null without a users table. */
async function adminNames(conn: ApplyConnection): Promise<string[] | null> {
  const exists = await scalar(conn, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", [USERS_TABLE]);
  if (Number(exists) === 0) return null;
  const rows = await conn.query(
    `SELECT CAST(username AS BLOB) FROM ${USERS_TABLE} WHERE role = 'admin' AND disabled = 0 ORDER BY username`,
  );
  return rows.map((r) => Buffer.from(toBytes(r[0])).toString("utf8"));
}

export async function finishImport(conn: ApplyConnection, options: FinishImportOptions): Promise<ApplyOutcome> {
  const listed = (
    await conn.query(
      `SELECT CAST(name AS BLOB), name IN (SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'virtual') FROM sqlite_schema WHERE type = 'table' AND name NOT IN (${SHADOW_TABLES}) ORDER BY rowid`,
    )
  )
    .map((r) => ({ name: Buffer.from(toBytes(r[0])).toString("utf8"), virtual: Number(r[1]) === 1 }))
    .filter((t) => !t.name.toLowerCase().startsWith("sqlite_"));
  // Virtual tables count where the header lists them (fts5vocab tables, and
  // those of a sqlite3 .dump, have no row count of their own to compare).
  const tables = listed
    .filter((t) => !t.virtual || (options.headerRowCounts !== null && Object.hasOwn(options.headerRowCounts, t.name)))
    .map((t) => t.name);
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - mark);
    mark = now;
  };
  const counts = new Map<string, number>();
  for (const t of tables) counts.set(t, Number(await scalar(conn, `SELECT count(*) FROM ${quoteIdent(t)}`)));

  if (options.headerRowCounts) {
    for (const [table, expected] of Object.entries(options.headerRowCounts)) {
      const actual = counts.get(table);
      if (actual === undefined) {
        throw new InvalidBackupError(`the header lists table ${table}, but the file does not create it`);
      }
      if (actual !== expected) {
        throw new InvalidBackupError(`table ${table} has ${actual} rows after the import, but the header says ${expected}`);
      }
    }
    const unlisted = tables.filter((t) => !Object.hasOwn(options.headerRowCounts!, t));
    if (unlisted.length > 0) {
      throw new InvalidBackupError(`the file creates table ${unlisted[0]} which its header does not list`);
    }
  }

  lap("countsMs");
  const migrated: number[] = [];
  if (options.content.kind === "lifeboat") {
    // Lifeboat's tables were built by the migrations up to the dump's version and
    // filled with its rows; the record must say exactly that before migrating forward.
    const latest = options.migrations.reduce((max, m) => Math.max(max, m.version), 0);
    const applied = new Set(
      (await conn.query(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`)).map((r) => Number(r[0])),
    );
    const newest = Math.max(0, ...applied);
    if (newest > latest) {
      throw new InvalidBackupError(
        `the backup comes from a newer Lifeboat (schema version ${newest}; this Lifeboat knows up to ${latest}). Upgrade Lifeboat before restoring it`,
      );
    }
    const expected = options.migrations.filter((m) => m.version <= (options.content.schemaVersion ?? 0)).map((m) => m.version);
    const missing = expected.filter((v) => !applied.has(v));
    const unknown = [...applied].filter((v) => !expected.includes(v));
    if (missing.length > 0 || unknown.length > 0) {
      throw new InvalidBackupError(
        `${MIGRATIONS_TABLE} in the backup does not match Lifeboat's migrations (${missing.length ? `missing version ${missing[0]}` : `unknown version ${unknown[0]}`})`,
      );
    }
    for (const m of [...options.migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      try {
        for (const sql of m.up) await conn.exec(sql);
        await conn.exec(
          `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (${Math.trunc(m.version)}, ${quoteText(m.name)}, ${quoteText(options.now)})`,
        );
      } catch (err) {
        throw new InvalidBackupError(
          `Lifeboat migration ${m.version} (${m.name}) cannot run on the restored data: ${sqliteReason(err)}`,
        );
      }
      migrated.push(m.version);
    }
    // Sessions ended since the backup stay ended, and its own records of them are not taken.
    await putLiveTablesBack(conn);
    // Every row of Lifeboat's tables is checked as Lifeboat will read it.
    await checkLifeboatRows(conn, { scrypt: options.scrypt ?? CURRENT_SCRYPT, usersDefined: migrationsDefine(options.migrations, USERS_TABLE) });
  } else if (Number(await scalar(conn, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", [USERS_TABLE])) > 0) {
    // A plain dump keeps Lifeboat's current accounts (none in verify's scratch database); they must still let someone in.
    await checkLifeboatRows(conn, { scrypt: options.scrypt ?? CURRENT_SCRYPT, usersDefined: true, adminOnly: true });
  }

  lap("migrationsMs");
  await conn.settle?.();
  // quick_check, not integrity_check: the one thing it leaves out is whether every index holds
  // exactly its table's rows (UNIQUE included). Every index here was built or filled by SQLite
  // itself in this transaction from the rows it inserted, with UNIQUE enforced on each insert, so
  // that holds by construction; the full check cost ten times as much (README, "What each check proves").
  const integrity = await conn.query("PRAGMA quick_check(10)");
  lap("quickCheckMs");
  const problems = integrity.map((r) => Buffer.from(toBytes(r[0])).toString("utf8")).filter((m) => m !== "ok");
  if (problems.length > 0) {
    throw new InvalidBackupError(`the restored database fails quick_check: ${problems.slice(0, 3).join("; ")}`);
  }
  const violations = await conn.query(
    "SELECT CAST(\"table\" AS BLOB), rowid, CAST(parent AS BLOB) FROM pragma_foreign_key_check LIMIT 3",
  );
  if (violations.length > 0) {
    const [t, rowid, parent] = violations[0]!;
    const text = (v: unknown) => Buffer.from(toBytes(v)).toString("utf8");
    throw new InvalidBackupError(
      `the restored data fails foreign_key_check: a row of ${text(t)}${rowid === null ? "" : ` (rowid ${String(rowid)})`} refers to a missing row of ${text(parent)}`,
    );
  }

  lap("foreignKeyCheckMs");
  let rows = 0;
  for (const t of tables) rows += counts.get(t) ?? 0;
  return { tables: tables.length, rows, tableRows: Object.fromEntries(counts), admins: await adminNames(conn), migrated, timings };
}
