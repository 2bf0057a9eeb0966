/**
 * A tokenizer that cuts SQL text exactly where SQLite's own tokenizer
 * (`src/tokenize.c`, `sqlite3GetToken`) does. The dump reader validates the
 * tokens this produces and hands SQLite text made of those same tokens, so any
 * difference between the two tokenizers would be a hole: every rule here mirrors
 * a rule there (character classes, `''` escapes, `[...]` identifiers without
 * escapes, `--` comments ending at `\n` only, a BOM at a token start being
 * whitespace, characters >= 0x80 being identifier characters, `1e999`, `0x1F`,
 * `123abc` being illegal, `X'...'` needing an even number of hex digits).
 *
 * The lexer works on one window of decoded text. When a token might continue
 * past the end of the window it throws `NEED_MORE` (the caller waits for more
 * text and scans the statement again); with `final` set the end of the window is
 * the end of the file, and an unclosed string or comment is a truncated file.
 */

/** Whitespace (spaces, tabs, newlines, form feeds, a BOM at a token start). @internal token type the tokenizer test checks. */
export const TK_SPACE = 1;
/** `-- ...` or `/* ... *\/`. @internal token type the tokenizer test checks. */
export const TK_COMMENT = 2;
/** A bare word: an identifier or a keyword. */
export const TK_ID = 3;
/** A quoted identifier: `"..."`, `[...]` or `` `...` ``. */
export const TK_QID = 4;
/** A string literal `'...'`. */
export const TK_STRING = 5;
export const TK_INTEGER = 6;
export const TK_FLOAT = 7;
/** `X'...'`. */
export const TK_BLOB = 8;
export const TK_LP = 9;
export const TK_RP = 10;
export const TK_SEMI = 11;
export const TK_COMMA = 12;
export const TK_DOT = 13;
/** Any other operator; its text is the token's slice (`||`, `->>`, `<=`, `*` …). */
export const TK_OP = 14;
/** End of the text; only returned when the text is final. */
export const TK_EOF = 15;

