/**
 * The virtual tables a backup may hold, and what each needs to be restored.
 *
 * Only the modules SQLite itself ships for full-text search and spatial
 * indexes are allowed: fts5 (and fts5vocab, which only reads another fts5
 * table), fts4, fts3, rtree and rtree_i32. Their data is restored through the
 * virtual table itself (`INSERT INTO ft(rowid, …) VALUES …`) or, for an
 * external-content full-text table, rebuilt from its content table
 * (`INSERT INTO ft(ft) VALUES('rebuild')`); the shadow tables that hold the
 * index (`ft_data`, `r_node` …) are never written directly. The module
 * arguments are checked too: options that make SQLite call a function while
 * rows go in (fts4 `compress=`/`uncompress=`), tokenizers other than the
 * built-in ones, and content tables that are not ordinary tables are refused.
 */
import { isReadableTable } from "./sql-functions.ts";
import { SqlFault, asciiLower, TK_COMMA, TK_ID, TK_INTEGER, TK_OP, TK_QID, TK_STRING, tokenName } from "./sql-tokenizer.ts";

/** One significant token (the checker's `Tok`, repeated here to keep imports one way). */
export interface ArgTok {
  t: number;
  s: number;
  e: number;
}

export type VirtualFamily = "fts5" | "fts3" | "rtree" | "fts5vocab";

/** What a checked `CREATE VIRTUAL TABLE` is, as far as a backup and a restore care. */
export interface VirtualTableSpec {
  /** The module, lower case: fts5, fts4, fts3, rtree, rtree_i32 or fts5vocab. */
  module: string;
  family: VirtualFamily;
  /**
   * `own`: the table keeps its text (or coordinates) and is restored row by row.
   * `external`: a full-text index over `table`, rebuilt after the content is back.
   * `none`: nothing to restore (fts5vocab), or a contentless full-text index.
   */
  content: { kind: "own" } | { kind: "external"; table: string } | { kind: "none"; contentless: boolean };
  /** Full-text tables: the column names, in order. */
  columns: string[];
  /** fts4 `languageid=` column, when there is one. */
  languageId?: string;
  /** R*Tree: how many of `columns` (the last ones) are auxiliary (`+name`). */
  auxiliary?: number;
}

/** Modules a backup may create, for messages and the README. */
export const VIRTUAL_MODULES = ["fts5", "fts5vocab", "fts4", "fts3", "rtree", "rtree_i32"] as const;
const MODULE_LIST = "fts5, fts5vocab, fts4, fts3, rtree and rtree_i32";

const FAMILY: ReadonlyMap<string, VirtualFamily> = new Map([
  ["fts5", "fts5"],
  ["fts4", "fts3"],
  ["fts3", "fts3"],
  ["rtree", "rtree"],
  ["rtree_i32", "rtree"],
  ["fts5vocab", "fts5vocab"],
]);

/** Suffixes of the shadow tables each family keeps its index in (every one it may create). */
const SHADOW_SUFFIXES: Readonly<Record<VirtualFamily, readonly string[]>> = {
  fts5: ["_data", "_idx", "_content", "_docsize", "_config"],
  fts3: ["_content", "_segments", "_segdir", "_docsize", "_stat"],
  rtree: ["_node", "_rowid", "_parent"],
  fts5vocab: [],
};

const FTS5_OPTIONS = new Set([
  "tokenize",
  "prefix",
  "content",
  "content_rowid",
  "columnsize",
  "detail",
  "contentless_delete",
  "contentless_unindexed",
  "tokendata",
  "locale",
]);
const FTS4_OPTIONS = new Set(["tokenize", "prefix", "content", "languageid", "matchinfo", "notindexed", "order"]);
const FTS5_TOKENIZERS = new Set(["unicode61", "ascii", "porter", "trigram"]);
const FTS3_TOKENIZERS = new Set(["simple", "porter", "unicode61"]);
/** fts5 configuration keys (`INSERT INTO ft(ft, rank) VALUES(key, value)`) a backup restores. */
export const FTS5_CONFIG_KEYS: ReadonlySet<string> = new Set([
  "automerge",
  "crisismerge",
  "deletemerge",
  "hashsize",
  "insttoken",
  "pgsz",
  "rank",
  "secure-delete",
  "usermerge",
]);

