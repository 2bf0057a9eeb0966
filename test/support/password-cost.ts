import type { ScryptParams } from "../../src/users/password.ts";

/**
 * The scrypt cost tests hash passwords at: the cheapest the stored format accepts
 * (N=2^10, r=8, p=1, about 1 ms), still a real scrypt hash in the same format.
 * Production's N=2^17 costs 0.4 s per hash and dominated the suite; one test in
 * test/users/password.test.ts boots without it and checks that default.
 * No side effects on import: fixtures that run outside vitest use it too.
 */
export const TEST_PASSWORD_COST: Readonly<ScryptParams> = Object.freeze({ ln: 10, r: 8, p: 1 });
