import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that run longest (real browsers, real processes), slowest first.
 * Vitest orders files by the durations of the previous run (its cache under
 * node_modules/.vite), which a fresh checkout such as CI's has not got; it then
 * goes by file size, which would start the accessibility checks, small files
 * and the longest of all, somewhere in the middle, to finish alone on one
 * worker at the end.
 */
const LONGEST = [
  "test/browser/accessibility-api-docs.test.ts",
  "test/browser/accessibility.test.ts",
  "test/cli/command-line.test.ts",
  "test/shutdown.test.ts",
  "test/packaging.test.ts",
];

/** Vitest's own order, with the `LONGEST` files moved to the front. */
export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = LONGEST.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return i === -1 ? LONGEST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
