/**
 * The streaming reader of backup files: it decides what of an uploaded or
 * stored dump may ever reach the database.
 *
 * A dump is decoded as strict UTF-8, cut into statements with a tokenizer that
 * matches SQLite's (sql-tokenizer.ts), and each statement is checked against an
 * allow-list of what a dump contains: CREATE TABLE/INDEX/VIEW/TRIGGER (checked
 * by sql-schema-checker.ts), INSERT … VALUES with literal values, the
 * sqlite_sequence and sqlite_stat1/4 rows, a few PRAGMAs, BEGIN/COMMIT. The
 * first problem stops the read with an `InvalidBackupError` naming the line.
 *
 * Memory stays bounded by the largest statement: bytes are held until a point
 * where no statement, string or comment is open (statement-ends.ts), and only
 * text up to such a point is decoded and scanned, so an unfinished statement is
 * held as bytes, never decoded or rescanned, and refused as soon as it passes
 * the statement limit. Statements are handed out as soon as they end. INSERT rows are nearly all of a dump, so they take a
 * fast path: the words before VALUES are checked once per table, and each row
 * of plain literals is matched by one regular expression that follows SQLite's
 * token rules; only other rows go through the value-by-value scanner.
 */
import fs from "node:fs/promises";
import { pipeline, Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import zlib from "node:zlib";
import { InvalidBackupError } from "../errors.ts";
import { decryptStream, isAgeEncrypted, isArmoredAge } from "./age-stream.ts";
import { fileHandleStream } from "./file-stream.ts";
import { forwardStream } from "./forward-stream.ts";
import { DUMP_END, DUMP_FORMAT_VERSION, DUMP_MAGIC } from "./format.ts";
import { DUMP_VALUE_FUNCTIONS, functionRefusal } from "./sql-functions.ts";
import { checkCreate, checkSchemaSql, collectStatement, type Tok } from "./sql-schema-checker.ts";
import { RtreeFromDump } from "./rtree-dump.ts";
import { StatementEnds } from "./statement-ends.ts";
import { quoteIdent as quoteIdentifier } from "./writer.ts";
import { FTS5_CONFIG_KEYS, shadowTableNames, type VirtualTableSpec } from "./virtual-tables.ts";
import {
  asciiLower,
  binaryReason,
  isIdChar,
  isWord,
  keywordOf,
  Lexer,
  NAME_KEYWORDS,
  NEED_MORE,
  scanBlob,
  scanNumber,
  scanQuoted,
  SqlFault,
  TK_BLOB,
  TK_COMMA,
  TK_DOT,
  TK_EOF,
  TK_FLOAT,
  TK_ID,
  TK_INTEGER,
  TK_LP,
  TK_OP,
  TK_QID,
  TK_RP,
  TK_STRING,
  tokenName,
} from "./sql-tokenizer.ts";

/** What the Lifeboat header of a dump says (`-- Lifeboat backup` comment lines at the top). */
export interface DumpHeader {
  /** Lifeboat format version (1). */
  formatVersion: number;
  lifeboatVersion?: string;
  createdAt?: string;
  trigger?: string;
  /** Rows per table (the dump's table names, unquoted). */
  rowCounts?: Record<string, number>;
}

type StatementKind =
  | "begin"
  | "commit"
  | "pragma"
  | "create-table"
  | "create-index"
  | "create-view"
  | "create-trigger"
  /** CREATE VIRTUAL TABLE with an allowed module (also translated from sqlite3 .dump's `INSERT INTO sqlite_schema`). */
  | "create-virtual"
  /** INSERT INTO <user table> … VALUES */
  | "insert"
  /** DELETE FROM sqlite_sequence / INSERT INTO sqlite_sequence */
  | "sequence-delete"
  | "sequence-insert"
  /** ANALYZE [sqlite_schema|sqlite_master]; INSERT INTO sqlite_stat1/sqlite_stat4 VALUES */
  | "analyze"
  | "stat-insert";

/** One validated statement of a dump. */
export interface DumpStatement {
  kind: StatementKind;
  /**
   * The statement without its `;`, made of exactly the tokens that were
   * validated. INSERT and the other statements: comments dropped (each run of
   * whitespace and comments becomes one space when a comment, form feed or BOM
   * is present; otherwise the text is kept as it is). CREATE statements: the
   * text from CREATE to the last token as written, comments included, because
   * SQLite stores that text in sqlite_schema and a restore must keep it.
   */
  sql: string;
  /** 1-based line where the statement starts in the (decompressed) file. */
  line: number;
  /** Object name for create-*; target table for insert, sequence-insert and stat-insert (unquoted). */
  name?: string;
  /** Table an index or trigger belongs to (unquoted). */
  table?: string;
  /** Number of VALUES tuples, for the insert kinds. */
  rows?: number;
  /** Column list of an INSERT, when it names one (unquoted; shared by the INSERTs of one table). */
  columns?: readonly string[];
  /** For kind "pragma": the pragma name in lower case and its normalised value (`ON`/`OFF`, or a decimal integer). */
  pragma?: { name: string; value: string };
  /** For kind "create-virtual": the module and how its data is restored. */
  virtual?: VirtualTableSpec;
}

export interface ReadDumpOptions {
  /** Called once, before the first statement, with the Lifeboat header or null when the file has none. */
  onHeader?: (header: DumpHeader | null) => void;
  /**
   * Largest statement (or comment) accepted, in bytes of UTF-8; default 32 MiB.
   * Checked before the window that holds it grows past the limit, so memory
   * stays bounded by it whatever the file holds.
   */
  maxStatementBytes?: number;
  /** Most bytes of (decompressed) text read in all; more is refused naming the line reached. Default: no limit. */
  maxTotalBytes?: number;
  /**
   * Bytes collected before a window of text is decoded and scanned; default
   * 64 KiB. Small chunks (a gzip stream yields 16 KiB) are gathered so that
   * per-window work and garbage stay low. Tests set 1 to scan at every chunk
   * boundary.
   */
  minWindowBytes?: number;
}

/** The checked start of an INSERT, up to and including VALUES. */
interface InsertHead {
  prefix: string;
  kind: StatementKind;
  name: string;
  columns: readonly string[] | undefined;
  plain: boolean;
  /**
   * sqlite3 .dump's rows of a virtual table's shadow table: `skip` (the index;
   * the module rebuilds it) or the head to put in front of the rows instead
   * (`INSERT INTO "ft"("rowid","a") VALUES` for `INSERT INTO ft_content VALUES`).
   */
  shadow?: { skip: true } | { skip: false; rewrite: string; config: boolean } | { skip: false; rtree: "rowid" | "node" };
}

/** A virtual table the file created, by lower-case name. */
interface KnownVirtual {
  name: string;
  spec: VirtualTableSpec;
  /** Created through sqlite3 .dump's `INSERT INTO sqlite_schema` form. */
  fromDumpForm: boolean;
}

const ID_AFTER = String.raw`(?![0-9A-Za-z_$\x80-\uffff])`;
/** A literal exactly as SQLite tokenizes it, when followed by `,` or `)`: string, number, NULL, blob. */
const LITERAL = String.raw`(?:'[^']*(?:''[^']*)*'|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?${ID_AFTER}|NULL${ID_AFTER}|[Xx]'(?:[0-9A-Fa-f]{2})*')`;
/**
 * One row of plain literals, e.g. `(1,'a''b',NULL,X'00',-1.5e3)` (spaces allowed around values):
 * nearly every row of a dump, matched by one native regex call. Numbers end
 * before `,` or `)`, never inside a word (`12abc`, `0x1F` and `1e` fail the
 * look-ahead and go to the value-by-value scanner, as does anything else).
 */
const ROW = new RegExp(String.raw`\( *${LITERAL} *(?:, *${LITERAL} *)*\)`, "y");

const DEFAULT_MAX_STATEMENT_BYTES = 32 * 1024 * 1024;
const DEFAULT_MIN_WINDOW = 64 * 1024;
/** Bytes handed to the parser at a time (see `readDumpBatches`). */
const PUSH_BYTES = 32 * 1024;
const MAX_VALUE_DEPTH = 100;

type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Streams the statements of a dump, each validated, in file order, as one
 * array per decoded chunk: fewer promise round-trips for a caller that applies
 * many small INSERTs (a 1 GB dump has millions of them). Throws
 * `InvalidBackupError(reason, line)` at the first problem — before yielding
 * anything after it — so a caller that applies statements inside one
 * transaction can roll back on the throw. Reads the source lazily and cancels it
 * when iteration stops early.
 */
export async function* readDumpBatches(source: ByteSource, options: ReadDumpOptions = {}): AsyncGenerator<DumpStatement[]> {
  const parser = new DumpParser(
    options.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES,
    options.minWindowBytes ?? DEFAULT_MIN_WINDOW,
    options.maxTotalBytes ?? Number.POSITIVE_INFINITY,
  );
  let announced = false;
  const announce = () => {
    if (!announced && parser.headerKnown) {
      announced = true;
      options.onHeader?.(parser.header);
    }
  };
  for await (const bytes of chunksOf(source)) {
    // Fed in slices, so that a window of text (see `DumpParser.push`) stays well under V8's large
    // object size (128 KiB): on Node 20, decoding 256 KiB windows into strings ran at ~200 MB/s,
    // 64 KiB ones at ~4 GB/s, and the decoding was a third to half of an import's checking pass.
    let batch: DumpStatement[] = [];
    for (let at = 0; at < bytes.length; at += PUSH_BYTES) {
      const out = parser.push(bytes.subarray(at, at + PUSH_BYTES));
      batch = batch.length === 0 ? out : batch.concat(out);
    }
    announce();
    if (batch.length > 0) yield batch;
  }
  const last = parser.finish(announce);
  if (last.length > 0) yield last;
}

/**
 * Opens a `.sql` or `.sql.gz` backup for reading, deciding by content (gzip
 * starts with 1f 8b) rather than by name. Returns the decompressed bytes; a
 * damaged or truncated gzip stream errors with `InvalidBackupError` when it is
 * read. The file is closed when the stream ends, errors or is cancelled.
 *
 * Gzip goes through node:zlib rather than the web `DecompressionStream`: on
 * Node 20 the latter held ~180 MB of buffers while inflating a 216 MB dump
 * (node:zlib: ~70 MB), too much for an import that must stay under 200 MB.
 */
export async function openDumpFile(path: string, options: { identities?: readonly string[] } = {}): Promise<ReadableStream<Uint8Array>> {
  const handle = await fs.open(path, "r");
  let magic: Uint8Array;
  try {
    const probe = new Uint8Array(64);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    magic = probe.subarray(0, bytesRead);
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (isAgeEncrypted(magic)) {
    const raw = fileHandleStream(handle, { chunkBytes: 256 * 1024, highWaterMark: 2, closeHandle: true });
    return decryptedDump(raw, magic, options.identities ?? []);
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    // createReadStream closes the handle when done.
    return inflate(handle.createReadStream({ start: 0, highWaterMark: 256 * 1024 }));
  }
  // Read ahead one chunk so disk reads overlap with parsing.
  return fileHandleStream(handle, { chunkBytes: 256 * 1024, highWaterMark: 2, closeHandle: true });
}

/**
 * The dump text inside an age-encrypted file (`.sql.age`, or `.sql.gz.age`:
 * compressed, then encrypted): decrypted with the identities as it is read,
 * then inflated when the plaintext is gzip. Reports back whether it was.
 */
export async function decryptedDump(
  raw: ReadableStream<Uint8Array>,
  firstBytes: Uint8Array,
  identities: readonly string[],
  onKind?: (compressed: boolean) => void,
): Promise<ReadableStream<Uint8Array>> {
  if (isArmoredAge(firstBytes)) {
    await raw.cancel().catch(() => {});
    throw new InvalidBackupError("ASCII-armored age files (age -a) are not accepted; encrypt without -a");
  }
  const plain = await decryptStream(raw, identities);
  // Peek at the first plaintext bytes to tell gzip from SQL text, then hand the stream on whole.
  const reader = plain.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const rest = forwardStream(reader, { head });
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  onKind?.(gz);
  return gz ? gunzipStream(rest) : rest;
}

/**
 * Inflates a gzip byte stream with node:zlib (see `openDumpFile` for why not
 * `DecompressionStream`). Damaged or truncated gzip errors with
 * `InvalidBackupError` when read.
 */
export function gunzipStream(raw: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return inflate(Readable.fromWeb(raw as NodeReadableStream<Uint8Array>));
}

/** The inflated content of a gzip byte source; zlib errors become `InvalidBackupError`, I/O errors stay as they are. */
function inflate(input: Readable): ReadableStream<Uint8Array> {
  const gunzip = zlib.createGunzip({ chunkSize: 64 * 1024 });
  pipeline(input, gunzip, () => {
    // errors reach the reader through `gunzip`
  });
  const chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (typeof code === "string" && code.startsWith("Z_")) {
            const detail = error instanceof Error ? error.message : String(error);
            controller.error(new InvalidBackupError(`the gzip data is damaged or truncated (${detail})`, undefined, { cause: error }));
          } else {
            controller.error(error);
          }
        }
      },
      cancel() {
        input.destroy();
        gunzip.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Cheap check of the first bytes of an upload: gzip, or text that could be a
 * SQL dump (UTF-8 without control characters, starting with a comment or a
 * word), or an age-encrypted file. Anything else throws `InvalidBackupError("not a SQL backup (…)")` so an
 * upload of the wrong file is refused before it is stored.
 */
export function sniffDump(firstBytes: Uint8Array): "sql" | "gzip" | "age" {
  const b = firstBytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (isAgeEncrypted(b)) return "age";
  const refuse = (what: string): never => {
    throw new InvalidBackupError(`not a SQL backup (${what})`);
  };
  if (b.length === 0) refuse("the file is empty");
  const ascii = String.fromCharCode(...b.subarray(0, 16));
  if (ascii.startsWith("SQLite format 3\0")) refuse("this is an SQLite database file; upload a SQL dump such as the output of sqlite3 .dump");
  if (ascii.startsWith("PK\x03\x04")) refuse("a zip archive");
  let text: string;
  try {
    // stream: true so a character cut at the end of the sample is not an error
    text = new TextDecoder("utf-8", { fatal: true }).decode(b, { stream: true });
  } catch {
    return refuse("binary data");
  }
  // deno-lint-ignore no-control-regex -- control characters are exactly what this looks for
  if (/[\x00-\x08\x0b\x0e-\x1f\x7f]/.test(text)) refuse("binary data");
  const start = text.replace(/^[\s\ufeff]+/, "");
  if (start === "") refuse("the file holds only whitespace");
  if (!/^(--|\/\*|[A-Za-z])/.test(start)) {
    refuse(`it starts with “${start.slice(0, 20)}${start.length > 20 ? "…" : ""}”`);
  }
  return "sql";
}

// ---- bytes → text ------------------------------------------------------------

const INVALID_UTF8 = "invalid UTF-8 text (binary data or another text encoding), not a SQL backup";

/**
 * Refuses a file whose first line (up to 1 KiB) is not text: invalid UTF-8, NUL
 * or control characters. A database file, an image or an archive is then
 * called what it is rather than "not a statement", and before any of it is
 * read as SQL.
 */
function checkFirstLine(bytes: Uint8Array): void {
  let end = bytes.indexOf(0x0a);
  if (end < 0 || end > 1024) end = Math.min(bytes.length, 1024);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
  } catch {
    throw new InvalidBackupError("binary data (not UTF-8 text), not a SQL backup", 1);
  }
  // deno-lint-ignore no-control-regex -- control characters are exactly what this looks for
  const control = /[\x00-\x08\x0b\x0e-\x1f\x7f]/.exec(text);
  if (control) throw new InvalidBackupError(binaryReason(control[0].charCodeAt(0)), 1);
}

/** Length of the prefix of `bytes` that ends on a character boundary (a character cut by the chunk end is left out). */
function wholeCharacters(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? n - k : n;
  }
  return n;
}

