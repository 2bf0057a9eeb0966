import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";

/**
 * Every program the tests start as a process of its own, by output name. The
 * server and the command line are Lifeboat's own entries; the fixtures are
 * small programs around the real engine. `db-worker` is the backup worker:
 * it must sit beside the others, as `npm run build` lays it out for
 * `npm start`, so the engine finds `./db-worker.js` next to itself.
 */
const ENTRY_POINTS = {
  "main-node": "src/main-node.ts",
  main: "src/cli/main.ts",
  "db-worker": "src/db/drivers/db-worker.ts",
  "backup-child": "test/fixtures/backup-child.ts",
  "migrate-once": "test/fixtures/migrate-once.ts",
  "readyz-probe": "test/fixtures/readyz-probe.ts",
  instance: "test/schedule/fixtures/instance.ts",
} as const;

export type BundledProgram = Exclude<keyof typeof ENTRY_POINTS, "db-worker">;

/** Git-ignored, inside the project: its package.json makes the bundle ESM and gives it Lifeboat's version. */
const BUNDLES = path.resolve(".cache/bundle");

let folder: string | undefined;

/**
 * The absolute path of `program` as plain JavaScript, to run with `node`.
 *
 * Everything is bundled with esbuild (the compiler tsx uses) once per test
 * process. A start through tsx costs about three times the CPU (its loader
 * compiles every module again), and the suite starts these programs dozens of
 * times. The folder is named by content hash and written atomically, so
 * concurrent test processes share one; packages stay external and resolve
 * from the project's node_modules. `npm run dev` (tsx) and `npm start`
 * (compiled) have tests of their own (runtime, packaging).
 */
export function bundled(program: BundledProgram): string {
  folder ??= build();
  return path.join(folder, `${program}.js`);
}

function build(): string {
  const built = buildSync({
    entryPoints: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([out, src]) => [out, path.resolve(src)])),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outdir: BUNDLES,
    write: false,
    logLevel: "silent",
  });
  const hash = createHash("sha256");
  for (const file of built.outputFiles) hash.update(path.basename(file.path)).update(file.contents);
  const dir = path.join(BUNDLES, hash.digest("hex").slice(0, 16));
  if (!fs.existsSync(path.join(dir, "main-node.js"))) {
    const temp = `${dir}.${process.pid}.${Date.now()}.tmp`;
    fs.mkdirSync(temp, { recursive: true });
    for (const file of built.outputFiles) fs.writeFileSync(path.join(temp, path.basename(file.path)), file.contents);
    try {
      fs.renameSync(temp, dir);
    } catch {
      // Another process wrote the same bundle meanwhile: theirs is as good as ours.
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }
  return dir;
}
