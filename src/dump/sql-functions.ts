/**
 * Which SQL functions and table-valued functions a backup may mention.
 *
 * Row values in INSERT statements may only use the few functions dumps write
 * (`DUMP_VALUE_FUNCTIONS`). Schema text that runs while rows are inserted
 * (CHECK, DEFAULT, generated columns, index expressions) may only call
 * SQLite's built-in, side-effect-free functions (`SCHEMA_FUNCTIONS`): a restore
 * has no other. Views and triggers run later, in the application, which
 * registers its own functions: there any function may be named except the
 * dangerous ones some builds ship (`readfile`, `writefile`, `load_extension`,
 * `fts3_tokenizer`, …), which are refused everywhere.
 * Names compare like SQLite compares them: ASCII case-insensitively.
 */
import { asciiLower } from "./sql-tokenizer.ts";

/** Functions `sqlite3 .dump` and Lifeboat write inside INSERT values, with their argument counts. */
export const DUMP_VALUE_FUNCTIONS: ReadonlyMap<string, { min: number; max: number }> = new Map([
  ["char", { min: 0, max: Infinity }],
  ["replace", { min: 3, max: 3 }],
  ["unistr", { min: 1, max: 1 }],
]);

/** SQLite's built-in scalar, aggregate, window, date/time, math and JSON functions (no I/O, no extensions). */
const SCHEMA_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    // core scalar functions
    "abs char coalesce concat concat_ws format glob hex if ifnull iif instr length like likelihood likely",
    "lower ltrim max min nullif octet_length printf quote random randomblob replace round rtrim sign soundex",
    "substr substring trim typeof unhex unicode unistr unistr_quote unlikely upper zeroblob",
    "changes last_insert_rowid total_changes sqlite_version sqlite_source_id sqlite_offset",
    // aggregates
    "avg count group_concat string_agg sum total median percentile percentile_cont percentile_disc",
    // window functions
    "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value",
    // date and time
    "date time datetime julianday unixepoch strftime timediff",
    // math
    "acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2 mod pi",
    "pow power radians sin sinh sqrt tan tanh trunc",
    // JSON
    "json jsonb json_array jsonb_array json_array_length json_error_position json_extract jsonb_extract",
    "json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch json_pretty json_remove jsonb_remove",
    "json_replace jsonb_replace json_set jsonb_set json_type json_valid json_quote json_group_array",
    "jsonb_group_array json_group_object jsonb_group_object",
    // libSQL's vector functions (pure computations on blobs)
    "vector vector32 vector64 vector_extract vector_distance_cos vector_distance_l2",
  ]
    .join(" ")
    .split(" "),
);

/** Table-valued functions a view or trigger may read from (`FROM json_each(...)`). */
const TABLE_FUNCTIONS: ReadonlySet<string> = new Set(["json_each", "json_tree"]);

/**
 * Eponymous virtual tables that expose files, pages or internals; a view or
 * trigger naming one is refused (`pragma_*` table-valued pragmas as well).
 */
const DENIED_TABLES: ReadonlySet<string> = new Set([
  "sqlite_dbpage",
  "sqlite_dbdata",
  "sqlite_dbptr",
  "sqlite_stmt",
  "dbstat",
  "fsdir",
  "zipfile",
  "sqlite_memstat",
]);

/** Functions refused with a word on why, beyond "not allowed". */
const DANGEROUS: ReadonlyMap<string, string> = new Map([
  ["readfile", "it reads files on the server"],
  ["writefile", "it writes files on the server"],
  ["edit", "it starts an editor"],
  ["load_extension", "it loads native code"],
  ["fts3_tokenizer", "it can install native code"],
  ["sqlite_dbpage", "it rewrites database pages"],
  ["fsdir", "it lists files on the server"],
  ["zipfile", "it reads and writes archives on the server"],
  ["sqlar_compress", "it is an archive helper"],
  ["sqlar_uncompress", "it is an archive helper"],
  ["sqlite_compileoption_get", "it exposes build details"],
  ["sqlite_compileoption_used", "it exposes build details"],
  ["libsql_vector_idx", "vector indexes cannot be restored from a dump"],
  ["zipfile_cds", "it reads archives on the server"],
  ["sha3_query", "it runs SQL text"],
  ["sqlite_log", "it writes to the error log"],
  ["usleep", "it stalls the connection"],
  ["optimize", "it rewrites a full-text index"],
  ["fts5", "it hands out the full-text engine's internals"],
  ["rtreecheck", "it runs queries on internal tables"],
  ["sqlite_crypt", "it handles encryption keys"],
  ["sqlite3mc_config", "it changes encryption settings"],
  ["sqlite3mc_config_table", "it exposes encryption settings"],
  ["sqlite3mc_codec_data", "it exposes encryption settings"],
  ["sqlite3mc_version", "it exposes build details"],
  ["shell_add_schema", "it is an internal of the sqlite3 shell"],
  ["shell_escape_crnl", "it is an internal of the sqlite3 shell"],
  ["shell_idquote", "it is an internal of the sqlite3 shell"],
  ["shell_int32", "it is an internal of the sqlite3 shell"],
  ["shell_module_schema", "it is an internal of the sqlite3 shell"],
  ["shell_putsnl", "it is an internal of the sqlite3 shell"],
]);

/** The reason a call of `name()` is refused, for the error message. */
export function functionRefusal(name: string): string {
  const why = DANGEROUS.get(asciiLower(name));
  return `function ${name}() is not allowed in a backup${why ? ` (${why})` : ""}`;
}

/**
 * Whether `name()` is refused everywhere, views and triggers included: it
 * touches files, native code, other SQL or the engine's internals.
 */
export function isDangerousFunction(name: string): boolean {
  return DANGEROUS.has(asciiLower(name));
}

/** Whether `name()` is one of SQLite's built-in, side-effect-free functions (allowed in every schema expression). */
export function isSchemaFunction(name: string): boolean {
  return SCHEMA_FUNCTIONS.has(asciiLower(name));
}

/** Whether a view or trigger may read from the table-valued function `name(...)`. */
export function isTableFunction(name: string): boolean {
  return TABLE_FUNCTIONS.has(asciiLower(name));
}

/** Whether a view or trigger may name the table `name` in FROM (refuses file/page/pragma virtual tables). */
export function isReadableTable(name: string): boolean {
  const lower = asciiLower(name);
  return !DENIED_TABLES.has(lower) && !lower.startsWith("pragma_");
}
