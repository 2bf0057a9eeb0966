import { describe, expect, it } from "vitest";
import {
  Lexer,
  NEED_MORE,
  SqlFault,
  TK_BLOB,
  TK_COMMENT,
  TK_DOT,
  TK_EOF,
  TK_FLOAT,
  TK_ID,
  TK_INTEGER,
  TK_OP,
  TK_QID,
  TK_SPACE,
  TK_STRING,
  keywordOf,
  tokenName,
} from "../../src/dump/sql-tokenizer.ts";

const NAMES: Record<number, string> = {
  [TK_SPACE]: "space",
  [TK_COMMENT]: "comment",
  [TK_ID]: "id",
  [TK_QID]: "qid",
  [TK_STRING]: "string",
  [TK_INTEGER]: "integer",
  [TK_FLOAT]: "float",
  [TK_BLOB]: "blob",
  [TK_DOT]: "dot",
  [TK_OP]: "op",
};

/** Every token of `sql` as [type, text], the text being final. */
function tokens(sql: string): [string, string][] {
  const lx = new Lexer(sql, 0, true);
  const out: [string, string][] = [];
  for (;;) {
    const t = lx.next();
    if (t === TK_EOF) return out;
    out.push([NAMES[t] ?? String(t), lx.text()]);
  }
}

function fault(sql: string, final = true): string {
  const lx = new Lexer(sql, 0, final);
  try {
    for (;;) if (lx.next() === TK_EOF) break;
  } catch (error) {
    if (error === NEED_MORE) return "need more";
    expect(error).toBeInstanceOf(SqlFault);
    return (error as SqlFault).reason;
  }
  return "no fault";
}