function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Offset of the first byte that is not part of valid UTF-8 (WHATWG rules), or -1. */
function invalidUtf8Offset(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= n) return i;
    const c1 = b[i + 1]!;
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === "function") {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    let finished = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        yield asBytes(value);
      }
    } finally {
      if (finished) reader.releaseLock();
      else await reader.cancel().catch(() => {});
    }
  } else {
    for await (const value of source as AsyncIterable<Uint8Array>) yield asBytes(value);
  }
}

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("a dump source must yield bytes (Uint8Array)");
}

// ---- text → statements -------------------------------------------------------

const INTERNAL_INSERT_REASON = (name: string) =>
  /^sqlite_(schema|master|temp_schema|temp_master)$/i.test(name)
    ? `INSERT INTO ${name} is not allowed in a backup (it would rewrite the database schema directly)`
    : `INSERT INTO ${name} is not allowed in a backup (it is one of SQLite's internal tables)`;

/** Statements refused by their first word, with the reason. */
const REFUSED_STATEMENTS: ReadonlyMap<string, string> = new Map([
  ["ATTACH", "ATTACH is not allowed in a backup (it opens another database file)"],
  ["DETACH", "DETACH is not allowed in a backup"],
  ["VACUUM", "VACUUM is not allowed in a backup (VACUUM INTO writes a file)"],
  ["SELECT", "SELECT is not allowed in a backup (a backup only creates objects and inserts rows)"],
  ["VALUES", "a bare VALUES query is not allowed in a backup"],
  ["WITH", "WITH … queries are not allowed in a backup"],
  ["UPDATE", "UPDATE is not allowed in a backup"],
  ["DROP", "DROP is not allowed in a backup"],
  ["ALTER", "ALTER is not allowed in a backup"],
  ["REINDEX", "REINDEX is not allowed in a backup"],
  ["SAVEPOINT", "SAVEPOINT is not allowed in a backup"],
  ["RELEASE", "RELEASE is not allowed in a backup"],
  [
    "ROLLBACK",
    "ROLLBACK is not allowed in a backup (sqlite3 ends a dump with “ROLLBACK; -- due to errors” when it failed to read the database: this dump is incomplete)",
  ],
  ["EXPLAIN", "EXPLAIN is not allowed in a backup"],
  ["REPLACE", "REPLACE INTO is not allowed in a backup (dumps use INSERT INTO)"],
]);

const WRITABLE_SCHEMA_REASON =
  "PRAGMA writable_schema is not allowed in a backup (it edits the schema directly; it is only read, never run, where sqlite3 .dump writes it before the INSERT INTO sqlite_schema of an fts5, fts4, fts3 or fts5vocab table)";

/** The pragmas a dump may set; foreign_keys is informational (the importer manages it). */
const ALLOWED_PRAGMAS = new Set(["foreign_keys", "user_version", "application_id"]);

