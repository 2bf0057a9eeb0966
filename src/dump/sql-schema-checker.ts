/**
 * Checks CREATE TABLE / INDEX / VIEW / TRIGGER statements of a backup against
 * SQLite's grammar (parse.y), closely enough to know, for every `name(`, whether
 * SQLite will call a function there — and then only lets through SQLite's
 * built-in side-effect-free functions (see sql-functions.ts). It also refuses
 * what a dump never needs: temporary objects, virtual tables, `AS SELECT`
 * tables, other schemas, names reserved for SQLite, file or pragma virtual
 * tables read by views and triggers, triggers writing SQLite's own tables and
 * SQL parameters.
 *
 * The parser builds no tree: it only walks the tokens. It is lenient where the
 * leniency cannot change how SQLite reads a function call (SQLite rejects the
 * rest itself), and strict wherever a token could be read two ways.
 */
import { functionRefusal, isDangerousFunction, isReadableTable, isSchemaFunction, isTableFunction } from "./sql-functions.ts";
import {
  asciiLower,
  JOIN_KEYWORDS,
  keywordOf,
  Lexer,
  NAME_KEYWORDS,
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
  TK_SEMI,
  TK_STRING,
  tokenName,
} from "./sql-tokenizer.ts";
import { checkVirtualTable, type ArgTok, type VirtualTableSpec } from "./virtual-tables.ts";

/** One significant token of a statement. `kw` is the upper-case keyword for keyword words, else "". */
export interface Tok {
  t: number;
  s: number;
  e: number;
  kw: string;
}

/** What a checked CREATE statement creates. */
export interface CreateInfo {
  kind: "create-table" | "create-index" | "create-view" | "create-trigger" | "create-virtual";
  /** Name of the object created (unquoted). */
  name: string;
  /** For indexes and triggers: the table they belong to (unquoted). */
  table?: string;
  /** For virtual tables: the module and how the table is restored. */
  virtual?: VirtualTableSpec;
}

export interface CheckCreateOptions {
  /**
   * Shadow tables of the virtual tables created so far (lower case): a backup
   * may not create, index, trigger on or write them (the module owns them).
   */
  shadows?: ReadonlySet<string>;
}

/**
 * Reads the significant tokens of one statement from `lx` up to and including
 * its terminating `;` (which is not returned), splitting like
 * `sqlite3_complete()`: in `CREATE [TEMP] TRIGGER` a `;` only ends the
 * statement after `; END`. Throws NEED_MORE (from the lexer) when the text ends
 * first, or a truncation fault when the text is final.
 */
export function collectStatement(lx: Lexer): Tok[] {
  const toks: Tok[] = [];
  const s = lx.s;
  // 0 = normal, 1 = after CREATE [TEMP], 2 = inside a trigger, 3 = after `;` in a trigger, 4 = after `; END`
  let state = 0;
  for (;;) {
    const t = lx.nextSignificant();
    if (t === TK_EOF) {
      throw new SqlFault(toks.length ? toks[0]!.s : lx.start, "the file ends in the middle of a statement (the file is truncated)");
    }
    const kw = t === TK_ID ? keywordOf(s, lx.start, lx.pos) : "";
    if (t === TK_SEMI) {
      if (state === 2 || state === 3) {
        state = 3;
      } else {
        return toks;
      }
    } else if (toks.length === 0) {
      state = kw === "CREATE" ? 1 : 0;
    } else if (state === 1) {
      state = kw === "TEMP" || kw === "TEMPORARY" ? 1 : kw === "TRIGGER" ? 2 : 0;
    } else if (state === 3) {
      state = kw === "END" ? 4 : 2;
    } else if (state === 4) {
      state = 2;
    }
    toks.push({ t, s: lx.start, e: lx.pos, kw });
  }
}

/** Checks a CREATE statement's tokens (from `collectStatement`); throws SqlFault with the offending token's position. */
export function checkCreate(src: string, toks: Tok[], options: CheckCreateOptions = {}): CreateInfo {
  return new SchemaParser(src, toks, options.shadows ?? new Set()).create();
}

/**
 * Checks one definition as `sqlite_schema` stores it (no `;`), the way an
 * import would check it. Throws `SqlFault` (its `pos` an offset into `sql`).
 */
export function checkSchemaSql(sql: string, options: CheckCreateOptions = {}): CreateInfo {
  const text = `${sql}\n;`;
  const lx = new Lexer(text, 0, true);
  const toks = collectStatement(lx);
  // One statement only: text after a `;` would otherwise reach SQLite unchecked.
  if (lx.nextSignificant() !== TK_EOF) throw new SqlFault(lx.start, "a definition must be a single statement");
  return checkCreate(text, toks, options);
}

