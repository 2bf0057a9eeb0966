import { Buffer, isUtf8 } from "node:buffer";
import { UnsupportedDatabaseError } from "../errors.ts";
import { DUMP_END, DUMP_FORMAT_VERSION, DUMP_MAGIC } from "./format.ts";
import { checkSchemaSql } from "./sql-schema-checker.ts";
import { SqlFault } from "./sql-tokenizer.ts";
import { pageNeedsExactPath, textNeedsHex } from "./page-marks.ts";
import { realLiteral } from "./real-literal.ts";
import { shadowTableNames, type VirtualTableSpec } from "./virtual-tables.ts";

/**
 * Writes a Lifeboat dump: SQL text that `sqlite3 new.db < file` and Lifeboat's
 * own import both restore to the same schema and values, type for type.
 *
 * How values stay exact: SQLite itself formats every value (`quote()` prints
 * integers from their 64-bit form and REALs with enough digits to reload
 * bit-for-bit), and one query returns a whole page of rows as one BLOB
 * (`group_concat` of the row literals, cast to BLOB so no text ever passes
 * through a JS string on the way out — libsql aborts the process on TEXT that
 * is not valid UTF-8). Text holding NUL is written as `CAST(X'…' AS TEXT)`
 * (`quote()` would cut it short), and so is text holding CR LF (the sqlite3
 * shell drops a CR before each line feed it reads, even inside a string
 * literal) or invalid UTF-8; ±Infinity as `1e999` and `-1e999` (`quote()`
 * prints `Inf`). Pages use a cheaper expression and are formatted again value
 * by value when their bytes show one of the rare cases (`pageNeedsExactPath`).
 *
 * Pages are keyset ranges (rowid, or the primary key of a WITHOUT ROWID table
 * in its index order and collation), so memory stays at one page whatever the
 * table size, and a remote database is read with one round trip per page.
 * Everything runs inside the caller's read transaction: one snapshot.
 */

/** A value bound to a query. */
export type SqlArg = bigint | number | string | Uint8Array | null;

/**
 * A read-only view of the database inside one read transaction (one snapshot).
 * Rows come back as arrays: integers as bigint, REAL as number, BLOB as
 * Uint8Array, TEXT as string (only ever asked for where it is known to be safe).
 */
export interface SnapshotSource {
  query(sql: string, args?: readonly SqlArg[]): Promise<unknown[][]> | unknown[][];
  /**
   * Lets go of the statements kept so far; called after the schema is read
   * and after each table (see `nativeQuerier` for why it matters).
   */
  settle?(): Promise<void> | void;
}

/**
 * Where the dump's bytes go, in order. A returned promise is awaited
 * (backpressure). The sink may keep `bytes` for a while after that (a file
 * sink writes ahead): a writer never changes bytes it has handed over.
 */
export interface ByteSink {
  write(bytes: Uint8Array): void | Promise<void>;
  /**
   * True when `write` copies the bytes before it returns (or before its
   * promise settles) and takes small pieces cheaply: the writer then hands
   * over each piece as it is made instead of joining them into fresh 256 KiB
   * buffers first (see `createFileSink`).
   */
  readonly copies?: boolean;
}

export interface WriteDumpOptions {
  createdAt: Date;
  trigger: string;
  lifeboatVersion: string;
  /** Target size of one multi-row INSERT, in bytes (default 64 KiB). */
  statementBytes?: number;
}

export interface DumpSummary {
  /** Rows per table, as written in the header. */
  rowCounts: Record<string, number>;
  tables: number;
  rows: number;
  /**
   * Why Lifeboat's own import would refuse this dump (e.g. a CHECK constraint
   * calling a function only the application registers), one line per object;
   * empty when it restores. The file is still written: `sqlite3` restores it.
   */
  restoreProblems: string[];
}

