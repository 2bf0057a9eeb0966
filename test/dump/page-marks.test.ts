import { describe, expect, it } from "vitest";
import { markScanners, pageNeedsExactPath, textNeedsHex } from "../../src/dump/page-marks.ts";

/** The marks as plainly as they can be said. */
const reference = (b: Uint8Array) => /\r\n|Inf[,)]|e-(?:3|29)/.test(Buffer.from(b).toString("latin1"));
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const filler = (n: number) => bytes("(1,'abc def',X'00FF',2.5)".repeat(Math.ceil(n / 25)).slice(0, n));

describe.each(Object.entries(markScanners))("the %s scanner", (_name, scan) => {
  it("finds each mark and nothing that only looks like one", () => {
    for (const s of ["a\r\nb", "(1,Inf)", "(Inf,2)", "(-Inf,2)", "1.0e-300,", "4.9e-324)", "2.2e-291,", "'e-3'"]) expect(scan(bytes(s)), s).toBe(true);
    for (const s of ["", "a\rb\n", "Info", "Inf ", "1.0e-28,", "1.0e+300", "e -3", "-3", "I", "\r"]) expect(scan(bytes(s)), s).toBe(false);
  });

  it("finds a mark at every offset of a page longer than its window, in a page that does not start its buffer", () => {
    const size = 70_000 + 37;
    const backing = new Uint8Array(size + 5);
    backing.set(filler(size), 3);
    const page = backing.subarray(3, 3 + size);
    expect(scan(page)).toBe(false);
    // Across the 16-byte blocks, the end of the first 64 KiB window and the tail.
    for (const at of [0, 1, 14, 15, 16, 31, 65_520, 65_533, 65_534, 65_535, 65_536, 65_537, size - 4, size - 3, size - 2]) {
      for (const mark of ["\r\n", "Inf,", "e-3", "e-29"]) {
        const copy = new Uint8Array(page);
        const m = bytes(mark);
        if (at + m.length > size) continue;
        copy.set(m, at);
        expect(scan(copy), `${JSON.stringify(mark)} at ${at}`).toBe(reference(copy));
        expect(reference(copy)).toBe(true);
      }
    }
  });

  it("agrees with the plain definition on random pages: plain bytes strewn with the marks' own", () => {
    // Whole marks and pieces of them.
    const pieces = ["\r\n", "\r", "\n", "Inf,", "Inf)", "Inf", "In", "I", "e-3", "e-29", "e-2", "e-", "-3", "-", ",", ")"].map(bytes);
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff);
    let found = 0;
    for (let round = 0; round < 3000; round++) {
      const n = next() % 600;
      const page = new Uint8Array(n).fill(0x78);
      // Sparse enough that most 16-byte blocks hold none of them.
      for (let k = next() % 6; k > 0; k--) {
        const piece = pieces[next() % pieces.length]!;
        if (piece.length <= n) page.set(piece, next() % (n - piece.length + 1));
      }
      const expected = reference(page);
      if (expected) found++;
      expect(scan(page), Buffer.from(page).toString("latin1")).toBe(expected);
    }
    // Both answers came up often enough to mean something.
    expect(found).toBeGreaterThan(300);
    expect(found).toBeLessThan(2700);
  });
});

describe("pageNeedsExactPath and textNeedsHex", () => {
  it("send bytes that are not UTF-8 down the exact path, and plain text past it", () => {
    expect(pageNeedsExactPath(bytes("(1,'caf\xc3\xa9')"))).toBe(false);
    expect(pageNeedsExactPath(bytes("(1,'caf\xe9')"))).toBe(true);
    expect(pageNeedsExactPath(bytes("(1,Inf)"))).toBe(true);
  });

  it("write text with NUL, CR LF or bad UTF-8 as hex, and other text as a literal", () => {
    expect(textNeedsHex(bytes("a\x00b"))).toBe(true);
    expect(textNeedsHex(bytes("a\r\nb"))).toBe(true);
    expect(textNeedsHex(bytes("caf\xe9"))).toBe(true);
    expect(textNeedsHex(bytes("a\rb\nc, Inf, 1e-300"))).toBe(false);
  });
});