const RESOLVE_TYPES = new Set(["ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE"]);
const SELECT_STARTS = new Set(["SELECT", "WITH", "VALUES"]);
const BINARY_OPS = new Set(["||", "*", "/", "%", "+", "-", "<<", ">>", "&", "|", "<", "<=", ">", ">=", "=", "==", "!=", "<>", "->", "->>"]);
/** Words never taken as an implicit alias (`FROM t LEFT JOIN …`, `FROM t INDEXED BY …`, `WINDOW w AS …`). */
const NOT_ALIASES = new Set([...JOIN_KEYWORDS, "INDEXED", "WINDOW", "FILTER", "OVER"]);
const MAX_DEPTH = 300;

class SchemaParser {
  private i = 0;
  private depth = 0;
  /**
   * Where an expression sits: null in views and triggers (run later, by the
   * application, whose own functions exist there); otherwise the words for a
   * place whose functions run while rows are restored.
   */
  private rowTime: string | null = null;

  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
    private readonly shadows: ReadonlySet<string>,
  ) {}

  // ---- token helpers -------------------------------------------------------

  private type(off = 0): number {
    return this.toks[this.i + off]?.t ?? TK_EOF;
  }

  private kw(off = 0): string {
    return this.toks[this.i + off]?.kw ?? "";
  }

  private text(at: number): string {
    const tok = this.toks[at];
    return tok ? this.src.slice(tok.s, tok.e) : "";
  }

  private isOp(op: string, off = 0): boolean {
    return this.type(off) === TK_OP && this.text(this.i + off) === op;
  }

  /** A bare word spelled `word` (FILTER, OVER and STRICT are not keywords everywhere). */
  private isBare(word: string, off = 0): boolean {
    return this.type(off) === TK_ID && this.text(this.i + off).toUpperCase() === word;
  }

  private describe(at: number): string {
    const tok = this.toks[at];
    if (!tok) return "the end of the statement";
    const t = this.src.slice(tok.s, tok.e);
    return `“${t.length > 40 ? t.slice(0, 40) + "…" : t}”`;
  }

  private fail(reason: string, at = this.i): never {
    const tok = this.toks[at] ?? this.toks[this.toks.length - 1];
    throw new SqlFault(tok ? (at < this.toks.length ? tok.s : tok.e) : 0, reason);
  }

  private unexpected(expected: string): never {
    this.fail(`expected ${expected} but found ${this.describe(this.i)}`);
  }

  private acceptKw(kw: string): boolean {
    if (this.kw() === kw) {
      this.i++;
      return true;
    }
    return false;
  }

  private expectKw(kw: string): void {
    if (!this.acceptKw(kw)) this.unexpected(kw);
  }

  private accept(t: number): boolean {
    if (this.type() === t) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(t: number, what: string): void {
    if (!this.accept(t)) this.unexpected(what);
  }

  private expectOp(op: string): void {
    if (!this.isOp(op)) this.unexpected(`“${op}”`);
    this.i++;
  }

  private expectEnd(): void {
    if (this.i < this.toks.length) this.fail(`unexpected ${this.describe(this.i)} at the end of the statement`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail("the statement is nested too deeply");
  }

  /** Whether the token can be a name (`nm`): identifiers, quoted names, strings, keywords SQLite lets stand for names. */
  private isName(off = 0, strings = true): boolean {
    const t = this.type(off);
    if (t === TK_QID) return true;
    if (t === TK_STRING) return strings;
    if (t !== TK_ID) return false;
    const kw = this.kw(off);
    return kw === "" || NAME_KEYWORDS.has(kw);
  }

  /** Whether the token can be a word of a type name or an implicit alias (`ids`: ID or STRING, no join keywords). */
  private isIds(off = 0): boolean {
    const t = this.type(off);
    if (t === TK_QID || t === TK_STRING) return true;
    if (t !== TK_ID) return false;
    const kw = this.kw(off);
    return kw === "" || (NAME_KEYWORDS.has(kw) && !NOT_ALIASES.has(kw));
  }

  private name(what = "a name"): string {
    if (!this.isName()) this.unexpected(what);
    const tok = this.toks[this.i++]!;
    return tokenName(this.src, tok.s, tok.e, tok.t);
  }

  // ---- CREATE --------------------------------------------------------------

  create(): CreateInfo {
    this.expectKw("CREATE");
    if (this.kw() === "TEMP" || this.kw() === "TEMPORARY") {
      this.fail("temporary tables, views and triggers are not allowed in a backup");
    }
    const unique = this.acceptKw("UNIQUE");
    const what = this.kw();
    if (unique && what !== "INDEX") this.unexpected("INDEX");
    this.i++;
    switch (what) {
      case "TABLE":
        return this.table();
      case "INDEX":
        return this.index();
      case "VIEW":
        return this.view();
      case "TRIGGER":
        return this.trigger();
      case "VIRTUAL":
        return this.virtualTable();
      default:
        return this.fail(`CREATE ${this.describe(this.i - 1)} is not allowed in a backup`, this.i - 1);
    }
  }

  private ifNotExists(): void {
    if (this.acceptKw("IF")) {
      this.expectKw("NOT");
      this.expectKw("EXISTS");
    }
  }

  /** `[main.]name` of the object a CREATE statement makes. */
  private objectName(): string {
    const at = this.i;
    let name = this.name("the name of the new object");
    if (this.accept(TK_DOT)) {
      const schema = name;
      name = this.name();
      if (asciiLower(schema) !== "main") this.fail(`only the main database can be restored (found “${schema}.${name}”)`, at);
    }
    if (asciiLower(name).startsWith("sqlite_")) this.fail(`the name ${name} is reserved for SQLite's internal tables`, at);
    this.notShadow(name, at);
    return name;
  }

  /** Refuses a shadow table of a virtual table: only its module writes it. */
  private notShadow(name: string, at: number): void {
    if (this.shadows.has(asciiLower(name))) {
      this.fail(`${name} is an internal (shadow) table of a virtual table; a backup may not create or write it directly`, at);
    }
  }

  /** `CREATE VIRTUAL TABLE [IF NOT EXISTS] [main.]name USING module[(args)]`, module and arguments on the allow-list. */
  private virtualTable(): CreateInfo {
    this.expectKw("TABLE");
    this.ifNotExists();
    const name = this.objectName();
    this.expectKw("USING");
    const moduleAt = this.i;
    const module = this.name("a module name");
    const args: ArgTok[][] = [];
    if (this.accept(TK_LP)) {
      let depth = 0;
      let arg: ArgTok[] = [];
      for (;;) {
        const t = this.type();
        if (t === TK_EOF) this.unexpected("“)”");
        if (t === TK_RP && depth === 0) {
          this.i++;
          if (arg.length > 0 || args.length > 0) args.push(arg);
          break;
        }
        if (t === TK_COMMA && depth === 0) {
          args.push(arg);
          arg = [];
          this.i++;
          continue;
        }
        if (t === TK_LP) depth++;
        if (t === TK_RP) depth--;
        const tok = this.toks[this.i++]!;
        arg.push({ t: tok.t, s: tok.s, e: tok.e });
      }
    }
    this.expectEnd();
    const virtual = checkVirtualTable(this.src, module, this.toks[moduleAt]!.s, args);
    return { kind: "create-virtual", name, virtual };
  }

  private table(): CreateInfo {
    this.rowTime = "a table definition";
    this.ifNotExists();
    const name = this.objectName();
    if (this.kw() === "AS") this.fail("CREATE TABLE … AS SELECT is not allowed in a backup");
    this.expect(TK_LP, "“(”");
    let constraints = false;
    for (;;) {
      if (this.isTableConstraint()) {
        this.tableConstraint();
        constraints = true;
      } else if (constraints) {
        this.unexpected("a table constraint");
      } else {
        this.columnDef();
      }
      if (this.accept(TK_COMMA)) continue;
      if (this.accept(TK_RP)) break;
      if (constraints && this.isTableConstraint()) continue; // SQLite lets table constraints follow without a comma
      this.unexpected("“,” or “)”");
    }
    if (this.i < this.toks.length) {
      do {
        if (this.acceptKw("WITHOUT")) {
          if (!this.isBare("ROWID")) this.unexpected("ROWID");
          this.i++;
        } else if (this.isBare("STRICT")) {
          this.i++;
        } else {
          this.unexpected("a table option (WITHOUT ROWID or STRICT)");
        }
      } while (this.accept(TK_COMMA));
    }
    this.expectEnd();
    return { kind: "create-table", name };
  }

  private isTableConstraint(): boolean {
    const kw = this.kw();
    return kw === "CONSTRAINT" || kw === "PRIMARY" || kw === "UNIQUE" || kw === "CHECK" || kw === "FOREIGN";
  }

  private columnDef(): void {
    this.name("a column name");
    this.typeName();
    for (;;) {
      switch (this.kw()) {
        case "CONSTRAINT":
          this.i++;
          this.name();
          break;
        case "DEFAULT":
          this.i++;
          this.rowTime = "a DEFAULT value";
          this.defaultValue();
          break;
        case "NULL":
          this.i++;
          this.onConflict();
          break;
        case "NOT":
          this.i++;
          if (this.acceptKw("NULL")) this.onConflict();
          else if (this.kw() === "DEFERRABLE") this.deferrable();
          else this.unexpected("NULL or DEFERRABLE");
          break;
        case "PRIMARY":
          this.i++;
          this.expectKw("KEY");
          if (!this.acceptKw("ASC")) this.acceptKw("DESC");
          this.onConflict();
          this.acceptKw("AUTOINCREMENT");
          break;
        case "UNIQUE":
          this.i++;
          this.onConflict();
          break;
        case "CHECK":
          this.i++;
          this.rowTime = "a CHECK constraint";
          this.parenthesizedExpr();
          break;
        case "REFERENCES":
          this.i++;
          this.references();
          break;
        case "DEFERRABLE":
          this.deferrable();
          break;
        case "COLLATE":
          this.i++;
          this.name("a collation name");
          break;
        case "GENERATED":
          this.i++;
          this.expectKw("ALWAYS");
          this.expectKw("AS");
          this.generated();
          break;
        case "AS":
          this.i++;
          this.generated();
          break;
        default:
          return;
      }
    }
  }

  /** A column or CAST type: words, then optionally `(n)` or `(n, m)` with signed numbers. */
  private typeName(): void {
    let words = 0;
    while (this.isIds() && this.kw() !== "GENERATED") {
      this.i++;
      words++;
    }
    if (words > 0 && this.accept(TK_LP)) {
      this.signedNumber();
      if (this.accept(TK_COMMA)) this.signedNumber();
      this.expect(TK_RP, "“)”");
    }
  }

  private signedNumber(): void {
    if (this.isOp("+") || this.isOp("-")) this.i++;
    if (!this.accept(TK_INTEGER) && !this.accept(TK_FLOAT)) this.unexpected("a number");
  }

  private defaultValue(): void {
    const t = this.type();
    if (t === TK_LP) {
      this.parenthesizedExpr();
      return;
    }
    if (this.isOp("+") || this.isOp("-")) this.i++;
    const kw = this.kw();
    if (
      this.type() === TK_INTEGER ||
      this.type() === TK_FLOAT ||
      this.type() === TK_STRING ||
      this.type() === TK_BLOB ||
      kw === "NULL" ||
      kw === "CURRENT_TIME" ||
      kw === "CURRENT_DATE" ||
      kw === "CURRENT_TIMESTAMP"
    ) {
      this.i++;
      return;
    }
    // `DEFAULT word` stores the word as text (or TRUE/FALSE); no call can follow it.
    if (this.isIds() && this.type() !== TK_STRING) {
      this.i++;
      return;
    }
    this.unexpected("a default value");
  }

  private onConflict(): void {
    if (this.kw() === "ON" && this.kw(1) === "CONFLICT") {
      this.i += 2;
      if (!RESOLVE_TYPES.has(this.kw())) this.unexpected("ROLLBACK, ABORT, FAIL, IGNORE or REPLACE");
      this.i++;
    }
  }

  private references(): void {
    this.name("a table name");
    if (this.type() === TK_LP) this.nameList();
    for (;;) {
      if (this.kw() === "ON" && (this.kw(1) === "DELETE" || this.kw(1) === "UPDATE" || this.kw(1) === "INSERT")) {
        this.i += 2;
        if (this.acceptKw("SET")) {
          if (!this.acceptKw("NULL")) this.expectKw("DEFAULT");
        } else if (this.acceptKw("NO")) {
          this.expectKw("ACTION");
        } else if (!this.acceptKw("CASCADE") && !this.acceptKw("RESTRICT")) {
          this.unexpected("SET NULL, SET DEFAULT, CASCADE, RESTRICT or NO ACTION");
        }
      } else if (this.acceptKw("MATCH")) {
        this.name();
      } else {
        return;
      }
    }
  }

  private deferrable(): void {
    this.acceptKw("NOT");
    this.expectKw("DEFERRABLE");
    if (this.acceptKw("INITIALLY")) {
      if (!this.acceptKw("DEFERRED")) this.expectKw("IMMEDIATE");
    }
  }

  private generated(): void {
    this.rowTime = "a generated column";
    this.parenthesizedExpr();
    // STORED or VIRTUAL
    if (this.type() === TK_ID && (this.kw() === "" || this.kw() === "VIRTUAL")) this.i++;
  }

  private tableConstraint(): void {
    if (this.acceptKw("CONSTRAINT")) this.name();
    switch (this.kw()) {
      case "PRIMARY":
        this.i++;
        this.expectKw("KEY");
        this.expect(TK_LP, "“(”");
        this.rowTime = "a PRIMARY KEY";
        this.sortList();
        this.acceptKw("AUTOINCREMENT");
        this.expect(TK_RP, "“)”");
        this.onConflict();
        return;
      case "UNIQUE":
        this.i++;
        this.expect(TK_LP, "“(”");
        this.rowTime = "a UNIQUE constraint";
        this.sortList();
        this.expect(TK_RP, "“)”");
        this.onConflict();
        return;
      case "CHECK":
        this.i++;
        this.rowTime = "a CHECK constraint";
        this.parenthesizedExpr();
        this.onConflict();
        return;
      case "FOREIGN":
        this.i++;
        this.expectKw("KEY");
        this.nameList();
        this.expectKw("REFERENCES");
        this.references();
        if (this.kw() === "DEFERRABLE" || (this.kw() === "NOT" && this.kw(1) === "DEFERRABLE")) this.deferrable();
        return;
      default:
        this.unexpected("PRIMARY KEY, UNIQUE, CHECK or FOREIGN KEY");
    }
  }

  private index(): CreateInfo {
    this.ifNotExists();
    const name = this.objectName();
    this.expectKw("ON");
    const tableAt = this.i;
    const table = this.name("a table name");
    this.notShadow(table, tableAt);
    this.expect(TK_LP, "“(”");
    this.rowTime = "an index expression";
    this.sortList();
    this.expect(TK_RP, "“)”");
    this.rowTime = "a partial index's WHERE clause";
    if (this.acceptKw("WHERE")) this.expr();
    this.expectEnd();
    return { kind: "create-index", name, table };
  }

  private view(): CreateInfo {
    this.ifNotExists();
    const name = this.objectName();
    if (this.type() === TK_LP) this.nameList();
    this.expectKw("AS");
    this.select();
    this.expectEnd();
    return { kind: "create-view", name };
  }

  private trigger(): CreateInfo {
    this.ifNotExists();
    const name = this.objectName();
    if (!this.acceptKw("BEFORE") && !this.acceptKw("AFTER") && this.acceptKw("INSTEAD")) this.expectKw("OF");
    if (this.acceptKw("UPDATE")) {
      if (this.acceptKw("OF")) {
        do this.name("a column name");
        while (this.accept(TK_COMMA));
      }
    } else if (!this.acceptKw("INSERT") && !this.acceptKw("DELETE")) {
      this.unexpected("INSERT, UPDATE or DELETE");
    }
    this.expectKw("ON");
    const at = this.i;
    let table = this.name("a table name");
    if (this.accept(TK_DOT)) {
      const schema = table;
      table = this.name();
      if (asciiLower(schema) !== "main") this.fail(`only the main database can be restored (found “${schema}.${table}”)`, at);
    }
    this.notShadow(table, at);
    if (this.acceptKw("FOR")) {
      this.expectKw("EACH");
      this.expectKw("ROW");
    }
    if (this.acceptKw("WHEN")) this.expr();
    this.expectKw("BEGIN");
    do {
      this.triggerCommand();
      this.expect(TK_SEMI, "“;”");
    } while (this.kw() !== "END");
    this.expectKw("END");
    this.expectEnd();
    return { kind: "create-trigger", name, table };
  }

  private triggerCommand(): void {
    switch (this.kw()) {
      case "UPDATE":
        this.i++;
        this.orConflict();
        this.triggerTarget();
        this.indexedBy();
        this.expectKw("SET");
        this.setList();
        if (this.acceptKw("FROM")) this.from();
        if (this.acceptKw("WHERE")) this.expr();
        this.orderLimit();
        return;
      case "INSERT":
      case "REPLACE":
        if (this.kw() === "INSERT") {
          this.i++;
          this.orConflict();
        } else this.i++;
        this.expectKw("INTO");
        this.triggerTarget();
        if (this.type() === TK_LP) this.nameList();
        this.select();
        this.upsert();
        return;
      case "DELETE":
        this.i++;
        this.expectKw("FROM");
        this.triggerTarget();
        this.indexedBy();
        if (this.acceptKw("WHERE")) this.expr();
        this.orderLimit();
        return;
      case "SELECT":
      case "WITH":
      case "VALUES":
        this.select();
        return;
      default:
        this.fail(`only INSERT, UPDATE, DELETE and SELECT may appear in a trigger, not ${this.describe(this.i)}`);
    }
  }

  private orConflict(): void {
    if (this.acceptKw("OR")) {
      if (!RESOLVE_TYPES.has(this.kw())) this.unexpected("ROLLBACK, ABORT, FAIL, IGNORE or REPLACE");
      this.i++;
    }
  }

  private triggerTarget(): void {
    const at = this.i;
    const name = this.name("a table name");
    if (this.type() === TK_DOT) this.fail("a trigger may not name a table with its schema", at);
    if (asciiLower(name).startsWith("sqlite_")) this.fail(`a trigger may not write to ${name}`, at);
    this.notShadow(name, at);
  }

  private indexedBy(): void {
    if (this.acceptKw("INDEXED")) {
      this.expectKw("BY");
      this.name();
    } else if (this.kw() === "NOT" && this.kw(1) === "INDEXED") {
      this.i += 2;
    }
  }

  private setList(): void {
    do {
      if (this.type() === TK_LP) this.nameList();
      else this.name("a column name");
      this.expectOp("=");
      this.expr();
    } while (this.accept(TK_COMMA));
  }

  private upsert(): void {
    while (this.kw() === "ON" && this.kw(1) === "CONFLICT") {
      this.i += 2;
      if (this.accept(TK_LP)) {
        this.sortList();
        this.expect(TK_RP, "“)”");
        if (this.acceptKw("WHERE")) this.expr();
      }
      this.expectKw("DO");
      if (!this.acceptKw("NOTHING")) {
        this.expectKw("UPDATE");
        this.expectKw("SET");
        this.setList();
        if (this.acceptKw("WHERE")) this.expr();
      }
    }
    if (this.kw() === "RETURNING") this.fail("RETURNING is not allowed in a backup");
  }

  private orderLimit(): void {
    if (this.acceptKw("ORDER")) {
      this.expectKw("BY");
      this.sortList();
    }
    if (this.acceptKw("LIMIT")) {
      this.expr();
      if (this.acceptKw("OFFSET") || this.accept(TK_COMMA)) this.expr();
    }
  }

  /** `( name [COLLATE x] [ASC|DESC], … )` */
  private nameList(): void {
    this.expect(TK_LP, "“(”");
    do {
      this.name("a column name");
      if (this.acceptKw("COLLATE")) this.name("a collation name");
      if (!this.acceptKw("ASC")) this.acceptKw("DESC");
    } while (this.accept(TK_COMMA));
    this.expect(TK_RP, "“)”");
  }

  private sortList(): void {
    do {
      this.expr();
      if (!this.acceptKw("ASC")) this.acceptKw("DESC");
      if (this.acceptKw("NULLS")) {
        if (!this.acceptKw("FIRST")) this.expectKw("LAST");
      }
    } while (this.accept(TK_COMMA));
  }

  // ---- SELECT --------------------------------------------------------------

  private select(): void {
    this.enter();
    if (this.acceptKw("WITH")) {
      this.acceptKw("RECURSIVE");
      do this.commonTableExpression();
      while (this.accept(TK_COMMA));
    }
    this.selectCore();
    for (;;) {
      if (this.acceptKw("UNION")) this.acceptKw("ALL");
      else if (!this.acceptKw("INTERSECT") && !this.acceptKw("EXCEPT")) break;
      this.selectCore();
    }
    this.orderLimit();
    this.depth--;
  }

  private commonTableExpression(): void {
    this.name("a table name");
    if (this.type() === TK_LP) this.nameList();
    this.expectKw("AS");
    if (this.acceptKw("NOT")) this.expectKw("MATERIALIZED");
    else this.acceptKw("MATERIALIZED");
    this.expect(TK_LP, "“(”");
    this.select();
    this.expect(TK_RP, "“)”");
  }

  private selectCore(): void {
    if (this.acceptKw("VALUES")) {
      do {
        this.expect(TK_LP, "“(”");
        this.exprList();
        this.expect(TK_RP, "“)”");
      } while (this.accept(TK_COMMA));
      return;
    }
    this.expectKw("SELECT");
    if (!this.acceptKw("DISTINCT")) this.acceptKw("ALL");
    do this.resultColumn();
    while (this.accept(TK_COMMA));
    if (this.acceptKw("FROM")) this.from();
    if (this.acceptKw("WHERE")) this.expr();
    if (this.acceptKw("GROUP")) {
      this.expectKw("BY");
      this.exprList();
    }
    if (this.acceptKw("HAVING")) this.expr();
    if (this.kw() === "WINDOW" && this.isName(1, false) && this.kw(2) === "AS") {
      this.i++;
      do {
        this.name("a window name");
        this.expectKw("AS");
        this.expect(TK_LP, "“(”");
        this.windowSpec();
        this.expect(TK_RP, "“)”");
      } while (this.accept(TK_COMMA));
    }
  }

  private resultColumn(): void {
    if (this.isOp("*")) {
      this.i++;
      return;
    }
    if (this.isName(0) && this.type(1) === TK_DOT && this.isOp("*", 2)) {
      this.i += 3;
      return;
    }
    this.expr();
    this.alias();
  }

  private alias(): void {
    if (this.acceptKw("AS")) this.name("an alias");
    else if (this.isIds()) this.i++;
  }

  private from(): void {
    this.tableItem();
    for (;;) {
      if (this.accept(TK_COMMA)) {
        // a comma join
      } else if (JOIN_KEYWORDS.has(this.kw()) || this.kw() === "JOIN") {
        while (JOIN_KEYWORDS.has(this.kw())) this.i++;
        this.expectKw("JOIN");
      } else {
        return;
      }
      this.tableItem();
      if (this.acceptKw("ON")) this.expr();
      else if (this.acceptKw("USING")) this.nameList();
    }
  }

  private tableItem(): void {
    if (this.accept(TK_LP)) {
      if (SELECT_STARTS.has(this.kw())) this.select();
      else {
        this.enter();
        this.from();
        this.depth--;
      }
      this.expect(TK_RP, "“)”");
      this.alias();
      return;
    }
    this.tableReference();
    this.alias();
    this.indexedBy();
  }

  /** `[schema.]name` or `[schema.]name(args)` as a source of rows (FROM, or `x IN name`). */
  private tableReference(): void {
    const at = this.i;
    let name = this.name("a table name");
    if (this.accept(TK_DOT)) name = this.name("a table name");
    if (this.accept(TK_LP)) {
      if (!isTableFunction(name)) this.fail(`table-valued function ${name}() is not allowed in a backup`, at);
      if (!this.accept(TK_RP)) {
        this.exprList();
        this.expect(TK_RP, "“)”");
      }
      return;
    }
    if (!isReadableTable(name)) this.fail(`a view or trigger in a backup may not read ${name}`, at);
  }

  private windowSpec(): void {
    const kw = this.kw();
    if (this.isName(0, false) && kw !== "PARTITION" && kw !== "ORDER" && kw !== "RANGE" && kw !== "ROWS" && kw !== "GROUPS") {
      this.i++;
    }
    if (this.acceptKw("PARTITION")) {
      this.expectKw("BY");
      this.exprList();
    }
    if (this.acceptKw("ORDER")) {
      this.expectKw("BY");
      this.sortList();
    }
    if (this.acceptKw("RANGE") || this.acceptKw("ROWS") || this.acceptKw("GROUPS")) {
      if (this.acceptKw("BETWEEN")) {
        this.frameBound();
        this.expectKw("AND");
        this.frameBound();
      } else {
        this.frameBound();
      }
      if (this.acceptKw("EXCLUDE")) {
        if (this.acceptKw("NO")) this.expectKw("OTHERS");
        else if (this.acceptKw("CURRENT")) this.expectKw("ROW");
        else if (!this.acceptKw("GROUP") && !this.acceptKw("TIES")) this.unexpected("NO OTHERS, CURRENT ROW, GROUP or TIES");
      }
    }
  }

  private frameBound(): void {
    if (this.kw() === "UNBOUNDED" || this.kw() === "CURRENT") {
      const current = this.kw() === "CURRENT";
      this.i++;
      if (current) this.expectKw("ROW");
      else if (!this.acceptKw("PRECEDING")) this.expectKw("FOLLOWING");
      return;
    }
    this.expr();
    if (!this.acceptKw("PRECEDING")) this.expectKw("FOLLOWING");
  }

  // ---- expressions ---------------------------------------------------------

  private parenthesizedExpr(): void {
    this.expect(TK_LP, "“(”");
    this.expr();
    this.expect(TK_RP, "“)”");
  }

  private exprList(): void {
    do this.expr();
    while (this.accept(TK_COMMA));
  }

  /**
   * An expression, read flat (operand, then operators and operands) since only
   * the operands matter here; precedence is SQLite's business.
   */
  private expr(): void {
    this.enter();
    this.unary();
    while (this.binaryTail());
    this.depth--;
  }

  private binaryTail(): boolean {
    const t = this.type();
    if (t === TK_OP) {
      if (!BINARY_OPS.has(this.text(this.i))) return false;
      this.i++;
      this.unary();
      return true;
    }
    if (t !== TK_ID) return false;
    let kw = this.kw();
    if (kw === "NOT") {
      const next = this.kw(1);
      if (next === "NULL") {
        this.i += 2;
        return true;
      }
      if (!["LIKE", "GLOB", "REGEXP", "MATCH", "BETWEEN", "IN"].includes(next)) return false;
      this.i++;
      kw = next;
    }
    switch (kw) {
      case "AND":
      case "OR":
      case "LIKE":
      case "GLOB":
      case "REGEXP":
      case "MATCH":
      case "ESCAPE":
      case "BETWEEN":
        this.i++;
        this.unary();
        return true;
      case "IS":
        this.i++;
        this.acceptKw("NOT");
        if (this.acceptKw("DISTINCT")) this.expectKw("FROM");
        this.unary();
        return true;
      case "ISNULL":
      case "NOTNULL":
        this.i++;
        return true;
      case "IN":
        this.i++;
        this.inList();
        return true;
      case "COLLATE":
        this.i++;
        this.name("a collation name");
        return true;
      default:
        return false;
    }
  }

  private inList(): void {
    if (this.accept(TK_LP)) {
      if (this.accept(TK_RP)) return;
      if (SELECT_STARTS.has(this.kw())) this.select();
      else this.exprList();
      this.expect(TK_RP, "“)”");
      return;
    }
    this.tableReference();
  }

  private unary(): void {
    while (this.kw() === "NOT" || this.isOp("-") || this.isOp("+") || this.isOp("~")) this.i++;
    this.primary();
  }

  private primary(): void {
    const t = this.type();
    switch (t) {
      case TK_INTEGER:
      case TK_FLOAT:
      case TK_BLOB:
        this.i++;
        return;
      case TK_STRING:
        this.i++;
        if (this.accept(TK_DOT)) this.columnTail();
        return;
      case TK_LP:
        this.i++;
        this.enter();
        if (SELECT_STARTS.has(this.kw())) this.select();
        else this.exprList();
        this.depth--;
        this.expect(TK_RP, "“)”");
        return;
      case TK_QID:
        this.reference();
        return;
      case TK_ID:
        break;
      default:
        this.unexpected("an expression");
    }
    const kw = this.kw();
    switch (kw) {
      case "":
        this.reference();
        return;
      case "NULL":
      case "CURRENT_DATE":
      case "CURRENT_TIME":
      case "CURRENT_TIMESTAMP":
        this.i++;
        return;
      case "CAST":
        this.i++;
        this.expect(TK_LP, "“(”");
        this.expr();
        this.expectKw("AS");
        this.typeName();
        this.expect(TK_RP, "“)”");
        return;
      case "CASE": {
        this.i++;
        if (this.kw() !== "WHEN") this.expr();
        let whens = 0;
        while (this.acceptKw("WHEN")) {
          this.expr();
          this.expectKw("THEN");
          this.expr();
          whens++;
        }
        if (whens === 0) this.unexpected("WHEN");
        if (this.acceptKw("ELSE")) this.expr();
        this.expectKw("END");
        return;
      }
      case "EXISTS":
        this.i++;
        this.expect(TK_LP, "“(”");
        this.select();
        this.expect(TK_RP, "“)”");
        return;
      case "RAISE":
        this.i++;
        this.expect(TK_LP, "“(”");
        if (!this.acceptKw("IGNORE")) {
          if (!["ROLLBACK", "ABORT", "FAIL"].includes(this.kw())) this.unexpected("IGNORE, ROLLBACK, ABORT or FAIL");
          this.i++;
          this.expect(TK_COMMA, "“,”");
          this.expr();
        }
        this.expect(TK_RP, "“)”");
        return;
      default:
        if (NAME_KEYWORDS.has(kw)) {
          this.reference();
          return;
        }
        this.unexpected("an expression");
    }
  }

  /** A column reference `[schema.][table.]column` or a function call `name(…)`. */
  private reference(): void {
    if (this.type(1) === TK_LP) {
      this.functionCall();
      return;
    }
    this.i++;
    if (this.accept(TK_DOT)) this.columnTail();
  }

  private columnTail(): void {
    this.name("a column name");
    if (this.accept(TK_DOT)) this.name("a column name");
  }

  private functionCall(): void {
    const at = this.i;
    const tok = this.toks[at]!;
    const name = tokenName(this.src, tok.s, tok.e, tok.t);
    if (!isSchemaFunction(name)) {
      // The application's own functions exist where it runs its views and
      // triggers, so those may call them; a restore inserts rows without them.
      if (isDangerousFunction(name)) this.fail(functionRefusal(name), at);
      if (this.rowTime !== null) {
        this.fail(
          `function ${name}() is not one of SQLite's built-in functions; in ${this.rowTime} it would run while rows are restored, where only built-in functions exist`,
          at,
        );
      }
    }
    this.i += 2;
    if (this.isOp("*")) {
      this.i++;
    } else if (this.type() !== TK_RP) {
      if (!this.acceptKw("DISTINCT")) this.acceptKw("ALL");
      this.exprList();
      if (this.acceptKw("ORDER")) {
        this.expectKw("BY");
        this.sortList();
      }
    }
    this.expect(TK_RP, "“)”");
    if (this.isBare("FILTER") && this.type(1) === TK_LP) {
      this.i += 2;
      this.expectKw("WHERE");
      this.expr();
      this.expect(TK_RP, "“)”");
    }
    if (this.isBare("OVER")) {
      this.i++;
      if (this.accept(TK_LP)) {
        this.windowSpec();
        this.expect(TK_RP, "“)”");
      } else {
        this.name("a window name");
      }
    }
  }
}