const DEFAULT_STATEMENT_BYTES = 64 * 1024;
const MAX_PAGE_ROWS = 10_000;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** `"name"` with embedded quotes doubled: safe for any identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `'text'` with embedded quotes doubled. */
export function quoteText(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * SQL expression that turns column `c` (already quoted) into its literal as
 * text, for every storage class, exactly. Evaluated by SQLite, so no value is
 * ever converted through a JS number or string. REALs: 17 significant digits
 * (`realSql`); ±Infinity is `±1e999`; -0.0 keeps its sign when the database
 * has `atan2` (`negativeZero`). Text holding NUL or CR LF is `CAST(X'…' AS TEXT)`.
 * REALs below 1e-290 cannot be written this way (see `realLiteral`): the
 * slow path formats them, and the page check sends every page showing one there.
 */
function literalExpr(c: string, negativeZero = false): string {
  return (
    `CASE typeof(${c}) ` +
    `WHEN 'text' THEN CASE WHEN instr(${c}, char(0)) > 0 OR instr(${c}, char(13, 10)) > 0 THEN 'CAST(X''' || hex(${c}) || ''' AS TEXT)' ELSE quote(${c}) END ` +
    `WHEN 'real' THEN CASE WHEN ${c} > 1.7976931348623157e308 THEN '1e999' WHEN ${c} < -1.7976931348623157e308 THEN '-1e999' ` +
    (negativeZero ? `WHEN ${c} = 0.0 AND atan2(${c}, -1.0) < 0 THEN '-0.0' ` : "") +
    `ELSE ${realSql(c)} END ` +
    `ELSE quote(${c}) END`
  );
}

/**
 * A REAL as 17 significant digits. `quote()` writes the shortest form that
 * reads back exactly under correct rounding, but older sqlite3 shells round
 * some of those wrongly (3.40, Debian 12's, turned 8.02781717354724e-05 into
 * a neighbour); 17 digits name one double so plainly that every parser we
 * test reads it back bit for bit (measured with random doubles in the tests).
 */
function realSql(c: string): string {
  return `printf('%!.17g', ${c})`;
}

/**
 * The cheaper expression used for whole pages: it leaves out the checks whose
 * trouble shows in the output bytes (`pageNeedsExactPath`): text with CR LF,
 * `Inf`, tiny REALs. A page where any of them shows is formatted again value
 * by value. NUL (which `quote()` would silently cut off) and -0.0 (which it
 * prints as 0.0) cannot be seen afterwards, so they are handled here.
 */
function fastLiteralExpr(c: string, negativeZero = false): string {
  return (
    `CASE typeof(${c}) ` +
    `WHEN 'text' THEN CASE WHEN instr(${c}, char(0)) > 0 THEN 'CAST(X''' || hex(${c}) || ''' AS TEXT)' ELSE quote(${c}) END ` +
    `WHEN 'real' THEN ${negativeZero ? `CASE WHEN ${c} = 0.0 AND atan2(${c}, -1.0) < 0 THEN '-0.0' ELSE ${realSql(c)} END` : realSql(c)} ` +
    `ELSE quote(${c}) END`
  );
}

/** True when the database has SQLite's math functions (atan2 tells -0.0 from 0.0). */
async function hasMathFunctions(source: SnapshotSource): Promise<boolean> {
  try {
    const r = await source.query("SELECT atan2(-0.0, -1.0) < 0");
    return Number(r[0]?.[0]) === 1;
  } catch {
    return false;
  }
}

function decodeName(bytes: unknown, what: string): string {
  if (bytes === null || bytes === undefined) return "";
  const b = toBytes(bytes);
  try {
    return strictUtf8.decode(b);
  } catch {
    throw new UnsupportedDatabaseError(`The ${what} is not valid UTF-8 text, so it cannot be written to a dump faithfully.`);
  }
}

/** Normalises what the drivers return for a BLOB (Buffer, Uint8Array, ArrayBuffer). */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (typeof v === "string") return utf8.encode(v);
  throw new TypeError(`expected bytes, got ${typeof v}`);
}

function toBigInt(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  throw new TypeError(`expected an integer, got ${typeof v}`);
}

interface SchemaEntry {
  rowid: bigint;
  type: string;
  name: string;
  tblName: string;
  sql: string | null;
}

interface KeyColumn {
  quoted: string;
  desc: boolean;
  collate: string;
}

interface TablePlan {
  name: string;
  sql: string;
  /** Where rows are read from (the quoted table, or a query for an R*Tree) and written to. */
  from: string;
  target: string;
  /** Quoted columns that are written (generated columns are not). */
  columns: string[];
  /** `rowid`: keyset on an integer; `pk`: a WITHOUT ROWID table's primary key. */
  key: { kind: "rowid"; quoted: string; explicit: boolean } | { kind: "pk"; columns: KeyColumn[] };
  rows: number;
}

async function rows(source: SnapshotSource, sql: string, args: readonly SqlArg[] = []): Promise<unknown[][]> {
  return await source.query(sql, args);
}