/** A problem at a position of the scanned text; the reader turns it into an `InvalidBackupError` with a line. */
export class SqlFault extends Error {
  constructor(
    readonly pos: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Thrown when the text ends where a token or statement might go on; the caller waits for more text. */
export const NEED_MORE: unique symbol = Symbol("need more text");

// Character classes of the first character of a token (ASCII only; >= 0x80 is an identifier character).
const C_ID = 1; // letters (other than x) and '_'
const C_X = 2; // x or X: a blob literal or an identifier
const C_DIGIT = 3;
const C_VAR = 4; // ? : @ # $ — SQL parameters
const C_SPACE = 5;
const C_QUOTE = 6; // ' " `
const C_QUOTE2 = 7; // [
const C_PIPE = 8;
const C_MINUS = 9;
const C_LT = 10;
const C_GT = 11;
const C_EQ = 12;
const C_BANG = 13;
const C_SLASH = 14;
const C_LP = 15;
const C_RP = 16;
const C_SEMI = 17;
const C_SINGLE = 18; // + * % & ~ : one-character operators
const C_COMMA = 19;
const C_DOT = 20;
const C_ILLEGAL = 21; // { } \ ] ^ and a lone !
const C_CONTROL = 22; // control characters other than \t \n \f \r

const CLASS = new Uint8Array(128);
/** 1 for characters that can continue an identifier (letters, digits, `_`, `$`). */
const ID_CHAR = new Uint8Array(128);
const HEX = new Uint8Array(128);
(() => {
  CLASS.fill(C_CONTROL, 0, 32);
  for (const c of [9, 10, 12, 13, 32]) CLASS[c] = C_SPACE;
  CLASS[127] = C_CONTROL;
  for (let c = 33; c < 127; c++) CLASS[c] = C_ILLEGAL;
  for (let c = 65; c <= 90; c++) CLASS[c] = CLASS[c + 32] = C_ID;
  CLASS[88] = CLASS[120] = C_X;
  CLASS[95] = C_ID;
  for (let c = 48; c <= 57; c++) CLASS[c] = C_DIGIT;
  for (const ch of "?:@#$") CLASS[ch.charCodeAt(0)] = C_VAR;
  for (const ch of "'\"`") CLASS[ch.charCodeAt(0)] = C_QUOTE;
  CLASS[91] = C_QUOTE2;
  CLASS[124] = C_PIPE;
  CLASS[45] = C_MINUS;
  CLASS[60] = C_LT;
  CLASS[62] = C_GT;
  CLASS[61] = C_EQ;
  CLASS[33] = C_BANG;
  CLASS[47] = C_SLASH;
  CLASS[40] = C_LP;
  CLASS[41] = C_RP;
  CLASS[59] = C_SEMI;
  for (const ch of "+*%&~") CLASS[ch.charCodeAt(0)] = C_SINGLE;
  CLASS[44] = C_COMMA;
  CLASS[46] = C_DOT;
  for (let c = 65; c <= 90; c++) ID_CHAR[c] = ID_CHAR[c + 32] = 1;
  for (let c = 48; c <= 57; c++) ID_CHAR[c] = HEX[c] = 1;
  for (let c = 65; c <= 70; c++) HEX[c] = HEX[c + 32] = 1;
  ID_CHAR[95] = ID_CHAR[36] = 1;
})();

/** True when `c` (a UTF-16 code unit; NaN past the end) can continue an identifier, as SQLite's `IdChar()`. */
export function isIdChar(c: number): boolean {
  return c >= 128 || ID_CHAR[c] === 1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return c < 128 && HEX[c] === 1;
}

/** A readable description of the character at `pos` for error messages. */
function describeChar(c: number): string {
  const hex = c.toString(16).toUpperCase().padStart(4, "0");
  if (c < 32 || c === 127) return `control character U+${hex}`;
  return `“${String.fromCharCode(c)}”`;
}

/** Reason used for any control character outside a string literal: such text is not a dump. */
export function binaryReason(c: number): string {
  return c === 0 ? "binary data (a NUL byte), not a SQL backup" : `binary data (${describeChar(c)}), not a SQL backup`;
}

/**
 * End of the string or quoted identifier delimited by `q` that starts at `i`
 * (`s[i] === q`), i.e. the index after the closing delimiter. A doubled
 * delimiter is an escaped one. Throws NEED_MORE or a truncation fault when the
 * text ends first.
 */
export function scanQuoted(s: string, i: number, q: number, final: boolean): number {
  const quote = q === 39 ? "'" : q === 34 ? '"' : "`";
  let j = s.indexOf(quote, i + 1);
  for (;;) {
    if (j < 0) {
      if (!final) throw NEED_MORE;
      throw new SqlFault(i, q === 39 ? "the file ends inside a string (the file is truncated)" : "the file ends inside a quoted name (the file is truncated)");
    }
    if (s.charCodeAt(j + 1) === q) {
      j = s.indexOf(quote, j + 2);
      continue;
    }
    if (j + 1 >= s.length && !final) throw NEED_MORE; // the next character might be a second quote
    return j + 1;
  }
}

/** Result kind of the last `scanNumber` call. */
let numberType = TK_INTEGER;

/**
 * End of the numeric literal starting at `i` (a digit, or `.` before a digit),
 * following SQLite: `0x` hex integers, decimals, exponents only when a digit
 * follows the `e`, and a number running into identifier characters (`12abc`)
 * being illegal. Sets `numberType`.
 */
export function scanNumber(s: string, i: number, final: boolean): number {
  const len = s.length;
  let j = i;
  numberType = TK_INTEGER;
  if (s.charCodeAt(j) === 48 && (s.charCodeAt(j + 1) | 32) === 120) {
    if (isHex(s.charCodeAt(j + 2))) {
      j += 3;
      while (isHex(s.charCodeAt(j))) j++;
      if (j >= len && !final) throw NEED_MORE;
      return j;
    }
    if (j + 2 >= len && !final) throw NEED_MORE;
  }
  while (isDigit(s.charCodeAt(j))) j++;
  if (s.charCodeAt(j) === 46) {
    j++;
    while (isDigit(s.charCodeAt(j))) j++;
    numberType = TK_FLOAT;
  }
  const e = s.charCodeAt(j);
  if (e === 101 || e === 69) {
    const n1 = s.charCodeAt(j + 1);
    if (isDigit(n1) || ((n1 === 43 || n1 === 45) && isDigit(s.charCodeAt(j + 2)))) {
      j += 2;
      while (isDigit(s.charCodeAt(j))) j++;
      numberType = TK_FLOAT;
    } else if (j + 2 >= len && !final) {
      throw NEED_MORE;
    }
  }
  if (j >= len && !final) throw NEED_MORE;
  if (isIdChar(s.charCodeAt(j))) {
    let k = j;
    while (isIdChar(s.charCodeAt(k))) k++;
    if (k >= len && !final) throw NEED_MORE;
    throw new SqlFault(i, `malformed number “${s.slice(i, Math.min(k, i + 40))}”`);
  }
  return j;
}

/**
 * End of the blob literal `X'...'` starting at `i`. SQLite requires an even
 * number of hex digits and nothing else between the quotes.
 */
export function scanBlob(s: string, i: number, final: boolean): number {
  let j = i + 2;
  while (isHex(s.charCodeAt(j))) j++;
  if (j >= s.length) {
    if (!final) throw NEED_MORE;
    throw new SqlFault(i, "the file ends inside a blob literal (the file is truncated)");
  }
  if (s.charCodeAt(j) !== 39 || (j - i) % 2 !== 0) {
    throw new SqlFault(i, "malformed blob literal (X'…' must hold an even number of hex digits)");
  }
  return j + 1;
}

/**
 * Sequential lexer over one window of text. `next()` returns every token,
 * whitespace and comments included; `nextSignificant()` skips those and records
 * in `gap` whether any were skipped and in `plain` whether what was skipped is
 * ordinary whitespace only (no comments, form feeds or BOMs).
 */
export class Lexer {
  /** Start of the current token. */
  start = 0;
  /** Type of the current token (TK_*). */
  type = 0;
  /** Whether whitespace or comments preceded the current token (nextSignificant). */
  gap = false;
  /** False once a comment, form feed or BOM was skipped since the last reset. */
  plain = true;

  constructor(
    readonly s: string,
    /** Position after the current token; where the next scan starts. */
    public pos: number,
    readonly final: boolean,
  ) {}

  /** Text of the current token. */
  text(): string {
    return this.s.slice(this.start, this.pos);
  }

  /** Scans the next significant token (skipping whitespace and comments). */
  nextSignificant(): number {
    this.gap = false;
    for (;;) {
      const t = this.next();
      if (t === TK_SPACE || t === TK_COMMENT) {
        this.gap = true;
        if (t === TK_COMMENT) this.plain = false;
        continue;
      }
      return t;
    }
  }

  /** Scans the next token, whitespace and comments included. */
  next(): number {
    const s = this.s;
    const len = s.length;
    const i = this.pos;
    this.start = i;
    if (i >= len) {
      if (!this.final) throw NEED_MORE;
      return (this.type = TK_EOF);
    }
    const c = s.charCodeAt(i);
    if (c >= 128) {
      if (c === 0xfeff) {
        // SQLite treats a UTF-8 BOM at the start of a token as whitespace.
        this.plain = false;
        this.pos = i + 1;
        return (this.type = TK_SPACE);
      }
      return this.word(i);
    }
    switch (CLASS[c]) {
      case C_SPACE: {
        let j = i + 1;
        for (;;) {
          const d = s.charCodeAt(j);
          if (d === 32 || d === 10 || d === 9 || d === 13) j++;
          else if (d === 12) {
            this.plain = false;
            j++;
          } else break;
        }
        if (c === 12) this.plain = false;
        this.pos = j;
        return (this.type = TK_SPACE);
      }
      case C_ID:
        return this.word(i);
      case C_X:
        if (s.charCodeAt(i + 1) === 39) {
          this.pos = scanBlob(s, i, this.final);
          return (this.type = TK_BLOB);
        }
        if (i + 1 >= len && !this.final) throw NEED_MORE;
        return this.word(i);
      case C_DIGIT:
        this.pos = scanNumber(s, i, this.final);
        return (this.type = numberType);
      case C_DOT: {
        const d = s.charCodeAt(i + 1);
        if (isDigit(d)) {
          this.pos = scanNumber(s, i, this.final);
          return (this.type = numberType);
        }
        if (i + 1 >= len && !this.final) throw NEED_MORE;
        this.pos = i + 1;
        return (this.type = TK_DOT);
      }
      case C_QUOTE:
        this.pos = scanQuoted(s, i, c, this.final);
        return (this.type = c === 39 ? TK_STRING : TK_QID);
      case C_QUOTE2: {
        const j = s.indexOf("]", i + 1);
        if (j < 0) {
          if (!this.final) throw NEED_MORE;
          throw new SqlFault(i, "the file ends inside a quoted name (the file is truncated)");
        }
        this.pos = j + 1;
        return (this.type = TK_QID);
      }
      case C_MINUS: {
        const d = s.charCodeAt(i + 1);
        if (d === 45) {
          const j = s.indexOf("\n", i + 2);
          if (j < 0) {
            if (!this.final) throw NEED_MORE;
            this.pos = len;
          } else this.pos = j; // the newline itself is whitespace
          return (this.type = TK_COMMENT);
        }
        if (d === 62) {
          if (i + 2 >= len && !this.final) throw NEED_MORE;
          this.pos = s.charCodeAt(i + 2) === 62 ? i + 3 : i + 2;
          return (this.type = TK_OP);
        }
        return this.op(i, 1);
      }
      case C_SLASH: {
        if (s.charCodeAt(i + 1) === 42) {
          const j = s.indexOf("*/", i + 2);
          if (j < 0) {
            if (!this.final) throw NEED_MORE;
            throw new SqlFault(i, "the file ends inside a /* comment (the file is truncated)");
          }
          this.pos = j + 2;
          return (this.type = TK_COMMENT);
        }
        return this.op(i, 1);
      }
      case C_LP:
        this.pos = i + 1;
        return (this.type = TK_LP);
      case C_RP:
        this.pos = i + 1;
        return (this.type = TK_RP);
      case C_SEMI:
        this.pos = i + 1;
        return (this.type = TK_SEMI);
      case C_COMMA:
        this.pos = i + 1;
        return (this.type = TK_COMMA);
      case C_SINGLE:
        this.pos = i + 1;
        return (this.type = TK_OP);
      case C_PIPE:
        return this.op(i, s.charCodeAt(i + 1) === 124 ? 2 : 1);
      case C_EQ:
        return this.op(i, s.charCodeAt(i + 1) === 61 ? 2 : 1);
      case C_LT: {
        const d = s.charCodeAt(i + 1);
        return this.op(i, d === 61 || d === 62 || d === 60 ? 2 : 1);
      }
      case C_GT: {
        const d = s.charCodeAt(i + 1);
        return this.op(i, d === 61 || d === 62 ? 2 : 1);
      }
      case C_BANG:
        if (s.charCodeAt(i + 1) === 61) return this.op(i, 2);
        if (i + 1 >= len && !this.final) throw NEED_MORE;
        throw new SqlFault(i, "unexpected character “!”");
      case C_VAR:
        throw new SqlFault(i, `parameters such as ?1, :name, @name and $name are not allowed in a backup (found “${s.slice(i, i + 20).split(/[\s,;)]/)[0]}”)`);
      case C_CONTROL:
        throw new SqlFault(i, binaryReason(c));
      default:
        throw new SqlFault(i, `unexpected character ${describeChar(c)}`);
    }
  }

  /** An operator of `n` characters; waits for more text when the operator might be longer. */
  private op(i: number, n: number): number {
    if (i + n >= this.s.length && !this.final) throw NEED_MORE;
    this.pos = i + n;
    return (this.type = TK_OP);
  }

  private word(i: number): number {
    const s = this.s;
    let j = i + 1;
    while (isIdChar(s.charCodeAt(j))) j++;
    if (j >= s.length && !this.final) throw NEED_MORE;
    this.pos = j;
    return (this.type = TK_ID);
  }
}

/**
 * SQLite's keywords (mkkeywordhash.c). A bare word that is one of these is a
 * keyword; any other bare word is an identifier.
 */
const KEYWORDS: ReadonlySet<string> = new Set(
  (
    "ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY " +
    "CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE " +
    "CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP " +
    "EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM " +
    "FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD " +
    "INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL " +
    "NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE " +
    "RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS " +
    "SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE " +
    "USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT"
  ).split(" "),
);

/**
 * Keywords SQLite's parser lets stand for a name (its `%fallback ID` list, the
 * join keywords and INDEXED, plus FILTER/OVER/WINDOW which its tokenizer only
 * makes keywords in their own contexts).
 */
export const NAME_KEYWORDS: ReadonlySet<string> = new Set(
  (
    "ABORT ACTION AFTER ANALYZE ASC ATTACH BEFORE BEGIN BY CASCADE CAST COLUMN CONFLICT DATABASE DEFERRED DESC " +
    "DETACH DO EACH END EXCLUSIVE EXPLAIN FAIL FOR IGNORE IMMEDIATE INITIALLY INSTEAD LIKE GLOB REGEXP MATCH NO " +
    "PLAN QUERY KEY OF OFFSET PRAGMA RAISE RECURSIVE RELEASE REPLACE RESTRICT ROW ROWS ROLLBACK SAVEPOINT TEMP " +
    "TEMPORARY TRIGGER VACUUM VIEW VIRTUAL WITH WITHOUT NULLS FIRST LAST CURRENT FOLLOWING PARTITION PRECEDING " +
    "RANGE UNBOUNDED EXCLUDE GROUPS OTHERS TIES GENERATED ALWAYS MATERIALIZED REINDEX RENAME CURRENT_DATE " +
    "CURRENT_TIME CURRENT_TIMESTAMP IF CROSS FULL INNER LEFT NATURAL OUTER RIGHT INDEXED FILTER OVER WINDOW"
  ).split(" "),
);

/** The join keywords: names in most places, but never a bare column or an implicit alias. */
export const JOIN_KEYWORDS: ReadonlySet<string> = new Set(["CROSS", "FULL", "INNER", "LEFT", "NATURAL", "OUTER", "RIGHT"]);

/** Upper-case ASCII form of a bare word when it is a keyword, else "". */
export function keywordOf(s: string, start: number, end: number): string {
  const n = end - start;
  if (n < 2 || n > 17) return "";
  let up = "";
  for (let k = start; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c >= 128) return "";
    up += String.fromCharCode(c >= 97 && c <= 122 ? c - 32 : c);
  }
  return KEYWORDS.has(up) ? up : "";
}

/** True when the bare word `s[start,end)` is `word` (upper-case ASCII), ignoring ASCII case, without allocating. */
export function isWord(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    const c = s.charCodeAt(start + k);
    if ((c >= 97 && c <= 122 ? c - 32 : c) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** ASCII-only lower case, as SQLite compares names (`sqlite3StrICmp`): other characters stay as they are. */
export function asciiLower(name: string): string {
  let out = "";
  let changed = false;
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c >= 65 && c <= 90) {
      changed = true;
      out += String.fromCharCode(c + 32);
    } else out += name[k];
  }
  return changed ? out : name;
}

/**
 * The name a name token stands for: the word itself, or the content of a quoted
 * identifier or string with its doubled delimiters undone (`"a""b"` → `a"b`).
 */
export function tokenName(s: string, start: number, end: number, type: number): string {
  if (type === TK_ID) return s.slice(start, end);
  const q = s[start]!;
  const inner = s.slice(start + 1, end - 1);
  if (q === "[") return inner;
  return inner.includes(q) ? inner.split(q + q).join(q) : inner;
}
