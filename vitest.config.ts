import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Browser and Deno tests start real processes; two cores cannot run many at once.
    maxWorkers: 2,
    // A skipped test in CI is a failure: refuse .only and report skips loudly.
    allowOnly: false,
  },
});