async function readSchema(source: SnapshotSource): Promise<SchemaEntry[]> {
  const out: SchemaEntry[] = [];
  for (const r of await rows(
    source,
    "SELECT rowid, CAST(type AS BLOB), CAST(name AS BLOB), CAST(tbl_name AS BLOB), CAST(sql AS BLOB) FROM sqlite_schema ORDER BY rowid",
  )) {
    const name = decodeName(r[2], "name of a schema object");
    out.push({
      rowid: toBigInt(r[0]),
      type: decodeName(r[1], `type of ${name}`),
      name,
      tblName: decodeName(r[3], `table name of ${name}`),
      sql: r[4] === null ? null : decodeName(r[4], `definition of ${name}`),
    });
  }
  return out;
}

const isInternal = (name: string) => name.toLowerCase().startsWith("sqlite_");

async function planTable(source: SnapshotSource, entry: SchemaEntry): Promise<TablePlan> {
  const name = entry.name;
  const info = await rows(source, "SELECT CAST(name AS BLOB), pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid", [name]);
  const all = info.map((r) => ({
    name: decodeName(r[0], `a column name of table ${name}`),
    pk: Number(r[1]),
    hidden: Number(r[2]),
  }));
  // hidden 2 and 3 are generated columns (VIRTUAL, STORED): SQLite computes them again.
  const columns = all.filter((c) => c.hidden !== 2 && c.hidden !== 3);
  if (columns.some((c) => c.hidden !== 0)) {
    throw new UnsupportedDatabaseError(`Table ${name} has hidden columns, which a dump cannot restore.`);
  }
  const listed = await rows(source, "SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'", [name]);
  const withoutRowid = listed.length > 0 && Number(listed[0]![0]) === 1;
  const indexes = await rows(source, "SELECT CAST(name AS BLOB), origin FROM pragma_index_list(?1)", [name]);
  const pkIndex = indexes.find((r) => r[1] === "pk");
  const count = Number(toBigInt((await rows(source, `SELECT count(*) FROM ${quoteIdent(name)}`))[0]![0]));

  let key: TablePlan["key"];
  if (withoutRowid) {
    if (!pkIndex) throw new UnsupportedDatabaseError(`WITHOUT ROWID table ${name} has no primary key index.`);
    const idx = decodeName(pkIndex[0], `an index name of table ${name}`);
    const keyCols = await rows(
      source,
      "SELECT CAST(name AS BLOB), \"desc\", CAST(coll AS BLOB) FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
      [idx],
    );
    key = {
      kind: "pk",
      columns: keyCols.map((r) => ({
        quoted: quoteIdent(decodeName(r[0], `a key column of table ${name}`)),
        desc: Number(r[1]) === 1,
        collate: decodeName(r[2], `a collation of table ${name}`) || "BINARY",
      })),
    };
  } else {
    const pkCols = all.filter((c) => c.pk > 0);
    if (pkCols.length === 1 && !pkIndex) {
      // INTEGER PRIMARY KEY: the column is the rowid, and writing it keeps the rowid.
      key = { kind: "rowid", quoted: quoteIdent(pkCols[0]!.name), explicit: false };
    } else {
      const taken = new Set(all.map((c) => c.name.toLowerCase()));
      const alias = ["rowid", "_rowid_", "oid"].find((a) => !taken.has(a));
      if (!alias) {
        throw new UnsupportedDatabaseError(
          `Table ${name} has columns named rowid, _rowid_ and oid, so its rows cannot be read in rowid order.`,
        );
      }
      // Written as an explicit column so rowids survive (sqlite3 .dump renumbers them).
      key = { kind: "rowid", quoted: quoteIdent(alias), explicit: true };
    }
  }
  if (entry.sql === null) throw new UnsupportedDatabaseError(`Table ${name} has no definition in sqlite_schema.`);
  const from = quoteIdent(name);
  return { name, sql: entry.sql, from, target: from, columns: columns.map((c) => quoteIdent(c.name)), key, rows: count };
}