describe("the tokenizer cuts text where SQLite does", () => {
  it("numbers, like sqlite3GetToken", () => {
    expect(tokens("1e999 .5 1. 0x1F 0X1f 1e+5 1E-5 12.5e3")).toEqual([
      ["float", "1e999"],
      ["space", " "],
      ["float", ".5"],
      ["space", " "],
      ["float", "1."],
      ["space", " "],
      ["integer", "0x1F"],
      ["space", " "],
      ["integer", "0X1f"],
      ["space", " "],
      ["float", "1e+5"],
      ["space", " "],
      ["float", "1E-5"],
      ["space", " "],
      ["float", "12.5e3"],
    ]);
    // a hex literal ends at the first non-hex digit; SQLite does not check what follows
    expect(tokens("0x1Fg")).toEqual([
      ["integer", "0x1F"],
      ["id", "g"],
    ]);
    // a dot followed by no digit is a dot
    expect(tokens("a.b")).toEqual([
      ["id", "a"],
      ["dot", "."],
      ["id", "b"],
    ]);
    expect(fault("12abc")).toBe("malformed number “12abc”");
    expect(fault("1e")).toBe("malformed number “1e”");
    expect(fault("1e+")).toBe("malformed number “1e”");
    expect(fault("0x")).toBe("malformed number “0x”");
    expect(fault("1_000")).toBe("malformed number “1_000”");
  });

  it("strings with '' escapes, across lines", () => {
    expect(tokens("'it''s\na ; -- test'")).toEqual([["string", "'it''s\na ; -- test'"]]);
    expect(tokens("''''")).toEqual([["string", "''''"]]);
  });

  it("quoted identifiers: \"…\" and `…` with doubled quotes, […] without escapes", () => {
    expect(tokens('"a""b" `c``d` [e"f]')).toEqual([
      ["qid", '"a""b"'],
      ["space", " "],
      ["qid", "`c``d`"],
      ["space", " "],
      ["qid", '[e"f]'],
    ]);
    expect(tokenName('"a""b"', 0, 6, TK_QID)).toBe('a"b');
    expect(tokenName("`c``d`", 0, 6, TK_QID)).toBe("c`d");
    expect(tokenName("[e]]", 0, 3, TK_QID)).toBe("e");
    expect(tokenName("'x''y'", 0, 6, TK_STRING)).toBe("x'y");
  });

  it("blobs need an even number of hex digits", () => {
    expect(tokens("X'' x'00ff'")).toEqual([
      ["blob", "X''"],
      ["space", " "],
      ["blob", "x'00ff'"],
    ]);
    expect(fault("X'0'")).toMatch(/malformed blob literal/);
    expect(fault("X'0g'")).toMatch(/malformed blob literal/);
    expect(tokens("xyz")).toEqual([["id", "xyz"]]);
  });

  it("comments: -- ends at a newline only, /* */ does not nest", () => {
    expect(tokens("a -- c\r still comment\nb")).toEqual([
      ["id", "a"],
      ["space", " "],
      ["comment", "-- c\r still comment"],
      ["space", "\n"],
      ["id", "b"],
    ]);
    expect(tokens("/* a /* b */ c")).toEqual([
      ["comment", "/* a /* b */"],
      ["space", " "],
      ["id", "c"],
    ]);
    expect(tokens("a--")).toEqual([
      ["id", "a"],
      ["comment", "--"],
    ]);
  });

  it("operators, including -> ->> || and the two-character comparisons", () => {
    expect(tokens("a->b->>c||d<=e<>f!=g==h<<i>>j>=k").filter(([t]) => t === "op").map(([, x]) => x)).toEqual([
      "->",
      "->>",
      "||",
      "<=",
      "<>",
      "!=",
      "==",
      "<<",
      ">>",
      ">=",
    ]);
  });

  it("identifiers: $ inside, any character >= U+0080, a BOM between tokens is whitespace", () => {
    expect(tokens("a$b")).toEqual([["id", "a$b"]]);
    expect(tokens("é\u00a0x")).toEqual([["id", "é\u00a0x"]]); // U+00A0 is an identifier character to SQLite
    expect(tokens("a \ufeffb")).toEqual([
      ["id", "a"],
      ["space", " "],
      ["space", "\ufeff"],
      ["id", "b"],
    ]);
    expect(tokens("a\ufeffb")).toEqual([["id", "a\ufeffb"]]);
  });

  it("keywords are ASCII words compared without case", () => {
    expect(keywordOf("select", 0, 6)).toBe("SELECT");
    expect(keywordOf("Replace", 0, 7)).toBe("REPLACE");
    expect(keywordOf("selects", 0, 7)).toBe("");
    expect(keywordOf("ſelect", 0, 6)).toBe(""); // U+017F is not an ASCII s
    expect(keywordOf("true", 0, 4)).toBe(""); // TRUE and FALSE are identifiers
  });

  it("refuses parameters, stray characters and control characters", () => {
    for (const p of ["?", "?1", ":a", "@a", "$a", "#a"]) expect(fault(`x ${p}`)).toMatch(/parameters .* are not allowed/);
    expect(fault("a ! b")).toBe("unexpected character “!”");
    expect(fault("a { b")).toBe("unexpected character “{”");
    expect(fault("a ] b")).toBe("unexpected character “]”");
    expect(fault("a \x0b b")).toBe("binary data (control character U+000B), not a SQL backup");
    expect(fault("a \x7f")).toBe("binary data (control character U+007F), not a SQL backup");
    expect(fault("a \0")).toBe("binary data (a NUL byte), not a SQL backup");
  });

  it("asks for more text when a token may go on, and calls an unclosed one truncated at the end", () => {
    for (const partial of ["'abc", "'abc'", '"id', "[id", "/* c", "-- c", "12", "1e", "0x", "x", "X'0", "abc", "-", "/", "<", "|", "!", "."]) {
      expect(fault(partial, false), partial).toBe("need more");
    }
    expect(fault("'abc")).toMatch(/ends inside a string/);
    expect(fault('"id')).toMatch(/ends inside a quoted name/);
    expect(fault("[id")).toMatch(/ends inside a quoted name/);
    expect(fault("/* c")).toMatch(/ends inside a \/\* comment/);
    expect(fault("X'0")).toMatch(/ends inside a blob/);
    expect(fault("'a''")).toMatch(/ends inside a string/);
    expect(fault("-- c")).toBe("no fault");
  });
});
