import { spawn } from "node:child_process";
import path from "node:path";
import { bundled } from "./bundle.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run lifeboat`'s entry: tsx on the TypeScript sources. */
const CLI_SOURCE = path.resolve("src/cli/main.ts");

/**
 * Runs the command line as a new process with `args` and `env` (over this
 * process's environment, LOG_LEVEL unset). By default from the esbuild bundle
 * of its sources (`bundled`, test/support/bundle.ts); `{ tsx: true }` runs it exactly as
 * `npm run lifeboat -- …` does, through tsx on src/cli/main.ts.
 */
export async function runCli(args: string[], env: Record<string, string>, options: { tsx?: boolean } = {}): Promise<CliRun> {
  const entry = options.tsx ? ["--import", "tsx", CLI_SOURCE] : [bundled("main")];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entry, ...args], { env: { ...process.env, LOG_LEVEL: "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