/**
 * The incremental statement reader. `push()` takes bytes and returns the
 * statements that became complete; `finish()` checks the end of the file.
 *
 * Bytes are held until they reach a point where nothing is open (a statement's
 * end, or the gap between statements; see `StatementEnds`). Each window — the
 * bytes up to the newest such point — is decoded in one piece, so the scanners
 * always work on a flat string (character access on a concatenated string is
 * markedly slower in V8) and a decoding error can be placed on its line. The
 * bytes after that point wait, undecoded, for the statement to end.
 */
class DumpParser {
  header: DumpHeader | null = null;
  headerKnown = false;

  /** Decoded window; `pos` is where the next statement (or gap) starts. */
  private text = "";
  private pos = 0;
  /**
   * Bytes not yet decoded, or decoded but not consumed: the first `stuck`
   * bytes are `text` from `pos` on (a statement the window did not finish).
   * `heldStart` is the stream offset of the first.
   */
  private held: Uint8Array[] = [];
  private heldLength = 0;
  private heldStart = 0;
  private stuck = 0;
  private readonly ends = new StatementEnds();
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private started = false;
  private checkedStart = false;
  /** `line` is the line number at position `linePos` of `text`. */
  private line = 1;
  private linePos = 0;

  private out: DumpStatement[] = [];
  private statements = 0;
  private began = false;
  private committed = false;
  private trailerSeen = false;
  private sawText = false;

  /** Virtual tables created so far, and the names of their shadow tables (lower case) → the table. */
  private virtuals = new Map<string, KnownVirtual>();
  private shadows = new Map<string, KnownVirtual>();
  /** Between sqlite3 .dump's `PRAGMA writable_schema=ON` and `=OFF` (never executed: it only allows the translation). */
  private schemaWrites = false;
  /**
   * Line of a `PRAGMA writable_schema=ON` whose next statement must be the
   * `INSERT INTO sqlite_schema` of a virtual table (as sqlite3 .dump writes it);
   * anything else refuses the pragma.
   */
  private writableAt: number | null = null;
  /** External-content full-text tables of the .dump form, rebuilt before the COMMIT. */
  private pendingRebuilds: { name: string; line: number }[] = [];
  /** R*Trees of the .dump form, restored from their pages once all of them are read. */
  private rtrees = new Map<string, RtreeFromDump>();
  private rtreeLines = new Map<string, number>();

  /** False once the current INSERT holds a comment, form feed or BOM (its text is then rebuilt). */
  private plain = true;
  /** The words before the rows of the last INSERT, reused while the next INSERT starts the same way. */
  private lastHead: InsertHead | null = null;

