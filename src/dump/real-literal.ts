/**
 * REAL literals every sqlite3 we test reads back bit for bit (used by the
 * dump writer, and by the reader where it writes rows of its own).
 */

/** Below this, a decimal REAL literal is not read back exactly by every sqlite3 (see `realLiteral`). */
const TINY_REAL = 1e-290;
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
/** 2^-300 as a literal every parser reads exactly (a normal double, 17 digits). */
const POW2_MINUS_300 = (2 ** -300).toPrecision(17);

/**
 * A REAL as SQL that every sqlite3 we test reads back bit for bit: 17
 * significant digits, `±1e999` for ±Infinity, `-0.0`. Below 1e-290 (and for
 * subnormals) sqlite3 3.40's parser divides twice in extended precision and
 * can land one ulp off whatever the digits, so such a value is written as its
 * exact binary form instead: `(M*2^-300*…*2^-k)` with an integer M below 2^53
 * and powers of two that are normal doubles; each multiplication by a power
 * of two is exact.
 */
export function realLiteral(x: number): string {
  if (x === Infinity) return "1e999";
  if (x === -Infinity) return "-1e999";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  if (Math.abs(x) >= TINY_REAL) {
    // toPrecision(17) rounds correctly; trailing zeros of the fraction carry nothing.
    const [mantissa, exponent] = x.toPrecision(17).split("e") as [string, string | undefined];
    const m = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, ".0") : `${mantissa}.0`;
    return exponent === undefined ? m : `${m}e${exponent}`;
  }
  f64[0] = x;
  const bits = u64[0]!;
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  let m = bits & ((1n << 52n) - 1n);
  let e: number;
  if (biased === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  while ((m & 1n) === 0n && e < 0) {
    m >>= 1n;
    e++;
  }
  const factors: string[] = [`${negative ? "-" : ""}${m}`];
  let rest = -e;
  while (rest > 300) {
    factors.push(POW2_MINUS_300);
    rest -= 300;
  }
  if (rest > 0) factors.push((2 ** -rest).toPrecision(17));
  return `(${factors.join("*")})`;
}

