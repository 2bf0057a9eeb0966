// vitest setup file, run before each test file (vitest.config.ts `setupFiles`).
import { afterEach } from "vitest";
import { runCleanups } from "./cleanup.ts";

afterEach(runCleanups);
