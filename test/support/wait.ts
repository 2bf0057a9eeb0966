/** How long a test waits for background work before it fails (well inside vitest's 60 s test timeout). */
const WAIT_MS = 30_000;

/**
 * Polls `cond` until it holds, for background work a test cannot await. Fails
 * with "timed out after N ms waiting for <what>" once `timeoutMs` of real time
 * has passed, so a condition that never comes fails clearly instead of hanging.
 * An error thrown by `cond` fails the wait at once.
 */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
