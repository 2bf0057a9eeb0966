import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run lifeboat`'s entry: tsx on the TypeScript sources. */
const CLI_SOURCE = path.resolve("src/cli/main.ts");
const WORKER_SOURCE = path.resolve("src/db/drivers/db-worker.ts");
/** Git-ignored, inside the project: its package.json makes the bundle ESM and gives it Lifeboat's version. */
const BUNDLES = path.resolve(".cache/cli");

let bundled: Promise<string> | undefined;

/**
 * The command line and its backup worker bundled into JavaScript with esbuild
 * (the compiler tsx uses), once per process, as `main.js` beside `db-worker.js`
 * the way `npm run build` lays them out for `npm start`. A start through tsx
 * costs about three times the CPU (its loader compiles every module again), and
 * the CLI tests start the CLI dozens of times. Named by content hash and
 * written atomically, so concurrent test processes share one folder.
 */
function cliBundle(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import("esbuild");
    const built = await esbuild.build({
      entryPoints: [CLI_SOURCE, WORKER_SOURCE],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      outdir: BUNDLES,
      entryNames: "[name]",
      write: false,
      logLevel: "silent",
    });
    const hash = createHash("sha256");
    for (const file of built.outputFiles) hash.update(path.basename(file.path)).update(file.contents);
    const dir = path.join(BUNDLES, hash.digest("hex").slice(0, 16));
    if (!existsSync(path.join(dir, "main.js"))) {
      const temp = `${dir}.${process.pid}.${Date.now()}.tmp`;
      await fs.mkdir(temp, { recursive: true });
      for (const file of built.outputFiles) await fs.writeFile(path.join(temp, path.basename(file.path)), file.contents);
      // Another process may have written the same bundle meanwhile: theirs is as good as ours.
      await fs.rename(temp, dir).catch(() => fs.rm(temp, { recursive: true, force: true }));
    }
    return path.join(dir, "main.js");
  })();
  return bundled;
}

/**
 * Runs the command line as a new process with `args` and `env` (over this
 * process's environment, LOG_LEVEL unset). By default from the esbuild bundle
 * of its sources (`cliBundle`); `{ tsx: true }` runs it exactly as
 * `npm run lifeboat -- …` does, through tsx on src/cli/main.ts.
 */
export async function runCli(args: string[], env: Record<string, string>, options: { tsx?: boolean } = {}): Promise<CliRun> {
  const entry = options.tsx ? ["--import", "tsx", CLI_SOURCE] : [await cliBundle()];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entry, ...args], { env: { ...process.env, LOG_LEVEL: "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