  /** Bytes pushed so far. */
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly minWindow: number,
    private readonly maxTotal: number,
  ) {}

  push(chunk: Uint8Array): DumpStatement[] {
    if (chunk.length === 0) return [];
    this.total += chunk.length;
    if (this.total > this.maxTotal) {
      throw new InvalidBackupError(
        `the file holds more than the limit of ${this.maxTotal} bytes of SQL text (MAX_IMPORT_BYTES; after decompression) and was not read further`,
        this.heldLine(this.heldLength),
      );
    }
    if (!this.started && this.heldLength === 0 && chunk[0] === 0x1f && (chunk.length < 2 || chunk[1] === 0x8b)) {
      throw new InvalidBackupError("binary data (gzip-compressed), not a SQL backup: open it with openDumpFile", 1);
    }
    this.held.push(chunk);
    this.heldLength += chunk.length;
    this.ends.scan(chunk);
    // The first line decides whether this is text at all; wait for it (or 1 KiB).
    if (!this.checkedStart) {
      if (this.heldLength < 1024 && !chunk.includes(0x0a)) return [];
      this.checkedStart = true;
      checkFirstLine(this.heldBytes(Math.min(this.heldLength, 1025)));
    }
    // Whatever follows the last point where nothing is open is one unfinished
    // statement (or comment): refused once it passes the limit, before a byte of it is decoded.
    const ready = this.ends.rest - this.heldStart;
    if (this.heldLength - ready > this.maxBytes) throw new InvalidBackupError(this.tooLarge(), this.heldLine(Math.max(ready, 0)));
    // Decode once a window's worth is ready; a statement the last window left
    // unfinished is rescanned only once as much new text arrived as it holds
    // (geometric growth keeps rescanning linear overall).
    if (ready < this.minWindow || ready - this.stuck < this.stuck) return [];
    this.window(false);
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Processes the rest as the end of the file and checks the file is complete. */
  finish(beforeChecks: () => void): DumpStatement[] {
    this.window(true);
    if (!this.committed) {
      this.flushRtrees();
      this.flushRebuilds(this.lineAt(this.text.length));
    }
    beforeChecks();
    const endLine = this.lineAt(this.text.length);
    if (this.statements === 0) {
      throw new InvalidBackupError(this.sawText ? "the file holds no SQL statements" : "the file is empty", endLine);
    }
    if (this.began && !this.committed) {
      throw new InvalidBackupError("the file is truncated: BEGIN TRANSACTION has no matching COMMIT", endLine);
    }
    if (this.header && !this.trailerSeen) {
      throw new InvalidBackupError(`the file is truncated: the closing “${DUMP_END}” line is missing`, endLine);
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  /** The first `n` held bytes, in one array (a view when they lie in one chunk). */
  private heldBytes(n: number): Uint8Array {
    const first = this.held[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const parts: Uint8Array[] = [];
    let got = 0;
    for (const part of this.held) {
      if (got >= n) break;
      const take = Math.min(part.length, n - got);
      parts.push(take === part.length ? part : part.subarray(0, take));
      got += take;
    }
    return concatBytes(parts, got);
  }

  /** Drops the first `n` held bytes. */
  private dropHeld(n: number): void {
    let left = n;
    while (left > 0) {
      const part = this.held[0]!;
      if (part.length <= left) {
        this.held.shift();
        left -= part.length;
      } else {
        this.held[0] = part.subarray(left);
        left = 0;
      }
    }
    this.heldLength -= n;
    this.heldStart += n;
  }

  /** Line number at held byte `n`: the line where the held bytes start plus the newlines before `n`. */
  private heldLine(n: number): number {
    let line = this.lineAt(this.pos);
    let seen = 0;
    for (const part of this.held) {
      if (seen >= n) break;
      const end = Math.min(part.length, n - seen);
      for (let k = part.indexOf(10); k >= 0 && k < end; k = part.indexOf(10, k + 1)) line++;
      seen += part.length;
    }
    // the held bytes begin with `text` from `pos` on, which lineAt(pos) already counts from
    return line;
  }

  /** Decodes the held bytes up to the last point where nothing is open (all of them when final) and scans them. */
  private window(final: boolean): void {
    const cut = final ? this.heldLength : this.ends.rest - this.heldStart;
    const bytes = this.heldBytes(cut);
    this.dropHeld(cut);
    if (!this.checkedStart) {
      this.checkedStart = true;
      checkFirstLine(bytes);
    }
    const whole = final ? bytes.length : wholeCharacters(bytes);
    let text: string;
    let problem: string | null = null;
    try {
      text = this.decoder.decode(bytes.subarray(0, whole));
    } catch {
      // Scan the valid part first (an earlier problem wins), then report at the bad byte's line.
      const bad = invalidUtf8Offset(bytes.subarray(0, whole));
      text = this.decoder.decode(bytes.subarray(0, bad < 0 ? whole : bad));
      problem = INVALID_UTF8;
    }
    const nul = text.indexOf("\0");
    if (nul >= 0) {
      text = text.slice(0, nul);
      problem = binaryReason(0);
    }
    // Line bookkeeping carries over: the new window starts where `pos` was.
    this.line = this.lineAt(this.pos);
    this.linePos = 0;
    this.text = text;
    this.pos = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) this.pos = this.linePos = 1; // a byte order mark
    }
    this.run(final && problem === null);
    if (problem !== null) throw new InvalidBackupError(problem, this.lineAt(text.length));
    // Bytes from `pos` on: char offsets are byte offsets when the window is ASCII (as most are).
    const rest = (text.length === whole ? text.length - this.pos : utf8Length(text, this.pos, text.length)) + (bytes.length - whole);
    this.stuck = rest;
    if (rest > 0) {
      // A copy: a view would keep the whole window's bytes alive.
      this.held.unshift(bytes.slice(bytes.length - rest));
      this.heldLength += rest;
      this.heldStart -= rest;
    }
    if (!final && rest > this.maxBytes) throw new InvalidBackupError(this.tooLarge(), this.lineAt(this.pos));
  }

  /** Line number of position `p` of the window (counting newlines from the last known point). */
  private lineAt(p: number): number {
    const s = this.text;
    if (p >= this.linePos) {
      let line = this.line;
      let k = s.indexOf("\n", this.linePos);
      while (k >= 0 && k < p) {
        line++;
        k = s.indexOf("\n", k + 1);
      }
      this.line = line;
      this.linePos = p;
      return line;
    }
    let line = this.line;
    for (let k = p; k < this.linePos; k++) if (s.charCodeAt(k) === 10) line--;
    return line;
  }

  private run(final: boolean): void {
    const s = this.text;
    try {
      if (!this.headerKnown) this.readHeader(final);
      for (;;) {
        const p = this.skipGap(s, this.pos, final);
        this.pos = p;
        if (p >= s.length) return;
        this.sawText = true;
        this.pos = this.statement(s, p, final);
        this.trailerSeen = false;
      }
    } catch (error) {
      if (error === NEED_MORE) return;
      if (error instanceof SqlFault) throw new InvalidBackupError(error.reason, this.lineAt(error.pos));
      throw error;
    }
  }

  private tooLarge(): string {
    return `a statement is larger than the limit of ${this.maxBytes} bytes`;
  }

  // ---- header and gaps between statements ----

  private readHeader(final: boolean): void {
    const s = this.text;
    const base = this.pos; // after a byte order mark
    if (s.length - base < DUMP_MAGIC.length + 1 && !final && DUMP_MAGIC.startsWith(s.slice(base, base + DUMP_MAGIC.length))) {
      throw NEED_MORE;
    }
    const afterMagic = s.charCodeAt(base + DUMP_MAGIC.length);
    if (!s.startsWith(DUMP_MAGIC, base) || !(afterMagic === 10 || afterMagic === 13 || Number.isNaN(afterMagic))) {
      this.headerKnown = true;
      return;
    }
    // The header is the block of `--` lines at the top; wait until it is complete.
    const fields = new Map<string, { value: string; line: number }>();
    let p = s.indexOf("\n", base);
    if (p < 0 && !final) throw NEED_MORE;
    let line = 1;
    while (p >= 0) {
      p++;
      line++;
      if (p >= s.length) {
        if (!final) throw NEED_MORE;
        break;
      }
      if (!s.startsWith("--", p)) {
        if (s.length - p < 2 && !final) throw NEED_MORE;
        break;
      }
      let end = s.indexOf("\n", p);
      if (end < 0) {
        if (!final) throw NEED_MORE;
        end = s.length;
      }
      const m = /^--[ \t]*([A-Za-z0-9_-]+):[ \t]?(.*?)\r?$/.exec(s.slice(p, end));
      if (m) fields.set(m[1]!.toLowerCase(), { value: m[2]!.trim(), line });
      p = end < s.length ? end : -1;
    }
    const format = fields.get("format");
    if (!format) throw new SqlFault(base, "the Lifeboat header has no “-- format:” line");
    if (!/^\d{1,6}$/.test(format.value) || Number(format.value) < 1) {
      throw new InvalidBackupError(`the Lifeboat header's format “${format.value}” is not a version number`, format.line);
    }
    const version = Number(format.value);
    if (version > DUMP_FORMAT_VERSION) {
      throw new InvalidBackupError(
        `this backup was written by a newer Lifeboat (format ${version}); this version reads format ${DUMP_FORMAT_VERSION}`,
        format.line,
      );
    }
    const header: DumpHeader = { formatVersion: version };
    const str = (key: string) => fields.get(key)?.value;
    if (str("lifeboat-version") !== undefined) header.lifeboatVersion = str("lifeboat-version");
    if (str("created-at") !== undefined) header.createdAt = str("created-at");
    if (str("trigger") !== undefined) header.trigger = str("trigger");
    const rows = fields.get("rows");
    if (rows) header.rowCounts = parseRowCounts(rows.value, rows.line);
    this.header = header;
    this.headerKnown = true;
  }

  /** Skips whitespace, comments and empty statements; notes the Lifeboat trailer line. */
  private skipGap(s: string, i: number, final: boolean): number {
    const len = s.length;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 10 || c === 32 || c === 13 || c === 9 || c === 12 || c === 0xfeff || c === 59) {
        i++;
        continue;
      }
      if (c === 45 && s.charCodeAt(i + 1) === 45) {
        let end = s.indexOf("\n", i + 2);
        if (end < 0) {
          if (!final) {
            this.pos = i;
            throw NEED_MORE;
          }
          end = len;
        }
        const stop = s.charCodeAt(end - 1) === 13 ? end - 1 : end;
        if (stop - i === DUMP_END.length && s.startsWith(DUMP_END, i)) this.trailerSeen = true;
        this.sawText = true;
        i = end;
        continue;
      }
      if (c === 47 && s.charCodeAt(i + 1) === 42) {
        const end = s.indexOf("*/", i + 2);
        if (end < 0) {
          this.pos = i;
          if (!final) throw NEED_MORE;
          throw new SqlFault(i, "the file ends inside a /* comment (the file is truncated)");
        }
        this.sawText = true;
        i = end + 2;
        continue;
      }
      if (i >= len - 1 && !final && (c === 45 || c === 47)) {
        this.pos = i;
        throw NEED_MORE; // might be the start of a comment
      }
      return i;
    }
  }

  // ---- statements ----

  /** Reads, checks and emits the statement starting at `start`; returns the position after its `;`. */
  private statement(s: string, start: number, final: boolean): number {
    const head = this.lastHead;
    if (head !== null && !this.committed && startsWithAt(s, start, head.prefix)) {
      // The same `INSERT INTO t VALUES` as the last statement: its words are already checked.
      const after = start + head.prefix.length;
      if (after < s.length && !isIdChar(s.charCodeAt(after))) return this.insertRows(s, start, after, final, head);
    }
    const lx = new Lexer(s, start, final);
    const t = lx.next();
    if (t !== TK_ID) {
      throw new SqlFault(start, `unexpected “${s.slice(start, lx.pos).slice(0, 20)}” where a statement should start`);
    }
    if (this.writableAt !== null) {
      if (!(isWord(s, start, lx.pos, "INSERT") && this.isSchemaInsert(s, lx.pos, final))) {
        throw new InvalidBackupError(WRITABLE_SCHEMA_REASON, this.writableAt);
      }
      this.writableAt = null;
    }
    if (this.committed) {
      throw new SqlFault(start, `a statement after the final COMMIT is not allowed (found ${describeStatement(s, start)})`);
    }
    if (isWord(s, start, lx.pos, "INSERT")) {
      if (this.schemaWrites && this.isSchemaInsert(s, lx.pos, final)) return this.schemaInsert(s, start, final);
      const head = this.insertHead(lx, start);
      if (head.plain) this.lastHead = head;
      if (head.shadow && "config" in head.shadow && head.shadow.config) return this.configInsert(s, start, final, head);
      return this.insertRows(s, start, lx.pos, final, head);
    }
    const kw = keywordOf(s, start, lx.pos);
    if (kw === "CREATE") {
      const all = new Lexer(s, start, final);
      const toks = collectStatement(all);
      this.checkSize(start, all.pos);
      if (this.schemaWrites && this.isShadowCreate(s, toks)) return all.pos; // the module creates it
      const info = checkCreate(s, toks, { shadows: new Set(this.shadows.keys()) });
      if (info.virtual) this.registerVirtual(info.name, info.virtual, false);
      // As written from CREATE to the last token: SQLite keeps this text in sqlite_schema.
      this.emit(info.kind, start, s.slice(toks[0]!.s, toks[toks.length - 1]!.e), { name: info.name, table: info.table, virtual: info.virtual });
      return all.pos;
    }
    const refusal = REFUSED_STATEMENTS.get(kw);
    if (refusal) throw new SqlFault(start, refusal);
    if (kw === "" || !["PRAGMA", "BEGIN", "COMMIT", "END", "DELETE", "ANALYZE"].includes(kw)) {
      throw new SqlFault(
        start,
        kw ? `${kw} is not allowed in a backup` : `“${s.slice(start, lx.pos).slice(0, 40)}” is not a statement a backup may contain`,
      );
    }
    const all = new Lexer(s, start, final);
    const toks = collectStatement(all);
    const end = all.pos;
    const sql = compactSql(s, toks);
    this.checkSize(start, end);
    switch (kw) {
      case "PRAGMA": {
        const writable = writableSchemaSwitch(s, toks);
        if (writable !== null) {
          // sqlite3 .dump's frame around virtual tables: allows the translation below, never executed.
          if (writable === this.schemaWrites) throw new SqlFault(start, WRITABLE_SCHEMA_REASON);
          this.schemaWrites = writable;
          if (writable) this.writableAt = this.lineAt(start);
          else this.flushRtrees();
          break;
        }
        const pragma = checkPragma(s, toks);
        this.emit("pragma", start, `PRAGMA ${pragma.name}=${pragma.value}`, { pragma });
        break;
      }
      case "BEGIN":
        checkShape(s, toks, /^BEGIN( (DEFERRED|IMMEDIATE|EXCLUSIVE))?( TRANSACTION)?$/, "BEGIN [TRANSACTION]");
        if (this.began) throw new SqlFault(start, "a second BEGIN TRANSACTION is not allowed in a backup");
        this.began = true;
        this.emit("begin", start, sql, {});
        break;
      case "COMMIT":
      case "END":
        checkShape(s, toks, /^(COMMIT|END)( TRANSACTION)?$/, "COMMIT [TRANSACTION]");
        if (!this.began) throw new SqlFault(start, "COMMIT without BEGIN TRANSACTION");
        this.flushRtrees();
        this.flushRebuilds(this.lineAt(start));
        this.committed = true;
        this.emit("commit", start, sql, {});
        break;
      case "DELETE":
        this.emit("sequence-delete", start, sql, { name: checkSequenceDelete(s, toks) });
        break;
      case "ANALYZE":
        checkAnalyze(s, toks);
        this.emit("analyze", start, sql, {});
        break;
    }
    return end;
  }

  private checkSize(start: number, end: number): void {
    const n = end - start;
    if (n * 3 <= this.maxBytes) return;
    if (n > this.maxBytes || utf8Length(this.text, start, end) > this.maxBytes) throw new SqlFault(start, this.tooLarge());
  }

  private emit(
    kind: StatementKind,
    start: number,
    sql: string,
    extra: Partial<Pick<DumpStatement, "name" | "table" | "rows" | "columns" | "pragma" | "virtual" | "line">>,
  ): void {
    this.statements++;
    this.out.push({
      kind,
      sql,
      line: extra.line ?? this.lineAt(start),
      name: extra.name,
      table: extra.table,
      rows: extra.rows,
      columns: extra.columns,
      pragma: extra.pragma,
      ...(extra.virtual ? { virtual: extra.virtual } : {}),
    });
  }

  // ---- virtual tables ----

  private registerVirtual(name: string, spec: VirtualTableSpec, fromDumpForm: boolean): void {
    const known: KnownVirtual = { name, spec, fromDumpForm };
    this.virtuals.set(asciiLower(name), known);
    for (const shadow of shadowTableNames(name, spec.family)) this.shadows.set(shadow, known);
  }

  /** Restores the R*Trees read from the .dump form, through the tables. */
  private flushRtrees(): void {
    for (const [key, tree] of this.rtrees) {
      const line = this.rtreeLines.get(key)!;
      let statements: string[];
      try {
        statements = tree.statements();
      } catch (error) {
        throw new InvalidBackupError(error instanceof Error ? error.message : String(error), line);
      }
      for (const sql of statements) this.emit("insert", 0, sql, { name: tree.name, line });
    }
    this.rtrees.clear();
  }

  private flushRebuilds(line: number): void {
    for (const r of this.pendingRebuilds) {
      const q = quoteIdentifier(r.name);
      this.emit("insert", 0, `INSERT INTO ${q}(${q}) VALUES('rebuild')`, { name: r.name, rows: 1, columns: [r.name], line });
    }
    this.pendingRebuilds = [];
  }

  /** Whether the INSERT from `i` (after the word INSERT) targets sqlite_schema / sqlite_master. */
  private isSchemaInsert(s: string, i: number, final: boolean): boolean {
    const lx = new Lexer(s, i, final);
    if (!(lx.nextSignificant() === TK_ID && isWord(s, lx.start, lx.pos, "INTO"))) return false;
    const t = lx.nextSignificant();
    if (t !== TK_ID && t !== TK_QID && t !== TK_STRING) return false;
    return /^sqlite_(schema|master)$/.test(asciiLower(tokenName(s, lx.start, lx.pos, t)));
  }

  /**
   * sqlite3 .dump's `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)
   * VALUES('table','ft','ft',0,'CREATE VIRTUAL TABLE ft USING fts5(…)')`,
   * translated into the CREATE VIRTUAL TABLE it stands for (checked like any
   * other). Nothing else may be written to sqlite_schema.
   */
  private schemaInsert(s: string, start: number, final: boolean): number {
    const all = new Lexer(s, start, final);
    const toks = collectStatement(all);
    this.checkSize(start, all.pos);
    const text = (t: Tok | undefined) => (t ? s.slice(t.s, t.e) : "");
    const expect = ["INSERT", "INTO", "", "(", "type", ",", "name", ",", "tbl_name", ",", "rootpage", ",", "sql", ")", "VALUES", "("];
    const refuse = (): never => {
      throw new SqlFault(
        start,
        "INSERT INTO sqlite_schema is not allowed in a backup except sqlite3 .dump's form for a virtual table (type, name, tbl_name, rootpage 0, its CREATE VIRTUAL TABLE)",
      );
    };
    if (toks.length !== expect.length + 10) refuse();
    for (let k = 0; k < expect.length; k++) {
      if (expect[k] !== "" && asciiLower(text(toks[k])) !== asciiLower(expect[k]!)) refuse();
    }
    const v = toks.slice(expect.length);
    const str = (t: Tok | undefined) => (t && t.t === TK_STRING ? tokenName(s, t.s, t.e, t.t) : refuse());
    if (v[1]!.t !== TK_COMMA || v[3]!.t !== TK_COMMA || v[5]!.t !== TK_COMMA || v[7]!.t !== TK_COMMA || v[9]!.t !== TK_RP) refuse();
    const type = str(v[0]);
    const name = str(v[2]);
    const tblName = str(v[4]);
    if (type !== "table" || v[6]!.t !== TK_INTEGER || text(v[6]) !== "0" || name !== tblName) refuse();
    const sql = str(v[8]);
    let info;
    try {
      info = checkSchemaSql(sql, { shadows: new Set(this.shadows.keys()) });
    } catch (error) {
      if (error instanceof SqlFault) throw new SqlFault(v[8]!.s, error.reason);
      throw error;
    }
    if (info.kind !== "create-virtual" || !info.virtual) refuse();
    if (asciiLower(info.name) !== asciiLower(name)) refuse();
    const spec = info.virtual!;
    if (spec.content.kind === "none" && spec.content.contentless) {
      throw new SqlFault(
        start,
        `${name} is a contentless full-text table: a sqlite3 .dump holds only its index, which Lifeboat never writes directly, so it cannot be restored`,
      );
    }
    this.registerVirtual(name, spec, true);
    if (spec.family === "rtree") {
      this.rtrees.set(asciiLower(name), new RtreeFromDump(name, spec, this.maxBytes));
      this.rtreeLines.set(asciiLower(name), this.lineAt(start));
    }
    if (spec.content.kind === "external") this.pendingRebuilds.push({ name, line: this.lineAt(start) });
    const trimmed = sql.trim();
    this.emit("create-virtual", start, trimmed, { name, virtual: spec });
    return all.pos;
  }

  /** sqlite3 .dump's `CREATE TABLE IF NOT EXISTS 'ft_data'(…)` of a shadow table: left out (the module creates it). */
  private isShadowCreate(s: string, toks: Tok[]): boolean {
    if (toks.length < 6 || toks[1]!.kw !== "TABLE" || toks[2]!.kw !== "IF" || toks[3]!.kw !== "NOT" || toks[4]!.kw !== "EXISTS") return false;
    const t = toks[5]!;
    if (t.t !== TK_ID && t.t !== TK_QID && t.t !== TK_STRING) return false;
    return this.shadows.has(asciiLower(tokenName(s, t.s, t.e, t.t)));
  }

  /** What sqlite3 .dump's rows of a shadow table become (see `InsertHead.shadow`). */
  private shadowRows(known: KnownVirtual, table: string, columns: readonly string[] | undefined, at: number): InsertHead["shadow"] {
    if (!this.schemaWrites || !known.fromDumpForm || columns !== undefined) {
      throw new SqlFault(at, `${table} is an internal (shadow) table of virtual table ${known.name}; a backup may not write it directly`);
    }
    const suffix = asciiLower(table).slice(known.name.length);
    const q = quoteIdentifier(known.name);
    const spec = known.spec;
    if (suffix === "_content" && spec.content.kind === "own") {
      const key = spec.family === "fts5" ? "rowid" : "docid";
      const cols = [key, ...spec.columns, ...(spec.languageId !== undefined ? [spec.languageId] : [])];
      return { skip: false, rewrite: `INSERT INTO ${q}(${cols.map(quoteIdentifier).join(",")}) VALUES`, config: false };
    }
    if (suffix === "_config" && spec.family === "fts5") {
      return { skip: false, rewrite: `INSERT INTO ${q}(${q},"rank") VALUES`, config: true };
    }
    if (spec.family === "rtree" && (suffix === "_rowid" || suffix === "_node")) return { skip: false, rtree: suffix === "_rowid" ? "rowid" : "node" };
    return { skip: true };
  }

  /**
   * sqlite3 .dump's `INSERT INTO ft_config VALUES('key', value)`: the fts5
   * settings, restored through the table (`INSERT INTO ft(ft, rank) VALUES(…)`);
   * `version` is the module's own and is left out.
   */
  private configInsert(s: string, start: number, final: boolean, head: InsertHead): number {
    const all = new Lexer(s, start, final);
    const toks = collectStatement(all);
    this.checkSize(start, all.pos);
    const n = toks.length;
    const key = toks[n - 4];
    const value = toks[n - 2];
    const okValue = value && (value.t === TK_STRING || value.t === TK_INTEGER || value.t === TK_FLOAT);
    if (!key || key.t !== TK_STRING || toks[n - 5]?.t !== TK_LP || toks[n - 3]?.t !== TK_COMMA || !okValue || toks[n - 1]?.t !== TK_RP || toks[n - 6]?.kw !== "VALUES") {
      throw new SqlFault(start, `expected one ('key', value) row for ${head.name}`);
    }
    const k = tokenName(s, key.s, key.e, key.t);
    if (k === "version") return all.pos;
    if (!FTS5_CONFIG_KEYS.has(k)) throw new SqlFault(key.s, `the fts5 setting “${k}” is not one a backup may restore`);
    const sql = `${(head.shadow as { rewrite: string }).rewrite}(${s.slice(key.s, key.e)},${s.slice(value.s, value.e)})`;
    this.emit("insert", start, sql, { name: this.shadows.get(asciiLower(head.name))!.name, rows: 1 });
    return all.pos;
  }

  /** Hands the rows of sqlite3 .dump's `r_rowid` / `r_node` INSERT to the R*Tree translation. */
  private collectRtree(s: string, valuesEnd: number, lastEnd: number, head: InsertHead, kind: "rowid" | "node"): void {
    const known = this.shadows.get(asciiLower(head.name))!;
    const tree = this.rtrees.get(asciiLower(known.name))!;
    for (const row of rowsOf(s, valuesEnd, lastEnd)) {
      const bad = () => new SqlFault(valuesEnd, `a row of ${head.name} is not what sqlite3 .dump writes for an R*Tree`);
      const key = row[0];
      if (!key || !/^-?\d+$/.test(key)) throw bad();
      try {
        if (kind === "rowid") tree.addRowid(BigInt(key), row.slice(2));
        else {
          const blob = row[1];
          if (row.length !== 2 || !blob || !/^[Xx]'([0-9A-Fa-f]{2})*'$/.test(blob)) throw bad();
          tree.addNode(BigInt(key), Buffer.from(blob.slice(2, -1), "hex"));
        }
      } catch (error) {
        if (error instanceof SqlFault) throw error;
        throw new SqlFault(valuesEnd, error instanceof Error ? error.message : String(error));
      }
    }
  }

  /** An INSERT into a virtual table naming the table itself: only the commands a backup writes. */
  private checkVirtualCommand(known: KnownVirtual, columns: readonly string[], body: string, rows: number, at: number): void {
    const self = asciiLower(known.name);
    if (!columns.some((c) => asciiLower(c) === self)) return;
    const lower = columns.map(asciiLower);
    if (rows === 1 && lower.length === 1 && /^\(\s*'rebuild'\s*\)$/.test(body) && known.spec.family !== "rtree") return;
    if (rows === 1 && known.spec.family === "fts5" && lower.length === 2 && lower[0] === self && lower[1] === "rank") {
      const m = /^\(\s*'([a-z-]+)'\s*,\s*(?:'(?:[^']|'')*'|-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*\)$/.exec(body);
      if (m && FTS5_CONFIG_KEYS.has(m[1]!)) return;
    }
    throw new SqlFault(at, `only INSERT INTO ${known.name}(${known.name}) VALUES('rebuild') and fts5 settings may address virtual table ${known.name} itself in a backup`);
  }

  // ---- INSERT ----

  /**
   * `INSERT INTO name [(columns)] VALUES (…), (…);` with literal values only.
   * The words up to VALUES are read once per distinct prefix (consecutive
   * INSERTs into one table share it); rows are matched with `ROW` and only rows
   * it does not match go through the value-by-value scanner.
   */
  private insertHead(lx: Lexer, start: number): InsertHead {
    const s = lx.s;
    let t = lx.nextSignificant();
    if (t === TK_ID && isWord(s, lx.start, lx.pos, "OR")) throw new SqlFault(lx.start, "INSERT OR … is not allowed in a backup (dumps use plain INSERT INTO)");
    if (!(t === TK_ID && isWord(s, lx.start, lx.pos, "INTO"))) {
      if (t === TK_EOF) throw truncated(start);
      throw new SqlFault(lx.start, "expected INTO after INSERT");
    }
    t = lx.nextSignificant();
    let nameAt = lx.start;
    if (!isNameToken(s, lx, t)) throw t === TK_EOF ? truncated(start) : new SqlFault(nameAt, "expected a table name after INSERT INTO");
    let name = tokenName(s, nameAt, lx.pos, t);
    t = lx.nextSignificant();
    if (t === TK_DOT) {
      if (asciiLower(name) !== "main") throw new SqlFault(nameAt, `only the main database can be restored (found “${name}.”)`);
      t = lx.nextSignificant();
      nameAt = lx.start;
      if (!isNameToken(s, lx, t)) throw t === TK_EOF ? truncated(start) : new SqlFault(nameAt, "expected a table name after INSERT INTO");
      name = tokenName(s, nameAt, lx.pos, t);
      t = lx.nextSignificant();
    }
    const target = insertTarget(name, nameAt);
    let columns: string[] | undefined;
    if (t === TK_LP) {
      columns = [];
      for (;;) {
        t = lx.nextSignificant();
        if (!isNameToken(s, lx, t)) throw t === TK_EOF ? truncated(start) : new SqlFault(lx.start, "expected a column name in the INSERT column list");
        columns.push(tokenName(s, lx.start, lx.pos, t));
        t = lx.nextSignificant();
        if (t === TK_COMMA) continue;
        if (t === TK_RP) break;
        throw t === TK_EOF ? truncated(start) : new SqlFault(lx.start, "expected “,” or “)” in the INSERT column list");
      }
      t = lx.nextSignificant();
    }
    if (!(t === TK_ID && isWord(s, lx.start, lx.pos, "VALUES"))) {
      const kw = t === TK_ID ? keywordOf(s, lx.start, lx.pos) : "";
      if (kw === "SELECT" || kw === "WITH") throw new SqlFault(lx.start, "INSERT … SELECT is not allowed in a backup (only INSERT … VALUES with literal values)");
      if (kw === "DEFAULT") throw new SqlFault(lx.start, "INSERT … DEFAULT VALUES is not allowed in a backup");
      if (t === TK_EOF) throw truncated(start);
      throw new SqlFault(lx.start, "expected VALUES in INSERT");
    }
    const shadowOf = this.shadows.get(asciiLower(target.name));
    const shadow = shadowOf ? this.shadowRows(shadowOf, target.name, columns, nameAt) : undefined;
    // Copies: the head outlives this window, a slice would keep all of it alive.
    return {
      prefix: detach(s.slice(start, lx.pos)),
      kind: target.kind,
      name: detach(target.name),
      columns: columns && Object.freeze(columns.map(detach)),
      plain: lx.plain && shadow === undefined,
      ...(shadow ? { shadow } : {}),
    };
  }

  /** The rows of an INSERT from `i` (after VALUES) to its `;`; emits the statement and returns the position after the `;`. */
  private insertRows(s: string, start: number, i: number, final: boolean, head: InsertHead): number {
    this.plain = head.plain;
    const valuesEnd = i;
    let rows = 0;
    let lastEnd = i;
    for (;;) {
      let c = s.charCodeAt(i);
      if (c !== 40) {
        i = this.skip(s, i, final, start);
        c = s.charCodeAt(i);
        if (c !== 40) throw new SqlFault(i, `expected “(” starting a row of values but found ${describeAt(s, i)}`);
      }
      ROW.lastIndex = i;
      let matched = false;
      try {
        matched = ROW.test(s);
      } catch {
        // the regex engine's backtracking stack overflowed on a huge row: scan it value by value
      }
      i = matched ? ROW.lastIndex : this.row(s, i + 1, final, start);
      rows++;
      lastEnd = i;
      c = s.charCodeAt(i);
      if (c !== 44 && c !== 59) {
        i = this.skip(s, i, final, start);
        c = s.charCodeAt(i);
      }
      if (c === 44) {
        i++;
        continue;
      }
      if (c === 59) break;
      const kw = keywordAt(s, i);
      if (kw === "ON") throw new SqlFault(i, "an ON CONFLICT (upsert) clause is not allowed in a backup");
      if (kw === "RETURNING") throw new SqlFault(i, "a RETURNING clause is not allowed in a backup");
      throw new SqlFault(i, `expected “,” or “;” after a row of values but found ${describeAt(s, i)}`);
    }
    const end = i + 1;
    this.checkSize(start, end);
    if (head.shadow) {
      if ("rtree" in head.shadow) this.collectRtree(s, valuesEnd, lastEnd, head, head.shadow.rtree);
      else if ("rewrite" in head.shadow) {
        const known = this.shadows.get(asciiLower(head.name))!;
        this.emit("insert", start, head.shadow.rewrite + compactRange(s, valuesEnd, lastEnd), { name: known.name, rows });
      }
      return end;
    }
    const sql = this.plain ? s.slice(start, lastEnd) : compactRange(s, start, lastEnd);
    const known = head.kind === "insert" && this.virtuals.size > 0 ? this.virtuals.get(asciiLower(head.name)) : undefined;
    if (known && head.columns) this.checkVirtualCommand(known, head.columns, compactRange(s, valuesEnd, lastEnd), rows, start);
    this.emit(head.kind, start, sql, { name: head.name, rows, columns: head.columns });
    return end;
  }

  /** One row, value by value, from after its `(`; returns the position after its `)`. */
  private row(s: string, i: number, final: boolean, start: number): number {
    const len = s.length;
    for (;;) {
      let c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        i = this.skip(s, i, final, start);
        c = s.charCodeAt(i);
      }
      if (c === 39) {
        i = scanQuoted(s, i, 39, final);
      } else if ((c >= 48 && c <= 57) || (c === 46 && isDigitAt(s, i + 1))) {
        i = scanNumber(s, i, final);
      } else if ((c === 45 || c === 43) && (isDigitAt(s, i + 1) || (s.charCodeAt(i + 1) === 46 && isDigitAt(s, i + 2)))) {
        i = scanNumber(s, i + 1, final);
      } else if ((c === 88 || c === 120) && s.charCodeAt(i + 1) === 39) {
        i = scanBlob(s, i, final);
      } else {
        i = this.value(s, i, final, start);
      }
      c = s.charCodeAt(i);
      if (c !== 44 && c !== 41) {
        i = this.afterValue(s, i, final, start);
        c = s.charCodeAt(i);
      }
      if (c === 44) {
        i++;
        continue;
      }
      if (c === 41) return i + 1;
      if (i >= len) {
        if (!final) throw NEED_MORE;
        throw truncated(start);
      }
      throw new SqlFault(i, `expected “,” or “)” after a value but found ${describeAt(s, i)}`);
    }
  }

  /** Skips whitespace and comments inside an INSERT; needs more text rather than stopping at the end. */
  private skip(s: string, i: number, final: boolean, start: number): number {
    const len = s.length;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        i++;
      } else if (c === 12 || c === 0xfeff) {
        this.plain = false;
        i++;
      } else if (c === 45 && s.charCodeAt(i + 1) === 45) {
        const end = s.indexOf("\n", i + 2);
        if (end < 0) {
          if (!final) throw NEED_MORE;
          throw new SqlFault(start, "the file ends in the middle of a statement (the file is truncated)");
        }
        this.plain = false;
        i = end;
      } else if (c === 47 && s.charCodeAt(i + 1) === 42) {
        const end = s.indexOf("*/", i + 2);
        if (end < 0) {
          if (!final) throw NEED_MORE;
          throw new SqlFault(i, "the file ends inside a /* comment (the file is truncated)");
        }
        this.plain = false;
        i = end + 2;
      } else {
        if (i >= len - 1 && !final && (c === 45 || c === 47 || i >= len)) throw NEED_MORE;
        if (i >= len && final) throw new SqlFault(start, "the file ends in the middle of a statement (the file is truncated)");
        return i;
      }
    }
  }

  /** After a value: whitespace, comments and `||` continuations; returns the position of the separator. */
  private afterValue(s: string, i: number, final: boolean, start: number): number {
    for (;;) {
      i = this.skip(s, i, final, start);
      if (s.charCodeAt(i) === 124) {
        if (i + 2 >= s.length && !final) throw NEED_MORE;
        if (s.charCodeAt(i + 1) !== 124) return i;
        i = this.value(s, i + 2, final, start);
        continue;
      }
      return i;
    }
  }

  /** One value read with the lexer: a literal, a signed number, or an allowed function of values. */
  private value(s: string, i: number, final: boolean, start: number, depth = 0): number {
    if (depth > MAX_VALUE_DEPTH) throw new SqlFault(i, "a value is nested too deeply");
    const lx = new Lexer(s, i, final);
    let t = lx.nextSignificant();
    if (!lx.plain) this.plain = false;
    const at = lx.start;
    switch (t) {
      case TK_STRING:
      case TK_BLOB:
      case TK_INTEGER:
      case TK_FLOAT:
        return lx.pos;
      case TK_OP: {
        const op = s.charCodeAt(at);
        if (op !== 45 && op !== 43) break;
        // signs, then a number
        for (;;) {
          t = lx.nextSignificant();
          if (!lx.plain) this.plain = false;
          if (t === TK_INTEGER || t === TK_FLOAT) return lx.pos;
          if (t === TK_OP && (s.charCodeAt(lx.start) === 45 || s.charCodeAt(lx.start) === 43) && lx.pos - lx.start === 1) continue;
          if (t === TK_EOF) throw truncated(start);
          throw new SqlFault(lx.start, "a sign must be followed by a number in a backup's values");
        }
      }
      case TK_ID:
      case TK_QID: {
        const word = tokenName(s, at, lx.pos, t);
        const wordEnd = lx.pos;
        if (t === TK_ID) {
          const kw = keywordOf(s, at, wordEnd);
          if (kw === "NULL") return wordEnd;
          if (kw === "" && (isWord(s, at, wordEnd, "TRUE") || isWord(s, at, wordEnd, "FALSE"))) {
            return this.notCalled(lx, wordEnd, word, at);
          }
          if (kw === "CAST") return this.castValue(lx, final, start, depth);
        }
        t = lx.nextSignificant();
        if (!lx.plain) this.plain = false;
        if (t !== TK_LP) {
          if (t === TK_EOF) throw truncated(start);
          throw new SqlFault(at, `“${word}” is not a value a backup may insert (only literals and char(), replace(), unistr() or CAST)`);
        }
        const fn = DUMP_VALUE_FUNCTIONS.get(asciiLower(word));
        if (!fn) throw new SqlFault(at, functionRefusal(word));
        let args = 0;
        let p = lx.pos;
        const peek = new Lexer(s, p, final);
        if (peek.nextSignificant() === TK_RP) {
          if (!peek.plain) this.plain = false;
          p = peek.pos;
        } else {
          for (;;) {
            p = this.value(s, p, final, start, depth + 1);
            args++;
            p = this.afterValue(s, p, final, start);
            const sep = s.charCodeAt(p);
            if (sep === 44) {
              p++;
              continue;
            }
            if (sep === 41) {
              p++;
              break;
            }
            throw new SqlFault(p, `expected “,” or “)” in the arguments of ${word}() but found ${describeAt(s, p)}`);
          }
        }
        if (args < fn.min || args > fn.max) throw new SqlFault(at, `${word}() takes ${fn.min === fn.max ? fn.min : `at least ${fn.min}`} argument${fn.min === 1 ? "" : "s"}`);
        return p;
      }
      case TK_LP:
        return this.exactReal(lx, start);
      case TK_EOF:
        throw truncated(start);
      default:
        break;
    }
    throw new SqlFault(at, `expected a value but found ${describeAt(s, at)}`);
  }

  /**
   * `(M*2^-300*…)`: a tiny REAL in its exact binary form, as Lifeboat writes
   * those older sqlite3 shells misread in decimal (`realLiteral`). Only
   * numbers joined by `*`, the first one optionally signed.
   */
  private exactReal(lx: Lexer, start: number): number {
    const s = lx.s;
    const at = lx.start;
    let t = lx.nextSignificant();
    if (t === TK_OP && (s.charCodeAt(lx.start) === 45 || s.charCodeAt(lx.start) === 43) && lx.pos - lx.start === 1) t = lx.nextSignificant();
    let factors = 0;
    for (;;) {
      if (t === TK_EOF) throw truncated(start);
      if (t !== TK_INTEGER && t !== TK_FLOAT) throw new SqlFault(at, "only a product of numbers may stand in parentheses in a backup's values");
      factors++;
      t = lx.nextSignificant();
      if (t === TK_OP && lx.pos - lx.start === 1 && s.charCodeAt(lx.start) === 42) {
        t = lx.nextSignificant();
        continue;
      }
      break;
    }
    if (!lx.plain) this.plain = false;
    if (t === TK_EOF) throw truncated(start);
    if (t !== TK_RP || factors < 2) throw new SqlFault(at, "only a product of numbers may stand in parentheses in a backup's values");
    return lx.pos;
  }

  /** TRUE / FALSE: a word that must not be called as a function. */
  private notCalled(lx: Lexer, wordEnd: number, word: string, at: number): number {
    const t = lx.nextSignificant();
    if (t === TK_LP) throw new SqlFault(at, functionRefusal(word));
    return wordEnd;
  }

  /** `CAST ( value AS type-name )` */
  private castValue(lx: Lexer, final: boolean, start: number, depth: number): number {
    const s = lx.s;
    let t = lx.nextSignificant();
    if (!lx.plain) this.plain = false;
    if (t !== TK_LP) throw t === TK_EOF ? truncated(start) : new SqlFault(lx.start, "expected “(” after CAST");
    let p = this.value(s, lx.pos, final, start, depth + 1);
    p = this.afterValue(s, p, final, start);
    const tl = new Lexer(s, p, final);
    t = tl.nextSignificant();
    if (!(t === TK_ID && isWord(s, tl.start, tl.pos, "AS"))) throw t === TK_EOF ? truncated(start) : new SqlFault(tl.start, "expected AS in CAST");
    let words = 0;
    for (;;) {
      t = tl.nextSignificant();
      if (t === TK_ID || t === TK_QID || t === TK_STRING) {
        const kw = t === TK_ID ? keywordOf(s, tl.start, tl.pos) : "";
        if (kw && !NAME_KEYWORDS.has(kw)) throw new SqlFault(tl.start, `expected a type name in CAST but found ${describeAt(s, tl.start)}`);
        words++;
        continue;
      }
      break;
    }
    if (t === TK_LP && words > 0) {
      for (let n = 0; ; n++) {
        t = tl.nextSignificant();
        if (t === TK_OP && (s.charCodeAt(tl.start) === 45 || s.charCodeAt(tl.start) === 43)) t = tl.nextSignificant();
        if (t !== TK_INTEGER && t !== TK_FLOAT) throw new SqlFault(tl.start, "expected a number in the CAST type");
        t = tl.nextSignificant();
        if (t === TK_COMMA && n === 0) continue;
        if (t !== TK_RP) throw new SqlFault(tl.start, "expected “)” in the CAST type");
        break;
      }
      t = tl.nextSignificant();
    }
    if (!tl.plain) this.plain = false;
    if (t !== TK_RP) throw t === TK_EOF ? truncated(start) : new SqlFault(tl.start, `expected “)” closing CAST but found ${describeAt(s, tl.start)}`);
    return tl.pos;
  }
}