/** A virtual table that is restored row by row through the table itself. */
async function planVirtual(source: SnapshotSource, entry: SchemaEntry, spec: VirtualTableSpec): Promise<TablePlan> {
  const name = entry.name;
  const q = quoteIdent(name);
  const info = await rows(source, "SELECT CAST(name AS BLOB), hidden FROM pragma_table_xinfo(?1) ORDER BY cid", [name]);
  const all = info.map((r) => ({ name: decodeName(r[0], `a column name of table ${name}`), hidden: Number(r[1]) }));
  const count = Number(toBigInt((await rows(source, `SELECT count(*) FROM ${q}`))[0]![0]));
  if (spec.family === "rtree") {
    // The id column is the rowid. Rows are read in rowid order from the
    // `_rowid` shadow table (an R*Tree only looks rowids up by equality), and
    // the coordinates come back exactly: they are stored as 32-bit values.
    const k = quoteIdent("lifeboat_key");
    const from = `(SELECT s.rowid AS ${k}, v.* FROM ${quoteIdent(`${name}_rowid`)} AS s CROSS JOIN ${q} AS v ON v.rowid = s.rowid)`;
    const columns = all.filter((c) => c.hidden === 0).map((c) => quoteIdent(c.name));
    return { name, sql: entry.sql!, from, target: q, columns, key: { kind: "rowid", quoted: k, explicit: false }, rows: count };
  }
  // Full-text: the visible columns, plus an fts4 languageid column (hidden).
  const columns = all
    .filter((c) => c.hidden === 0 || (spec.languageId !== undefined && c.name.toLowerCase() === spec.languageId.toLowerCase()))
    .map((c) => quoteIdent(c.name));
  const rowid = spec.family === "fts5" ? "rowid" : "docid";
  return { name, sql: entry.sql!, from: q, target: q, columns, key: { kind: "rowid", quoted: quoteIdent(rowid), explicit: true }, rows: count };
}

/** A virtual table, checked as an import would check it, with what its restore needs. */
interface VirtualPlan {
  entry: SchemaEntry;
  spec: VirtualTableSpec;
  /** Rows restored through the table; null for external content (rebuilt) and fts5vocab (nothing to restore). */
  table: TablePlan | null;
  /** fts5 settings (`INSERT INTO ft(ft, rank) VALUES(…)`), as SQL. */
  config: string[];
}

/**
 * Buffers small writes into larger ones; the sink sees 256 KiB pieces or the
 * remainder. A sink that copies what it is given (`ByteSink.copies`) gets
 * every piece as it comes: joining them here would only allocate a buffer per
 * 256 KiB for the sink to copy again.
 */
class Output {
  private parts: Uint8Array[] = [];
  private size = 0;
  constructor(
    private readonly sink: ByteSink,
    private readonly flushAt = 256 * 1024,
  ) {}
  async text(s: string): Promise<void> {
    await this.bytes(utf8.encode(s));
  }
  async bytes(b: Uint8Array): Promise<void> {
    if (this.sink.copies) {
      const r = this.sink.write(b);
      if (r) await r;
      return;
    }
    this.parts.push(b);
    this.size += b.byteLength;
    if (this.size >= this.flushAt) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const joined = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const r = this.sink.write(joined);
    if (r) await r;
  }
}

/** Key values of one row, with their storage class, for binding in a range query. */
type KeyValues = { type: string; value: SqlArg }[];

function keyTypesSignature(k: KeyValues): string {
  return k.map((v) => (v.type === "text" ? "t" : "v")).join("");
}

/** `?N`, or `CAST(?N AS TEXT)` for a text key fetched as bytes (exactly its stored bytes). */
function param(n: number, type: string): string {
  return type === "text" ? `CAST(?${n} AS TEXT)` : `?${n}`;
}

/**
 * `(k1, k2, …)` strictly after (`op` `>`) or up to and including (`<=`) the
 * given key, in index order: a DESC column flips the comparison, and each
 * comparison uses the index's collation.
 */
function keyCondition(cols: KeyColumn[], key: KeyValues, firstParam: number, after: boolean): string {
  const terms: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const eqs = [];
    for (let j = 0; j < i; j++) {
      eqs.push(`${cols[j]!.quoted} COLLATE ${quoteIdent(cols[j]!.collate)} = ${param(firstParam + j, key[j]!.type)}`);
    }
    const c = cols[i]!;
    const forward = after !== c.desc; // ascending "after" or descending "up to": greater than
    const op = forward ? ">" : "<";
    const last = i === cols.length - 1;
    const cmp = `${c.quoted} COLLATE ${quoteIdent(c.collate)} ${op}${!after && last ? "=" : ""} ${param(firstParam + i, key[i]!.type)}`;
    terms.push(`(${[...eqs, cmp].join(" AND ")})`);
  }
  const c0 = cols[0]!;
  const lead = `${c0.quoted} COLLATE ${quoteIdent(c0.collate)} ${after !== c0.desc ? ">=" : "<="} ${param(firstParam, key[0]!.type)}`;
  // The leading range term lets SQLite seek in the primary key instead of scanning.
  return `(${lead} AND (${terms.join(" OR ")}))`;
}

function orderBy(cols: KeyColumn[]): string {
  return cols.map((c) => `${c.quoted} COLLATE ${quoteIdent(c.collate)}${c.desc ? " DESC" : ""}`).join(", ");
}

