/**
 * Where statements end in a stream of SQL bytes, found without decoding them.
 *
 * The dump reader decodes text only up to a point where no statement, string
 * or comment is open, so a file that never closes one (a gzip bomb inflating
 * to gigabytes inside one comment or string) is refused at the statement limit
 * while only its bytes are held: no window is decoded, concatenated or
 * rescanned for it. The rules are those of SQLite's `sqlite3_complete()` (and
 * of `collectStatement`): quotes and comments hide `;`, and inside
 * `CREATE [TEMP] TRIGGER … BEGIN … END` only a `;` after `; END` ends the
 * statement. Should the reader still find a statement unfinished at such a
 * point, it keeps the bytes and waits, so this scanner decides only when text
 * is decoded, never what a statement is.
 */
import { isIdChar } from "./sql-tokenizer.ts";

const NORMAL = 0;
const QUOTED = 1; // '…', "…", `…` or […]: `closer` ends it
const LINE_COMMENT = 2;
const BLOCK_COMMENT = 3;
const BLOCK_STAR = 4; // a `*` inside /* … */
const DASH = 5; // a `-` that may start `--`
const SLASH = 6; // a `/` that may start `/*`
const WORD = 7; // identifier characters, collected while the trigger rules need the word
const SKIP_WORD = 8; // identifier characters whose spelling does not matter

const C_OTHER = 0;
const C_SPACE = 1;
const C_ID = 2;
const C_QUOTE = 3;
const C_SEMI = 4;
const C_DASH = 5;
const C_SLASH = 6;
const C_VARIABLE = 7; // $ @ : # ? start one token that may hold identifier characters

const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) CLASS[c] = isIdChar(c) ? C_ID : C_OTHER;
for (const c of [9, 10, 12, 13, 32]) CLASS[c] = C_SPACE;
for (const c of [39, 34, 96, 91]) CLASS[c] = C_QUOTE;
CLASS[59] = C_SEMI;
CLASS[45] = C_DASH;
CLASS[47] = C_SLASH;
for (const c of [36, 64, 58, 35, 63]) CLASS[c] = C_VARIABLE;

/** The longest keyword the trigger rules look at (TEMPORARY). */
const MAX_KEYWORD = 9;

/**
 * Incremental finder of the last point, in a byte stream, where nothing is
 * open: after a statement's `;`, after whitespace or a comment between
 * statements. `scan()` takes the bytes in order; `rest` is that point (an
 * absolute byte offset), so the bytes after it belong to one unfinished
 * statement or comment.
 */
export class StatementEnds {
  /** Offset just after the last point where no statement, string or comment is open. */
  rest = 0;

  private offset = 0;
  private lex = NORMAL;
  private closer = 0;
  /** A token of the current statement has been seen. */
  private inStatement = false;
  /** No token of the current statement yet (its first word decides about CREATE). */
  private first = true;
  /** collectStatement's state: 0 normal, 1 after CREATE [TEMP], 2 in a trigger, 3 after `;` in a trigger, 4 after `; END`. */
  private trigger = 0;
  private word = "";

  /** Scans the next bytes of the stream. */
  scan(b: Uint8Array): void {
    const n = b.length;
    const base = this.offset;
    let i = 0;
    if (base === 0 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) this.rest = i = 3; // a byte order mark
    while (i < n) {
      switch (this.lex) {
        case NORMAL: {
          if (this.inStatement && this.trigger === 0) {
            // Inside an ordinary statement (nearly every byte of a dump) only quotes, comments and `;` matter.
            while (i < n) {
              const k = CLASS[b[i]!]!;
              if (k >= C_QUOTE && k <= C_SLASH) break;
              i++;
            }
            if (i >= n) break;
          }
          const c = b[i]!;
          switch (CLASS[c]) {
            case C_SPACE:
              i++;
              if (!this.inStatement) this.rest = base + i;
              break;
            case C_SEMI:
              i++;
              if (this.inStatement && (this.trigger === 2 || this.trigger === 3)) this.trigger = 3;
              else {
                this.inStatement = false;
                this.first = true;
                this.trigger = 0;
                this.rest = base + i;
              }
              break;
            case C_QUOTE:
              this.token("");
              this.lex = QUOTED;
              this.closer = c === 91 ? 93 : c;
              i++;
              break;
            case C_DASH:
              this.lex = DASH;
              i++;
              break;
            case C_SLASH:
              this.lex = SLASH;
              i++;
              break;
            case C_ID:
              if (this.first || this.trigger === 1 || this.trigger >= 3) {
                this.lex = WORD;
                this.word = "";
              } else {
                this.token("");
                this.lex = SKIP_WORD;
              }
              break;
            case C_VARIABLE:
              this.token("");
              this.lex = SKIP_WORD;
              i++;
              break;
            default:
              this.token("");
              i++;
          }
          break;
        }
        case QUOTED: {
          const k = b.indexOf(this.closer, i);
          if (k < 0) i = n;
          else {
            i = k + 1;
            this.lex = NORMAL; // a doubled quote simply opens the next one
          }
          break;
        }
        case LINE_COMMENT: {
          const k = b.indexOf(10, i);
          if (k < 0) i = n;
          else {
            i = k + 1;
            this.lex = NORMAL;
            if (!this.inStatement) this.rest = base + i;
          }
          break;
        }
        case BLOCK_COMMENT: {
          const k = b.indexOf(42, i);
          if (k < 0) i = n;
          else {
            i = k + 1;
            this.lex = BLOCK_STAR;
          }
          break;
        }
        case BLOCK_STAR: {
          const c = b[i++];
          if (c === 47) {
            this.lex = NORMAL;
            if (!this.inStatement) this.rest = base + i;
          } else if (c !== 42) this.lex = BLOCK_COMMENT;
          break;
        }
        case DASH:
        case SLASH: {
          const opener = this.lex === DASH ? 45 : 42;
          if (b[i] === opener) {
            this.lex = this.lex === DASH ? LINE_COMMENT : BLOCK_COMMENT;
            i++;
          } else {
            this.token(""); // an operator; the byte after it is read again as NORMAL
            this.lex = NORMAL;
          }
          break;
        }
        case WORD: {
          let w = this.word;
          while (i < n && CLASS[b[i]!] === C_ID) {
            if (w.length <= MAX_KEYWORD) w += String.fromCharCode(b[i]! & 0xdf); // ASCII upper case; longer words are no keyword
            i++;
          }
          this.word = w;
          if (i < n) {
            this.token(w.length <= MAX_KEYWORD ? w : "");
            this.lex = NORMAL;
          }
          break;
        }
        case SKIP_WORD: {
          while (i < n && CLASS[b[i]!] === C_ID) i++;
          if (i < n) this.lex = NORMAL;
          break;
        }
      }
    }
    this.offset = base + n;
  }

  /** One token of a statement, with its upper-case spelling when it is a word the trigger rules look at. */
  private token(word: string): void {
    this.inStatement = true;
    if (this.first) {
      this.first = false;
      this.trigger = word === "CREATE" ? 1 : 0;
    } else if (this.trigger === 1) {
      this.trigger = word === "TEMP" || word === "TEMPORARY" ? 1 : word === "TRIGGER" ? 2 : 0;
    } else if (this.trigger === 3) {
      this.trigger = word === "END" ? 4 : 2;
    } else if (this.trigger === 4) {
      this.trigger = 2;
    }
  }
}