/** The names of the shadow tables of virtual table `name` (lower case), for a family. */
export function shadowTableNames(name: string, family: VirtualFamily): string[] {
  return SHADOW_SUFFIXES[family].map((suffix) => asciiLower(name + suffix));
}

/** The refusal for a module that is not on the allow-list. */
export function moduleRefusal(module: string): string {
  return `virtual tables using the ${module} module are not supported (a backup may hold ${MODULE_LIST} tables only)`;
}

/** The family of an allowed module, or undefined. */
export function virtualFamily(module: string): VirtualFamily | undefined {
  return FAMILY.get(asciiLower(module));
}

/**
 * Checks the module and its arguments (each a list of tokens of `src`) and says
 * how the table is restored. Throws `SqlFault` at the offending token.
 */
export function checkVirtualTable(src: string, module: string, moduleAt: number, args: ArgTok[][]): VirtualTableSpec {
  const lower = asciiLower(module);
  const family = FAMILY.get(lower);
  if (!family) throw new SqlFault(moduleAt, moduleRefusal(module));
  const text = (t: ArgTok) => src.slice(t.s, t.e);
  const word = (t: ArgTok | undefined) =>
    t && (t.t === TK_ID || t.t === TK_QID || t.t === TK_STRING) ? tokenName(src, t.s, t.e, t.t) : undefined;
  const isEq = (t: ArgTok | undefined) => t !== undefined && t.t === TK_OP && text(t) === "=";
  if (args.some((a) => a.length === 0)) throw new SqlFault(moduleAt, `an empty argument of ${module}()`);

  if (family === "fts5vocab") {
    if (args.length !== 2 && args.length !== 3) throw new SqlFault(moduleAt, "fts5vocab takes a table and a type (and optionally a schema)");
    for (const a of args) if (a.length !== 1 || word(a[0]) === undefined) throw new SqlFault(a[0]!.s, "fts5vocab takes plain names");
    if (args.length === 3 && asciiLower(word(args[0]![0])!) !== "main") {
      throw new SqlFault(args[0]![0]!.s, "an fts5vocab table in a backup may only read a table of the main database");
    }
    const type = asciiLower(word(args[args.length - 1]![0])!);
    if (!["row", "col", "instance"].includes(type)) throw new SqlFault(args[args.length - 1]![0]!.s, `unknown fts5vocab type “${type}”`);
    return { module: lower, family, content: { kind: "none", contentless: false }, columns: [] };
  }

  if (family === "rtree") {
    const columns: string[] = [];
    let auxiliary = 0;
    for (const a of args) {
      let k = 0;
      if (a[0]!.t === TK_OP && text(a[0]!) === "+") k = 1;
      if (word(a[k]) === undefined) throw new SqlFault(a[k]?.s ?? a[0]!.s, `expected a column name in ${module}()`);
      for (const t of a.slice(k + 1)) {
        if (word(t) === undefined) throw new SqlFault(t.s, `unexpected ${JSON.stringify(text(t))} in a column of ${module}()`);
      }
      columns.push(word(a[k])!);
      if (k === 1) auxiliary++;
    }
    return { module: lower, family, content: { kind: "own" }, columns, auxiliary };
  }

  // fts5, fts4, fts3: each argument is a column, or `option = value`.
  const options = family === "fts5" ? FTS5_OPTIONS : FTS4_OPTIONS;
  let content: VirtualTableSpec["content"] = { kind: "own" };
  const columns: string[] = [];
  let languageId: string | undefined;
  for (const a of args) {
    const first = a[0]!;
    const optionForm = isEq(a[1]) || (family === "fts3" && asciiLower(word(first) ?? "") === "tokenize");
    if (!optionForm) {
      if (word(first) === undefined) throw new SqlFault(first.s, `expected a column name in ${module}()`);
      columns.push(word(first)!);
      for (const t of a.slice(1)) {
        if (t.t !== TK_ID && t.t !== TK_QID && t.t !== TK_STRING && t.t !== TK_INTEGER && !(t.t >= 9 && t.t <= 10)) {
          throw new SqlFault(t.s, `unexpected ${JSON.stringify(text(t))} in a column of ${module}()`);
        }
      }
      continue;
    }
    const key = asciiLower(word(first) ?? text(first));
    if (key === "compress" || key === "uncompress") {
      throw new SqlFault(first.s, `the ${module} option ${key}= is not allowed in a backup (it calls an application function while rows are restored)`);
    }
    if (!options.has(key)) throw new SqlFault(first.s, `the ${module} option “${key}” is not allowed in a backup`);
    const valueToks = a.slice(isEq(a[1]) ? 2 : 1);
    if (valueToks.length === 0) throw new SqlFault(first.s, `the ${module} option ${key} needs a value`);
    if (key === "tokenize") {
      checkTokenizer(src, module, family, valueToks);
      continue;
    }
    if (valueToks.length !== 1 || valueToks[0]!.t === TK_COMMA) throw new SqlFault(valueToks[0]!.s, `the ${module} option ${key} takes one value`);
    const v = valueToks[0]!;
    const value = v.t === TK_INTEGER ? text(v) : word(v);
    if (value === undefined) throw new SqlFault(v.s, `the ${module} option ${key} takes one value`);
    if (key === "languageid") languageId = value;
    if (key === "content") {
      if (value === "") content = { kind: "none", contentless: true };
      else {
        if (asciiLower(value).startsWith("sqlite_") || !isReadableTable(value) || value.includes(".")) {
          throw new SqlFault(v.s, `the content table of a full-text index in a backup must be an ordinary table, not ${value}`);
        }
        content = { kind: "external", table: value };
      }
    }
  }
  return { module: lower, family, content, columns, ...(languageId !== undefined ? { languageId } : {}) };
}