function keySelect(cols: KeyColumn[]): string {
  return cols
    .map((c) => `typeof(${c.quoted}), CASE WHEN typeof(${c.quoted}) = 'text' THEN CAST(${c.quoted} AS BLOB) ELSE ${c.quoted} END`)
    .join(", ");
}

function readKey(row: unknown[], offset: number, n: number): KeyValues {
  const out: KeyValues = [];
  for (let i = 0; i < n; i++) {
    const type = String(row[offset + 2 * i]);
    let value = row[offset + 2 * i + 1] as SqlArg;
    if (type === "text" || type === "blob") value = toBytes(value);
    out.push({ type, value });
  }
  return out;
}

const QUOTE = 0x27;


/** Formats one value fetched by the slow path: text as bytes (checked), a REAL from its number, everything else as SQLite's literal. */
function slowLiteral(type: string, raw: unknown): Uint8Array {
  if (type === "real" && typeof raw === "number") return utf8.encode(realLiteral(raw));
  const bytes = toBytes(raw);
  if (type !== "text") return bytes;
  if (textNeedsHex(bytes)) {
    return utf8.encode(`CAST(X'${Buffer.from(bytes).toString("hex").toUpperCase()}' AS TEXT)`);
  }
  let quotes = 0;
  for (const b of bytes) if (b === QUOTE) quotes++;
  const out = new Uint8Array(bytes.length + quotes + 2);
  let o = 0;
  out[o++] = QUOTE;
  for (const b of bytes) {
    out[o++] = b;
    if (b === QUOTE) out[o++] = QUOTE;
  }
  out[o++] = QUOTE;
  return out;
}

/**
 * Writes the whole database as a Lifeboat dump to `sink`. The caller opens the
 * read transaction (the snapshot) and closes it afterwards. Throws
 * `UnsupportedDatabaseError` before writing anything when the database holds
 * something a dump cannot restore faithfully (virtual tables, a non-UTF-8
 * encoding, a table whose rowid cannot be addressed).
 */
