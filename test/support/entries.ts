import fs from "node:fs";
import path from "node:path";
import { ADMIN } from "./auth.ts";
import { bundled } from "./bundle.ts";
import { freePort, start, waitForHttp, type Started } from "./process.ts";
import { tempDir } from "./temp.ts";

/** A way to start Lifeboat's server as a user would: one runtime, one entry file. */
export interface Entry {
  name: "Node" | "Node (tsx)" | "Deno";
  cmd: string;
  args: string[];
}

/**
 * The Deno entry exactly as `deno task start` runs it: the npm `deno` binary and
 * the permission flags read from deno.json, so a permission the tests need but
 * the task lacks fails here. Run directly rather than through `deno task`,
 * so SIGTERM reaches the server itself.
 */
function denoEntry(): Entry {
  const deno = JSON.parse(fs.readFileSync(path.resolve("deno.json"), "utf8")) as { tasks: { start: string } };
  const [bin, ...args] = deno.tasks.start.trim().split(/\s+/);
  if (!bin || path.basename(bin) !== "deno" || args[0] !== "run" || args.at(-1) !== "src/main-deno.ts") {
    throw new Error(`deno.json's start task is not "<deno> run <flags> src/main-deno.ts": ${deno.tasks.start}`);
  }
  return { name: "Deno", cmd: path.resolve(bin), args };
}

/**
 * The Node entry as plain JavaScript (src/main-node.ts bundled, see bundle.ts),
 * the way `npm start` runs compiled code, at a third of tsx's start-up CPU.
 */
export const NODE_ENTRY: Entry = { name: "Node", cmd: process.execPath, args: [bundled("main-node")] };
/** The Node entry from source, exactly as `npm run dev` runs it (tsx). */
export const NODE_DEV_ENTRY: Entry = { name: "Node (tsx)", cmd: process.execPath, args: ["--import", "tsx", "src/main-node.ts"] };
export const DENO_ENTRY: Entry = denoEntry();
/** Both runtimes, for `describe.each`. */
export const ENTRIES: Entry[] = [NODE_ENTRY, DENO_ENTRY];

/** Starts the server through `entry` with extra environment; killed after the test (see process.ts). */
export function startEntry(entry: Entry, env: Record<string, string>): Started {
  return start(entry.cmd, entry.args, env);
}

/** A server `serveEntry` started: its process, its URL and its DATA_DIR. */
export interface ServedEntry {
  proc: Started;
  base: string;
  dataDir: string;
}

/**
 * Starts the server through `entry` on a free loopback port with a fresh
 * DATA_DIR (and `env` on top); resolves once `/healthz` answers.
 */
export async function serveEntry(entry: Entry, env: Record<string, string>): Promise<ServedEntry> {
  const dataDir = await tempDir();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = startEntry(entry, { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, ...env });
  await waitForHttp(`${base}/healthz`, 60_000, proc);
  return { proc, base, dataDir };
}

/**
 * Signs the first admin (`ADMIN`, passed to the server as ADMIN_USERNAME /
 * ADMIN_PASSWORD) in over HTTP; returns the Authorization header to send
 * (throws unless 200).
 */
export async function signInOverHttp(base: string): Promise<Record<string, string>> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  if (res.status !== 200) throw new Error(`login as ${ADMIN.username} failed: ${res.status} ${await res.text()}`);
  return { Authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}
