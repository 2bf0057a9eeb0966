import { defineConfig } from "vitest/config";
import { LongestFirst } from "./test/support/sequencer.ts";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Browser and Deno tests start real processes; two cores cannot run many at once.
    maxWorkers: 2,
    // Each worker process loads the app's modules once for all its test files instead of
    // once per file (about a quarter of the suite's CPU). Nothing in src/ keeps state at
    // module level that a test could leak to the next file; the support modules' cleanup
    // runs after every test of every file through the setup file.
    isolate: false,
    setupFiles: ["test/support/setup.ts"],
    // The longest files start first, also without the durations of a previous run.
    sequence: { sequencer: LongestFirst },
    // A skipped test in CI is a failure: refuse .only and report skips loudly.
    allowOnly: false,
  },
});
