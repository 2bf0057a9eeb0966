import { expect } from "vitest";

/**
 * Asserts that two byte arrays are identical. `toEqual` compares a typed array
 * element by element through its generic deep equality (half a megabyte took
 * over 20 s on a loaded machine); this compares natively and, on a mismatch,
 * reports both lengths and the first offset that differs.
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (actual.byteLength === expected.byteLength && Buffer.compare(actual, expected) === 0) return;
  let at = 0;
  const shorter = Math.min(actual.byteLength, expected.byteLength);
  while (at < shorter && actual[at] === expected[at]) at++;
  expect({ length: actual.byteLength, firstDifferenceAt: at }).toEqual({ length: expected.byteLength, firstDifferenceAt: null });
}
