import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { builtinModules } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import Database from "libsql";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort, start, waitForHttp } from "./support/process.ts";
import { tempDir } from "./support/temp.ts";

const run = promisify(execFile);
const CLI = "dist/src/cli/main.js";

// What the image runs: the compiled dist/ with production dependencies only.
beforeAll(async () => {
  await run("npm", ["run", "build"], { maxBuffer: 1 << 24 });
}, 300_000);

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(p)));
    else if (entry.name.endsWith(".js")) out.push(p);
  }
  return out;
}

describe("the built app (what the container runs)", () => {
  it("imports production dependencies only (tsx and the other dev tools are not in the image)", async () => {
    const pkg = JSON.parse(await fs.readFile("package.json", "utf8")) as { dependencies: Record<string, string> };
    const imported = new Set<string>();
    for (const file of await jsFiles("dist")) {
      const text = await fs.readFile(file, "utf8");
      // tsc writes one static import per line; dynamic ones are `import("…")`.
      const specs = [...text.matchAll(/^(?:(?:import|export)\b[^;\n]*?\bfrom\s*|import\s*)["']([^"'\n]+)["'];$/gm), ...text.matchAll(/\bimport\(\s*["']([^"'\n]+)["']\s*\)/g)];
      for (const m of specs) {
        const spec = m[1]!;
        if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
        imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(3);
    // Loaded only when running from .ts sources (src/db/drivers/worker-client.ts bundles the worker then).
    const sourceOnly = ["esbuild"];
    expect([...imported].filter((p) => !(p in pkg.dependencies) && !sourceOnly.includes(p))).toEqual([]);
  }, 180_000);

  it("runs the command line as the README's container section shows", async () => {
    const dataDir = await tempDir();
    const db = new Database(path.join(dataDir, "app.db"));
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('kept')");
    db.close();
    const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: "warn", NODE_ENV: "production" };
    const backup = await run(process.execPath, [CLI, "backup"], { env });
    const name = /lifeboat-\d{8}-\d{6}-manual\.sql/.exec(backup.stdout)?.[0];
    expect(name, backup.stdout).toBeDefined();
    const list = await run(process.execPath, [CLI, "list", "--json"], { env });
    expect((JSON.parse(list.stdout) as { name: string }[]).map((b) => b.name)).toContain(name);
  }, 180_000);

  it("stops gracefully on SIGTERM to the PID of `npm start` (the server, not only npm)", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // --ignore-scripts skips only the prestart build, which beforeAll has done.
    const proc = start("npm", ["start", "--ignore-scripts"], {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      LOG_LEVEL: "info",
      BACKUP_SCHEDULE: "off",
    });
    await waitForHttp(`${base}/healthz`, 60_000, proc);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const msgs = proc
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(expect.arrayContaining(["shutting down", "lifeboat stopped"]));
    // The server itself is gone, not orphaned behind npm.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 180_000);
});