// ---- helpers ---------------------------------------------------------------

/** A copy of `text` that does not share (and keep alive) the window it was sliced from. */
function detach(text: string): string {
  return text.length < 13 ? text : text.split("").join("");
}

/** `s.startsWith(prefix, at)` as a plain loop: several times faster here than the builtin with a position. */
function startsWithAt(s: string, at: number, prefix: string): boolean {
  const n = prefix.length;
  if (at + n > s.length) return false;
  for (let k = 0; k < n; k++) if (s.charCodeAt(at + k) !== prefix.charCodeAt(k)) return false;
  return true;
}

function truncated(start: number): SqlFault {
  return new SqlFault(start, "the file ends in the middle of a statement (the file is truncated)");
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function isNameToken(s: string, lx: Lexer, t: number): boolean {
  if (t === TK_QID || t === TK_STRING) return true;
  if (t !== TK_ID) return false;
  const kw = keywordOf(s, lx.start, lx.pos);
  return kw === "" || NAME_KEYWORDS.has(kw);
}

function insertTarget(name: string, at: number): { kind: StatementKind; name: string } {
  const lower = asciiLower(name);
  if (!lower.startsWith("sqlite_")) return { kind: "insert", name };
  if (lower === "sqlite_sequence") return { kind: "sequence-insert", name };
  if (lower === "sqlite_stat1" || lower === "sqlite_stat4") return { kind: "stat-insert", name };
  throw new SqlFault(at, INTERNAL_INSERT_REASON(name));
}

function keywordAt(s: string, i: number): string {
  let j = i;
  while (isIdChar(s.charCodeAt(j))) j++;
  return keywordOf(s, i, j);
}

function describeAt(s: string, i: number): string {
  if (i >= s.length) return "the end of the file";
  const lx = new Lexer(s, i, true);
  try {
    lx.next();
    const text = s.slice(i, lx.pos);
    return `“${text.length > 30 ? text.slice(0, 30) + "…" : text}”`;
  } catch {
    return `“${s.slice(i, i + 10)}”`;
  }
}

function describeStatement(s: string, start: number): string {
  const firstLine = s.slice(start, start + 60).split("\n")[0]!;
  return `“${firstLine.length > 40 ? firstLine.slice(0, 40) + "…" : firstLine}”`;
}

/** The rows of VALUES text (from after VALUES to the end of the last row), each as the text of its values. */
function rowsOf(s: string, start: number, end: number): string[][] {
  const lx = new Lexer(s, start, true);
  const rows: string[][] = [];
  let row: string[] = [];
  let value = "";
  let depth = 0;
  while (lx.pos < end) {
    const t = lx.nextSignificant();
    if (t === TK_EOF) break;
    const text = s.slice(lx.start, lx.pos);
    if (t === TK_LP) {
      depth++;
      if (depth === 1) continue;
    } else if (t === TK_RP) {
      depth--;
      if (depth === 0) {
        row.push(value);
        rows.push(row);
        row = [];
        value = "";
        continue;
      }
    } else if (t === TK_COMMA && depth === 1) {
      row.push(value);
      value = "";
      continue;
    } else if (t === TK_COMMA && depth === 0) continue;
    value += value && /^[\w'"X]/.test(text) && /[\w'"]$/.test(value) ? ` ${text}` : text;
  }
  return rows;
}

/** The tokens of a statement joined with single spaces where the source had whitespace or comments. */
function compactSql(s: string, toks: Tok[]): string {
  let out = "";
  let prevEnd = -1;
  for (const tok of toks) {
    if (prevEnd >= 0 && tok.s !== prevEnd) out += " ";
    out += s.slice(tok.s, tok.e);
    prevEnd = tok.e;
  }
  return out;
}

/** `compactSql` over a range of complete text. */
function compactRange(s: string, start: number, end: number): string {
  const lx = new Lexer(s, start, true);
  const parts: string[] = [];
  let prevEnd = -1;
  while (lx.pos < end) {
    const t = lx.next();
    if (t === TK_EOF) break;
    if (t === 1 /* space */ || t === 2 /* comment */) continue;
    if (prevEnd >= 0 && lx.start !== prevEnd) parts.push(" ");
    parts.push(s.slice(lx.start, lx.pos));
    prevEnd = lx.pos;
  }
  return parts.join("");
}

function utf8Length(s: string, start: number, end: number): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      k++;
    } else n += 3;
  }
  return n;
}