export async function writeDump(source: SnapshotSource, sink: ByteSink, options: WriteDumpOptions): Promise<DumpSummary> {
  const target = options.statementBytes ?? DEFAULT_STATEMENT_BYTES;

  const encoding = String((await rows(source, "PRAGMA encoding"))[0]?.[0] ?? "UTF-8");
  if (encoding.toUpperCase() !== "UTF-8") {
    throw new UnsupportedDatabaseError(
      `The database uses the ${encoding} text encoding; Lifeboat dumps are UTF-8 and would not restore it as it is.`,
    );
  }

  const schema = await readSchema(source);
  const isVirtual = (e: SchemaEntry) => e.type === "table" && e.sql !== null && /^\s*CREATE\s+VIRTUAL\s+TABLE\b/i.test(e.sql);
  const virtuals = new Map<string, VirtualPlan>();
  const shadows = new Set<string>();
  for (const e of schema.filter(isVirtual)) {
    const spec = virtualSpec(e);
    virtuals.set(e.name.toLowerCase(), { entry: e, spec, table: null, config: [] });
    for (const shadow of shadowTableNames(e.name, spec.family)) shadows.add(shadow);
  }
  const isShadow = (name: string) => shadows.has(name.toLowerCase());
  const strange = schema.filter(
    (e) => e.type === "table" && isInternal(e.name) && !/^sqlite_(sequence|stat[1-4])$/i.test(e.name),
  );
  if (strange.length > 0) {
    throw new UnsupportedDatabaseError(`The database has an unexpected internal table ${strange[0]!.name}.`);
  }
  const hasSequence = schema.some((e) => e.type === "table" && e.name.toLowerCase() === "sqlite_sequence");
  const hasStat1 = schema.some((e) => e.type === "table" && e.name.toLowerCase() === "sqlite_stat1");

  // Every definition is checked as an import would check it: a backup that
  // Lifeboat could not restore is known the day it is written.
  const restoreProblems: string[] = [];
  for (const e of schema) {
    if (e.sql === null || isInternal(e.name) || isInternal(e.tblName) || isShadow(e.name) || virtuals.has(e.name.toLowerCase())) continue;
    try {
      checkSchemaSql(e.sql, { shadows });
    } catch (error) {
      if (!(error instanceof SqlFault)) throw error;
      restoreProblems.push(`${e.type} ${e.name}: ${error.reason}`);
    }
  }

  const tables: TablePlan[] = [];
  /** Tables and virtual tables in schema order, as the dump creates them. */
  const creates: ({ kind: "table"; plan: TablePlan } | { kind: "virtual"; plan: VirtualPlan })[] = [];
  for (const e of schema) {
    if (e.type !== "table" || isInternal(e.name) || isShadow(e.name)) continue;
    const v = virtuals.get(e.name.toLowerCase());
    if (v) {
      if (v.spec.content.kind === "own") {
        v.table = await planVirtual(source, e, v.spec);
        tables.push(v.table);
      }
      if (v.spec.family === "fts5") v.config = await fts5Settings(source, e.name);
      creates.push({ kind: "virtual", plan: v });
    } else {
      const plan = await planTable(source, e);
      tables.push(plan);
      creates.push({ kind: "table", plan });
    }
  }
  const negativeZero = await hasMathFunctions(source);
  const userVersion = toBigInt((await rows(source, "PRAGMA user_version"))[0]![0]);
  const applicationId = toBigInt((await rows(source, "PRAGMA application_id"))[0]![0]);

  await source.settle?.();
  const rowCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const c of creates) {
    if (c.kind === "table") rowCounts[c.plan.name] = c.plan.rows;
    else if (c.plan.table) rowCounts[c.plan.entry.name] = c.plan.table.rows;
  }

  const out = new Output(sink);
  await out.text(
    [
      DUMP_MAGIC,
      `-- format: ${DUMP_FORMAT_VERSION}`,
      `-- lifeboat-version: ${options.lifeboatVersion}`,
      `-- created-at: ${options.createdAt.toISOString()}`,
      `-- trigger: ${options.trigger}`,
      `-- rows: ${JSON.stringify(rowCounts)}`,
      "PRAGMA foreign_keys=OFF;",
      "BEGIN TRANSACTION;",
      `PRAGMA user_version=${userVersion};`,
      `PRAGMA application_id=${applicationId};`,
      "",
    ].join("\n"),
  );

  const literal = (c: string) => literalExpr(c, negativeZero);
  const fast = (c: string) => fastLiteralExpr(c, negativeZero);
  let totalRows = 0;
  for (const c of creates) {
    if (c.kind === "virtual") {
      await out.text(`${c.plan.entry.sql};\n`);
      for (const sql of c.plan.config) await out.text(`${sql};\n`);
      if (!c.plan.table) continue;
    }
    const t = c.kind === "table" ? c.plan : c.plan.table!;
    if (c.kind === "table") await out.text(`${t.sql};\n`);
    totalRows += await writeTableRows(source, out, t, target, fast, literal);
    await source.settle?.();
  }

  if (hasSequence) {
    await out.text("DELETE FROM sqlite_sequence;\n");
    await writeSingleRowInserts(source, out, "sqlite_sequence", ["name", "seq"], literal);
  }
  if (hasStat1) {
    // Creates sqlite_stat1 as sqlite3 .dump does; the rows follow.
    await out.text("ANALYZE sqlite_schema;\n");
    await writeSingleRowInserts(source, out, "sqlite_stat1", ["tbl", "idx", "stat"], literal);
  }

  // Indexes, views and triggers after the data: triggers must not fire while
  // rows are restored, and sqlite_schema order creates a view after the views it uses.
  const later = schema.filter((e) => e.sql !== null && !isInternal(e.tblName) && !isInternal(e.name) && !isShadow(e.tblName));
  for (const e of later) {
    if (e.type === "index" || e.type === "view") await out.text(`${e.sql};\n`);
  }
  // External-content full-text indexes are rebuilt from their content (a
  // table, or a view: hence after the views), before any trigger exists.
  for (const v of virtuals.values()) {
    if (v.spec.content.kind === "external") {
      const q = quoteIdent(v.entry.name);
      await out.text(`INSERT INTO ${q}(${q}) VALUES('rebuild');\n`);
    }
  }
  for (const e of later) {
    if (e.type === "trigger") await out.text(`${e.sql};\n`);
  }
  await out.text(`COMMIT;\n${DUMP_END}\n`);
  await out.flush();
  return { rowCounts, tables: tables.length, rows: totalRows, restoreProblems };
}

/**
 * The checked spec of a virtual table; `UnsupportedDatabaseError` for a
 * module or option a restore would refuse, and for a contentless full-text
 * table (it keeps no text, only an index no dump can rebuild).
 */
