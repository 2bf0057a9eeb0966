import { Buffer, isUtf8 } from "node:buffer";

/**
 * The marks that send an export page down the exact path (see `writer.ts`):
 * bytes that are not UTF-8, a CR LF (the sqlite3 shell would drop the CR),
 * "Inf," or "Inf)" (an infinity as `quote()` prints it, or text holding it),
 * and "e-29" / "e-3" (exponents of REALs below 1e-290 as `%g` prints them, or
 * text). False positives only cost time; a missed mark would write a wrong
 * value, so both scanners below are tested against the plain definition.
 *
 * Every byte of an export passes through here, so the scan is the fastest each
 * runtime has (1.27 GB dump of the 1 GB "app" database, all marks):
 * - Node: `Buffer#indexOf`, which is memchr, once per mark from its rarest
 *   byte (the CR, the "I", the "-" of "e-"; searching "e-3" from its "e", in
 *   every other word of text, took 12% of an export): 70–100 ms.
 * - Deno: its `Buffer#indexOf` is JavaScript and V8's `Uint8Array#indexOf` a
 *   byte-at-a-time loop: 2.0 s, a sixth of a 1 GB export. A 16-byte SIMD loop
 *   in WebAssembly looks for the first two bytes of every mark at once:
 *   0.15 s. Pairs, not single bytes: on 95 MB of negative coordinates, where
 *   nearly every 16 bytes hold a "-", single bytes took 136 ms, pairs 12 ms.
 */

const CR = 0x0d;
const LF = 0x0a;
const I = 0x49;
const MINUS = 0x2d;
const E = 0x65;

/** Whether a mark starts at `b[i]`: "\r\n", "Inf," / "Inf)", or "e-3" / "e-29". */
function markAt(b: Uint8Array, i: number): boolean {
  switch (b[i]) {
    case CR:
      return b[i + 1] === LF;
    case I:
      return b[i + 1] === 0x6e && b[i + 2] === 0x66 && (b[i + 3] === 0x2c || b[i + 3] === 0x29);
    case E:
      return b[i + 1] === MINUS && (b[i + 2] === 0x33 || (b[i + 2] === 0x32 && b[i + 3] === 0x39));
    default:
      return false;
  }
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** The faster single-byte search of this runtime (see above), for short searches and Node's scan. */
const byteIndexOf: (this: Uint8Array, byte: number, from?: number) => number = isDeno
  ? Uint8Array.prototype.indexOf
  : (Buffer.prototype.indexOf as (this: Uint8Array, byte: number, from?: number) => number);

/** Whether a mark is found from some `anchor` byte in `b`, starting `back` bytes before it. */
function markFrom(b: Uint8Array, anchor: number, back = 0): boolean {
  for (let i = byteIndexOf.call(b, anchor); i >= 0; i = byteIndexOf.call(b, anchor, i + 1)) {
    if (markAt(b, i - back)) return true;
  }
  return false;
}

/** Node: one memchr pass per anchor byte (the "-" of "e-", rarer than the "e"). */
function memchrMarks(b: Uint8Array): boolean {
  return markFrom(b, CR) || markFrom(b, I) || markFrom(b, MINUS, 1);
}

/**
 * `scan(from, end)`: the offset of the first 16-byte block in [from, end) of
 * the module's memory where one of the marks' first two bytes start (CR LF,
 * "In", "e-"), or, when none does, the offset of the last (shorter than 16
 * bytes) piece, which the caller checks itself. Each block is compared with
 * itself and with itself one byte on, so a block is only a candidate where a
 * pair is; single bytes were not enough ("-" is in every negative number, and
 * a page full of them cost more than V8's indexOf). The module, in
 * WebAssembly text:
 *
 *   (module
 *     (memory (export "memory") 1)
 *     (func (export "scan") (param $p i32) (param $end i32) (result i32)
 *       (local $v v128) (local $w v128)
 *       (block $done
 *         (loop $next
 *           (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
 *           (local.set $v (v128.load (local.get $p)))
 *           (local.set $w (v128.load offset=1 (local.get $p)))
 *           (if (v128.any_true
 *                 (v128.or
 *                   (v128.or (v128.and (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13)))
 *                                      (i8x16.eq (local.get $w) (i8x16.splat (i32.const 10))))
 *                            (v128.and (i8x16.eq (local.get $v) (i8x16.splat (i32.const 73)))
 *                                      (i8x16.eq (local.get $w) (i8x16.splat (i32.const 110)))))
 *                   (v128.and (i8x16.eq (local.get $v) (i8x16.splat (i32.const 101)))
 *                             (i8x16.eq (local.get $w) (i8x16.splat (i32.const 45))))))
 *             (then (return (local.get $p))))
 *           (local.set $p (i32.add (local.get $p) (i32.const 16)))
 *           (br $next)))
 *       (local.get $p)))
 */
// prettier-ignore
const SCAN_BODY = [
  0x01, 0x02, 0x7b, // locals: two v128 ($v = local 2, $w = local 3)
  0x02, 0x40, 0x03, 0x40, // block $done, loop $next
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x20, 0x01, 0x4b, 0x0d, 0x01, // br_if $done (p + 16 > end)
  0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x02, // v = v128.load(p)
  0x20, 0x00, 0xfd, 0x00, 0x00, 0x01, 0x21, 0x03, // w = v128.load offset=1 (p)
  0x20, 0x02, 0x41, 0x0d, 0xfd, 0x0f, 0xfd, 0x23, // v == 13
  0x20, 0x03, 0x41, 0x0a, 0xfd, 0x0f, 0xfd, 0x23, 0xfd, 0x4e, // and w == 10
  0x20, 0x02, 0x41, 0xc9, 0x00, 0xfd, 0x0f, 0xfd, 0x23, // v == 73
  0x20, 0x03, 0x41, 0xee, 0x00, 0xfd, 0x0f, 0xfd, 0x23, 0xfd, 0x4e, 0xfd, 0x50, // and w == 110; or
  0x20, 0x02, 0x41, 0xe5, 0x00, 0xfd, 0x0f, 0xfd, 0x23, // v == 101
  0x20, 0x03, 0x41, 0x2d, 0xfd, 0x0f, 0xfd, 0x23, 0xfd, 0x4e, 0xfd, 0x50, // and w == 45; or
  0xfd, 0x53, 0x04, 0x40, 0x20, 0x00, 0x0f, 0x0b, // if any_true: return p
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // p += 16
  0x0c, 0x00, 0x0b, 0x0b, // br $next; end loop; end block
  0x20, 0x00, 0x0b, // p
];
// prettier-ignore
const SCAN_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // types: (i32, i32) -> i32
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory: one, 1 page (64 KiB)
  0x07, 0x11, 0x02, // exports: two
  0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // "memory": memory 0
  0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x00, // "scan": function 0
  0x0a, SCAN_BODY.length + 2, 0x01, SCAN_BODY.length, ...SCAN_BODY, // code: one body (sizes below 128 are one LEB128 byte)
]);
let simd: { scan: (from: number, end: number) => number; memory: Uint8Array } | null = null;