/** Checks a short statement's words (upper-cased, single-spaced) against `shape`. */
function checkShape(s: string, toks: Tok[], shape: RegExp, expected: string): void {
  const words = toks.map((t) => (t.t === TK_ID ? s.slice(t.s, t.e).toUpperCase() : s.slice(t.s, t.e))).join(" ");
  if (!shape.test(words)) throw new SqlFault(toks[0]!.s, `expected “${expected}” but found “${words.slice(0, 60)}”`);
}

function checkSequenceDelete(s: string, toks: Tok[]): string {
  const words = toks.map((t) => s.slice(t.s, t.e));
  const target = toks[2] && (toks[2].t === TK_ID || toks[2].t === TK_QID || toks[2].t === TK_STRING) ? tokenName(s, toks[2].s, toks[2].e, toks[2].t) : "";
  const isFrom = words[1]?.toUpperCase() === "FROM";
  if (isFrom && asciiLower(target) === "sqlite_sequence") {
    if (toks.length === 3) return target;
    throw new SqlFault(toks[3]!.s, "DELETE FROM sqlite_sequence may not have a WHERE clause or anything else in a backup");
  }
  throw new SqlFault(toks[0]!.s, "DELETE is not allowed in a backup (only DELETE FROM sqlite_sequence)");
}

