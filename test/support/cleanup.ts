/**
 * Cleanup of the support modules (open Lifeboats, child processes, servers,
 * temp folders) after every test. A module-level `afterEach` in a support
 * module would attach only to the first test file that imports it, because
 * vitest runs files without isolation here (vitest.config.ts: modules are
 * loaded once per worker); test/support/setup.ts runs these after every test
 * of every file instead.
 */
const hooks: (() => unknown)[] = [];
const lastHooks: (() => unknown)[] = [];

/**
 * Runs `fn` after every test, newest registration first (like vitest's own
 * hook stack). `last`: after all the others (removing temp folders, once
 * whatever writes into them has stopped).
 */
export function afterEachTest(fn: () => unknown, options: { last?: boolean } = {}): void {
  (options.last ? lastHooks : hooks).push(fn);
}

/** Runs every registered cleanup, all of them even when one fails; then throws the first failure. */
export async function runCleanups(): Promise<void> {
  const errors: unknown[] = [];
  for (const fn of [...hooks].reverse().concat([...lastHooks].reverse())) {
    try {
      await fn();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
}