function virtualSpec(e: SchemaEntry): VirtualTableSpec {
  let spec: VirtualTableSpec | undefined;
  try {
    spec = checkSchemaSql(e.sql!).virtual;
  } catch (error) {
    if (!(error instanceof SqlFault)) throw error;
    throw new UnsupportedDatabaseError(`The database has virtual table ${e.name}: ${error.reason}. No backup was written.`);
  }
  if (!spec) throw new UnsupportedDatabaseError(`The definition of virtual table ${e.name} cannot be read.`);
  if (spec.content.kind === "none" && spec.content.contentless) {
    throw new UnsupportedDatabaseError(
      `The database has the contentless full-text table ${e.name} (content=''): it keeps only its index, not the text, ` +
        "so no dump can restore it. No backup was written.",
    );
  }
  return spec;
}

/** An fts5 table's settings other than its format version, as the statements that restore them. */
async function fts5Settings(source: SnapshotSource, name: string): Promise<string[]> {
  const q = quoteIdent(name);
  const config = quoteIdent(`${name}_config`);
  const out: string[] = [];
  for (const r of await rows(source, `SELECT CAST(quote(k) || ',' || quote(v) AS BLOB) FROM ${config} WHERE k <> 'version' ORDER BY k`)) {
    out.push(`INSERT INTO ${q}(${q},"rank") VALUES(${decodeName(r[0], `a setting of ${name}`)})`);
  }
  return out;
}

async function writeSingleRowInserts(
  source: SnapshotSource,
  out: Output,
  table: string,
  cols: string[],
  literalExpr: (c: string) => string,
): Promise<void> {
  const expr = cols.map((c) => literalExpr(quoteIdent(c))).join(" || ',' || ");
  const all = await rows(source, `SELECT CAST('INSERT INTO ${table} VALUES(' || ${expr} || ');' AS BLOB) FROM ${table} ORDER BY rowid`);
  for (const r of all) {
    const b = toBytes(r[0]);
    // Written by SQLite itself; text that is not UTF-8 here would be hand-made and is refused.
    if (!isUtf8(b)) throw new UnsupportedDatabaseError(`A row of ${table} holds text that is not valid UTF-8.`);
    await out.bytes(b);
    await out.text("\n");
  }
}