function checkAnalyze(s: string, toks: Tok[]): void {
  if (toks.length === 1) return;
  if (toks.length === 2) {
    const t = toks[1]!;
    if (t.t === TK_ID || t.t === TK_QID || t.t === TK_STRING) {
      const name = asciiLower(tokenName(s, t.s, t.e, t.t));
      if (name === "sqlite_schema" || name === "sqlite_master") return;
    }
  }
  throw new SqlFault(toks[0]!.s, "only ANALYZE sqlite_schema is allowed in a backup (it creates the statistics tables a dump fills)");
}

/**
 * `PRAGMA writable_schema=ON|OFF` exactly as sqlite3 .dump writes it: true or
 * false; null for any other statement (which `checkPragma` then refuses).
 */
function writableSchemaSwitch(s: string, toks: Tok[]): boolean | null {
  if (toks.length !== 4 || toks[2]!.t !== TK_OP || s.slice(toks[2]!.s, toks[2]!.e) !== "=") return null;
  if (toks[1]!.t !== TK_ID || asciiLower(s.slice(toks[1]!.s, toks[1]!.e)) !== "writable_schema" || toks[3]!.t !== TK_ID) return null;
  const v = s.slice(toks[3]!.s, toks[3]!.e).toUpperCase();
  return v === "ON" ? true : v === "OFF" ? false : null;
}