/** `tokenize = 'porter unicode61 …'` (fts5: one string of words) or `tokenize=porter "arg"` (fts3/4). */
function checkTokenizer(src: string, module: string, family: VirtualFamily, toks: ArgTok[]): void {
  const words: { w: string; at: number }[] = [];
  for (const t of toks) {
    if (t.t === TK_STRING && family === "fts5" && toks.length === 1) {
      // fts5 reads the string as a list of barewords and quoted words.
      const inner = tokenName(src, t.s, t.e, t.t);
      for (const m of inner.matchAll(/'((?:[^']|'')*)'|"((?:[^"]|"")*)"|\[([^\]]*)\]|`((?:[^`]|``)*)`|([^\s'"`[]+)/g)) {
        words.push({ w: m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? "", at: t.s });
      }
    } else if (t.t === TK_ID || t.t === TK_QID || t.t === TK_STRING) {
      words.push({ w: tokenName(src, t.s, t.e, t.t), at: t.s });
    } else {
      throw new SqlFault(t.s, `unexpected ${JSON.stringify(src.slice(t.s, t.e))} in the tokenizer of ${module}()`);
    }
  }
  const allowed = family === "fts5" ? FTS5_TOKENIZERS : FTS3_TOKENIZERS;
  const first = words[0];
  if (!first || !allowed.has(asciiLower(first.w))) {
    throw new SqlFault(first?.at ?? toks[0]!.s, `the tokenizer “${first?.w ?? ""}” is not allowed in a backup (${[...allowed].join(", ")} only)`);
  }
  // fts5's porter wraps another tokenizer, named by its first argument.
  if (family === "fts5" && asciiLower(first.w) === "porter" && words[1] && !allowed.has(asciiLower(words[1].w))) {
    throw new SqlFault(words[1].at, `the tokenizer “${words[1].w}” is not allowed in a backup (${[...allowed].join(", ")} only)`);
  }
}