/** Writes one table's rows as multi-row INSERTs of about `target` bytes each. Returns the rows written. */
async function writeTableRows(
  source: SnapshotSource,
  out: Output,
  t: TablePlan,
  target: number,
  fastLiteral: (c: string) => string,
  exactLiteral: (c: string) => string,
): Promise<number> {
  if (t.rows === 0) return 0;
  const table = t.from;
  const explicitRowid = t.key.kind === "rowid" && t.key.explicit;
  const columnList = [...(explicitRowid ? [(t.key as { quoted: string }).quoted] : []), ...t.columns];
  const head = utf8.encode(`INSERT INTO ${t.target}(${columnList.join(",")}) VALUES`);
  const tail = utf8.encode(";\n");
  const valueExprs = [...(explicitRowid ? [(t.key as { quoted: string }).quoted] : []), ...t.columns].map(fastLiteral);
  const rowExpr = `'(' || ${valueExprs.join(" || ',' || ")} || ')'`;
  const slowCols = columnList
    .map((c) => `typeof(${c}), CASE typeof(${c}) WHEN 'text' THEN CAST(${c} AS BLOB) WHEN 'real' THEN ${c} ELSE CAST(${exactLiteral(c)} AS BLOB) END`)
    .join(", ");

  let limit = 16;
  let written = 0;
  const adapt = (bytes: number, n: number) => {
    const avg = Math.max(1, bytes / Math.max(1, n));
    limit = Math.max(1, Math.min(MAX_PAGE_ROWS, Math.floor(target / avg)));
  };

  const emitPage = async (blob: Uint8Array, n: number, slow: () => Promise<Uint8Array[]>) => {
    await out.bytes(head);
    if (!pageNeedsExactPath(blob)) {
      await out.bytes(blob);
    } else {
      const rowsBytes = await slow();
      for (let i = 0; i < rowsBytes.length; i++) {
        if (i > 0) await out.text(",");
        await out.bytes(rowsBytes[i]!);
      }
    }
    await out.bytes(tail);
    written += n;
  };

  const slowRows = async (sql: string, args: SqlArg[]): Promise<Uint8Array[]> => {
    const result: Uint8Array[] = [];
    for (const r of await rows(source, sql, args)) {
      const parts: Uint8Array[] = [utf8.encode("(")];
      for (let i = 0; i < columnList.length; i++) {
        if (i > 0) parts.push(utf8.encode(","));
        parts.push(slowLiteral(String(r[2 * i]), r[2 * i + 1]));
      }
      parts.push(utf8.encode(")"));
      result.push(Buffer.concat(parts));
    }
    return result;
  };

  if (t.key.kind === "rowid") {
    const k = t.key.quoted;
    const inner = (where: string) =>
      `SELECT max(r), count(*), CAST(group_concat(x, ',') AS BLOB) FROM (SELECT ${k} AS r, ${rowExpr} AS x FROM ${table}${where} ORDER BY ${k} LIMIT ?2)`;
    const firstSql = inner(" WHERE ?1 IS NULL");
    const nextSql = inner(` WHERE ${k} > ?1`);
    // Two statements, not `(?1 IS NULL OR k > ?1)`: SQLite cannot seek on an OR, so every
    // page sent down the exact path read the table from its first row (quadratic in its size).
    const slowFirstSql = `SELECT ${slowCols} FROM ${table} WHERE ${k} <= ?2 ORDER BY ${k}`;
    const slowNextSql = `SELECT ${slowCols} FROM ${table} WHERE ${k} > ?1 AND ${k} <= ?2 ORDER BY ${k}`;
    let after: bigint | null = null;
    for (;;) {
      const asked = limit;
      const page: unknown[] = (await rows(source, after === null ? firstSql : nextSql, [after, BigInt(asked)]))[0]!;
      const n = Number(toBigInt(page[1]));
      if (n === 0) break;
      const max = toBigInt(page[0]);
      const blob = toBytes(page[2]);
      const from = after;
      await emitPage(blob, n, () => slowRows(from === null ? slowFirstSql : slowNextSql, [from, max]));
      adapt(blob.byteLength, n);
      after = max;
      // A short page is the last one: nothing changes inside the snapshot.
      if (n < asked) break;
    }
  } else {
    const cols = t.key.columns;
    const n = cols.length;
    const ord = orderBy(cols);
    const stmtCache = new Map<string, string>();
    const sqlFor = (kind: string, after: KeyValues | null, upto: KeyValues | null, build: () => string) => {
      const sig = `${kind}:${after ? keyTypesSignature(after) : "-"}:${upto ? keyTypesSignature(upto) : "-"}`;
      let sql = stmtCache.get(sig);
      if (!sql) {
        sql = build();
        stmtCache.set(sig, sql);
      }
      return sql;
    };
    const where = (after: KeyValues | null, upto: KeyValues | null) => {
      const conds: string[] = [];
      if (after) conds.push(keyCondition(cols, after, 1, true));
      if (upto) conds.push(keyCondition(cols, upto, n + 1, false));
      return conds.length ? ` WHERE ${conds.join(" AND ")}` : "";
    };
    // Exactly as many values as the statement's highest parameter number.
    const bind = (after: KeyValues | null, upto: KeyValues | null, width = upto ? 2 * n : after ? n : 0): SqlArg[] => {
      const args: SqlArg[] = [];
      for (let i = 0; i < Math.min(n, width); i++) args.push(after ? after[i]!.value : null);
      for (let i = n; i < width; i++) args.push(upto ? upto[i - n]!.value : null);
      return args;
    };
    let after: KeyValues | null = null;
    for (;;) {
      // Where does this page end? The key of its last row, found in the primary key index.
      const endSql = sqlFor("end", after, null, () => `SELECT ${keySelect(cols)} FROM ${table}${where(after, null)} ORDER BY ${ord} LIMIT 1 OFFSET ?${2 * n + 1}`);
      const endRow: unknown[] | undefined = (await rows(source, endSql, [...bind(after, null, 2 * n), BigInt(limit - 1)]))[0];
      const upto: KeyValues | null = endRow ? readKey(endRow, 0, n) : null;
      const pageSql = sqlFor(
        "page",
        after,
        upto,
        () => `SELECT count(*), CAST(group_concat(x, ',') AS BLOB) FROM (SELECT ${rowExpr} AS x FROM ${table}${where(after, upto)} ORDER BY ${ord})`,
      );
      const args = bind(after, upto);
      const page = (await rows(source, pageSql, args))[0]!;
      const count = Number(toBigInt(page[0]));
      if (count === 0) break;
      const blob = toBytes(page[1]);
      const slowSql = sqlFor("slow", after, upto, () => `SELECT ${slowCols} FROM ${table}${where(after, upto)} ORDER BY ${ord}`);
      await emitPage(blob, count, () => slowRows(slowSql, args));
      adapt(blob.byteLength, count);
      if (!upto) break;
      after = upto;
    }
  }
  return written;
}