function checkPragma(s: string, toks: Tok[]): { name: string; value: string } {
  const at = toks[0]!.s;
  const nameTok = toks[1];
  if (!nameTok || (nameTok.t !== TK_ID && nameTok.t !== TK_QID)) throw new SqlFault(at, "expected a pragma name after PRAGMA");
  if (toks[2]?.t === TK_DOT) throw new SqlFault(at, "a PRAGMA with a schema name is not allowed in a backup");
  const name = asciiLower(tokenName(s, nameTok.s, nameTok.e, nameTok.t));
  if (!ALLOWED_PRAGMAS.has(name)) {
    if (name === "writable_schema") throw new SqlFault(at, WRITABLE_SCHEMA_REASON);
    throw new SqlFault(at, `PRAGMA ${name} is not allowed in a backup (only foreign_keys, user_version and application_id)`);
  }
  // PRAGMA name = value   |   PRAGMA name(value)
  let k = 2;
  let closing = false;
  if (toks[k]?.t === TK_OP && s.slice(toks[k]!.s, toks[k]!.e) === "=") k++;
  else if (toks[k]?.t === TK_LP) {
    k++;
    closing = true;
  } else throw new SqlFault(at, `PRAGMA ${name} must set a value in a backup`);
  let sign = "";
  if (toks[k]?.t === TK_OP && (s[toks[k]!.s] === "-" || s[toks[k]!.s] === "+") && toks[k]!.e - toks[k]!.s === 1) {
    sign = s[toks[k]!.s] === "-" ? "-" : "";
    k++;
  }
  const v = toks[k];
  if (!v) throw new SqlFault(at, `PRAGMA ${name} must set a value in a backup`);
  k++;
  if (closing) {
    if (toks[k]?.t !== TK_RP) throw new SqlFault(at, `malformed PRAGMA ${name}`);
    k++;
  }
  if (k !== toks.length) throw new SqlFault(toks[k]!.s, `unexpected text after PRAGMA ${name}`);
  const raw = v.t === TK_ID || v.t === TK_QID || v.t === TK_STRING ? tokenName(s, v.s, v.e, v.t) : s.slice(v.s, v.e);
  if (name === "foreign_keys") {
    const word = raw.toLowerCase();
    if (!sign && ["on", "yes", "true", "1"].includes(word)) return { name, value: "ON" };
    if (!sign && ["off", "no", "false", "0"].includes(word)) return { name, value: "OFF" };
    throw new SqlFault(v.s, `PRAGMA foreign_keys takes ON or OFF, not “${raw}”`);
  }
  if (v.t !== TK_INTEGER) throw new SqlFault(v.s, `PRAGMA ${name} takes an integer, not “${raw}”`);
  let n: bigint;
  try {
    n = BigInt(raw);
  } catch {
    throw new SqlFault(v.s, `PRAGMA ${name} takes an integer, not “${raw}”`);
  }
  if (sign) n = -n;
  if (n < -2147483648n || n > 2147483647n) throw new SqlFault(v.s, `PRAGMA ${name} takes a 32-bit integer, not ${sign}${raw}`);
  return { name, value: n.toString() };
}

function parseRowCounts(json: string, line: number): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidBackupError("the Lifeboat header's rows line is not valid JSON", line);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidBackupError("the Lifeboat header's rows line must be a JSON object of table names and row counts", line);
  }
  const counts: Record<string, number> = Object.create(null);
  for (const [table, n] of Object.entries(value)) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw new InvalidBackupError(`the Lifeboat header's row count for ${table} is not a whole number`, line);
    }
    counts[table] = n;
  }
  return counts;
}