/**
 * Deno: pages are copied into the module's memory 64 KiB at a time (with the
 * byte after the window, which a pair at its end reaches into) and scanned 16
 * bytes at a time.
 */
function simdMarks(b: Uint8Array): boolean {
  if (!simd) {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(SCAN_MODULE));
    simd = { scan: exports.scan as (from: number, end: number) => number, memory: new Uint8Array((exports.memory as WebAssembly.Memory).buffer) };
  }
  const { scan, memory } = simd;
  const window = memory.byteLength - 1;
  for (let base = 0; base < b.byteLength; base += window) {
    const end = Math.min(window, b.byteLength - base);
    memory.set(b.subarray(base, base + end + 1));
    for (let p = scan(0, end); ; p = scan(p + 16, end)) {
      // A block with a candidate, or the tail: marks are checked in `b` itself, so one may run past the window.
      const stop = Math.min(p + 16, end);
      for (let j = p; j < stop; j++) if (markAt(b, base + j)) return true;
      if (p + 16 >= end) break;
    }
  }
  return false;
}

/**
 * The two scanners, for the tests; `pageNeedsExactPath` uses the faster one of this runtime.
 * @internal
 */
export const markScanners = { memchr: memchrMarks, simd: simdMarks };

const hasMark = isDeno ? simdMarks : memchrMarks;

/** True when a page formatted by the fast expression must be formatted again value by value. */
export function pageNeedsExactPath(page: Uint8Array): boolean {
  return !isUtf8(page) || hasMark(page);
}

/** Text that cannot be written as a plain quoted literal: NUL, CR LF, or bytes that are not UTF-8. */
export function textNeedsHex(bytes: Uint8Array): boolean {
  return byteIndexOf.call(bytes, 0) >= 0 || !isUtf8(bytes) || markFrom(bytes, CR);
}
