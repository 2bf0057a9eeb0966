/**
 * `npm run bench [-- --size 200MB]`: generates a database (default about 1 GB
 * of dump: several tables, millions of rows, mixed types) in a temp folder,
 * then measures Lifeboat's export and import (safety backup included) against
 * the sqlite3 CLI's `.dump` and `sqlite3 new.db < dump` on the same data:
 * time, MB/s, rows/s, peak memory, and the worst `/healthz` answer time of the
 * app served in this process while each run goes on (polled every 50 ms from a
 * separate process, so a blocked event loop shows). Everything generated is
 * deleted at the end.
 *
 * While Lifeboat's runs go on, another process writes to the same database as
 * an application would: one small INSERT every 20 ms with a 5 s busy timeout.
 * The bench reports the longest time that writer could not write, beside the
 * import's replace step (the time the import holds the write lock).
 *
 * `--runtime deno` runs the measured Lifeboat under Deno instead: the npm
 * `deno` binary with deno.json's start-task flags, from source, served by
 * `Deno.serve`, as `deno task start` runs it (the CLI, the writer and the
 * /healthz poller stay as they are). `--runtime both` runs Node's phases, then
 * the export and the import again under Deno on the same database, and
 * compares their times.
 *
 * Internal modes (this file starts itself as a child): `--generate <db> <bytes>`,
 * `--poll <url>` and `--writer <db>`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import Database from "libsql";

const SQLITE3 = process.env.SQLITE3 ?? "sqlite3";
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s.trim());
  const unit = UNITS[(m?.[2] || "b").toLowerCase()];
  if (!m || !unit) throw new Error(`--size: expected e.g. 200MB or 1GB, got "${s}"`);
  return Math.round(Number(m[1]) * unit);
}

const mb = (bytes: number) => bytes / 1e6;
const fmt = (n: number, digits = 1) => n.toFixed(digits);

// ---------------------------------------------------------------- generator (child)

const SCHEMA = `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, score REAL, created_at INTEGER, bio TEXT);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id), kind TEXT NOT NULL, payload BLOB, amount REAL, at INTEGER NOT NULL);
CREATE INDEX events_user_at ON events (user_id, at);
CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, n INTEGER) WITHOUT ROWID;
CREATE TABLE notes (title TEXT, body TEXT, tags TEXT);
CREATE TABLE bench_writes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
`;

/** One batch of rows per table; `u` is the first user id of the batch. */
function batchSql(u: number, users: number): string {
  const ev = users * 8;
  return `
WITH RECURSIVE c(i) AS (SELECT ${u} UNION ALL SELECT i + 1 FROM c WHERE i < ${u + users - 1})
INSERT INTO users SELECT i, 'user' || i || '@example.com', 'User ' || i || CASE i % 7 WHEN 0 THEN ' O''Brien' WHEN 1 THEN ' Müller 🚀' ELSE '' END,
  (random() % 1000000) / 997.0, 1700000000000 + i * 1013,
  CASE WHEN i % 3 = 0 THEN NULL ELSE 'Bio of ' || i || char(10) || 'second line; with ''quotes'' ' || hex(randomblob(8)) END FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ev})
INSERT INTO events (user_id, kind, payload, amount, at) SELECT ${u} + abs(random()) % ${users},
  CASE i % 5 WHEN 0 THEN 'view' WHEN 1 THEN 'click' WHEN 2 THEN 'buy' WHEN 3 THEN 'refund' ELSE 'login' END,
  CASE WHEN i % 4 = 0 THEN randomblob(12) ELSE NULL END, CASE WHEN i % 6 = 0 THEN NULL ELSE abs(random() % 100000) / 100.0 END,
  1700000000000 + abs(random()) % 100000000000 FROM c;
WITH RECURSIVE c(i) AS (SELECT ${u} UNION ALL SELECT i + 1 FROM c WHERE i < ${u + users - 1})
INSERT INTO kv SELECT 'key:' || hex(randomblob(6)) || ':' || i, CASE i % 2 WHEN 0 THEN 'value ' || i ELSE NULL END, i * 9007199254 FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${Math.ceil(users / 2)})
INSERT INTO notes SELECT 'Note ' || i, 'Lorem ipsum dolor sit amet, ' || hex(randomblob(40)) || char(10) || 'ünïcödé ✓ and ''quotes''', 'a,b,c' FROM c;
`;
}

function generate(file: string, targetBytes: number): void {
  const db = new Database(file);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536");
  db.exec(SCHEMA);
  // Calibrate: one small batch, then as many as the dump size needs (about 1.1 bytes of dump per byte of literals).
  const probe = 2000;
  db.exec(`BEGIN; ${batchSql(1, probe)} COMMIT;`);
  const literal = (db.prepare(
    `SELECT (SELECT sum(length(quote(id)) + length(quote(email)) + length(quote(name)) + length(quote(score)) + length(quote(created_at)) + length(quote(bio)) + 8) FROM users)
          + (SELECT sum(length(quote(id)) + length(quote(user_id)) + length(quote(kind)) + length(quote(payload)) + length(quote(amount)) + length(quote(at)) + 8) FROM events)
          + (SELECT sum(length(quote(k)) + length(quote(v)) + length(quote(n)) + 5) FROM kv)
          + (SELECT sum(length(quote(rowid)) + length(quote(title)) + length(quote(body)) + length(quote(tags)) + 6) FROM notes)`,
  ).raw(true).get() as number[])[0]!;
  const perUser = Number(literal) / probe;
  const totalUsers = Math.max(probe, Math.round(targetBytes / perUser));
  const batch = 50_000;
  for (let u = probe + 1; u <= totalUsers; u += batch) {
    const n = Math.min(batch, totalUsers - u + 1);
    db.exec(`BEGIN; ${batchSql(u, n)} COMMIT;`);
  }
  db.exec("DELETE FROM notes WHERE rowid % 50 = 0; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
  db.close();
}

// ---------------------------------------------------------------- poller (child)

async function poll(url: string): Promise<void> {
  let max = 0;
  let count = 0;
  let failures = 0;
  let stop = false;
  process.on("message", () => (stop = true));
  process.on("disconnect", () => (stop = true));
  while (!stop) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (!res.ok) failures++;
    } catch {
      failures++;
    }
    const dt = performance.now() - t0;
    max = Math.max(max, dt);
    count++;
    await new Promise((r) => setTimeout(r, Math.max(0, 50 - dt)));
  }
  process.send!({ max, count, failures });
  process.disconnect();
}

// ---------------------------------------------------------------- writer (child)

/**
 * An application writing while Lifeboat works: one small INSERT every 20 ms
 * (busy timeout 5 s). On "stop" it sends each write's window [start, end] in
 * epoch milliseconds; a failed write's window runs on to the next success.
 */
async function writer(file: string): Promise<void> {
  const db = new Database(file, { timeout: 5000 });
  const insert = db.prepare("INSERT INTO bench_writes (at) VALUES (?)");
  const windows: [number, number][] = [];
  let failures = 0;
  let pendingSince: number | null = null;
  let stop = false;
  process.on("message", () => (stop = true));
  process.send!({ ready: true });
  while (!stop) {
    const start = Date.now();
    try {
      insert.run(start);
      windows.push([pendingSince ?? start, Date.now()]);
      pendingSince = null;
    } catch {
      failures++;
      pendingSince ??= start;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 20 - (Date.now() - start))));
  }
  if (pendingSince !== null) windows.push([pendingSince, Date.now()]);
  db.close();
  process.send!({ windows, failures });
  process.disconnect();
}

// ---------------------------------------------------------------- the bench

function self(args: string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, path.resolve(process.argv[1]!), ...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/**
 * The measured Lifeboat: compiled JavaScript (`npm run build`) in a plain Node
 * process, as `npm start` runs it, or the sources under Deno as `deno task
 * start` runs them (`--runtime deno`), serving the app on a free port; the
 * engine runs in that same process. It takes commands over IPC and reports each
 * command's time and the process's peak RSS while it ran (sampled every 25 ms).
 */
const SERVER_CODE = `
const { readFileSync, readdirSync } = await import("node:fs");
// RSS of this process and its children (the import's worker process), from /proc.
function rssOf(pid) {
  try {
    const m = /VmRSS:\\s+(\\d+) kB/.exec(readFileSync("/proc/" + pid + "/status", "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}
function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of readdirSync("/proc/" + pid + "/task")) {
      for (const c of readFileSync("/proc/" + pid + "/task/" + tid + "/children", "utf8").split(" ").filter(Boolean)) out.push(Number(c));
    }
  } catch {}
  return out;
}
function treeRss(pid = process.pid) {
  let sum = pid === process.pid ? process.memoryUsage.rss() : rssOf(pid);
  for (const c of childrenOf(pid)) sum += treeRss(c);
  return sum;
}
// Memory only this process maps (Private_Clean + Private_Dirty): a child's RSS less the pages it
// shares, above all the code of the node binary and of libsql's library, which this process maps too.
function privateOf(pid) {
  try {
    const s = readFileSync("/proc/" + pid + "/smaps_rollup", "utf8");
    return (Number(/Private_Clean:\\s+(\\d+)/.exec(s)[1]) + Number(/Private_Dirty:\\s+(\\d+)/.exec(s)[1])) * 1024;
  } catch { return 0; }
}
// This process's RSS plus its children's private memory: the tree's RSS with shared pages counted once.
function treeOnce(pid = process.pid) {
  let sum = pid === process.pid ? process.memoryUsage.rss() : privateOf(pid);
  for (const c of childrenOf(pid)) sum += treeOnce(c);
  return sum;
}
const { bootLifeboat } = await import(process.env.BENCH_LIFEBOAT);
const lb = await bootLifeboat({ env: process.env });
let port, closeServer;
if (typeof Deno !== "undefined") {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, lb.app.fetch);
  port = server.addr.port;
  closeServer = () => server.shutdown();
} else {
  const { serve } = await import(process.env.BENCH_SERVER);
  const server = serve({ fetch: lb.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((r) => server.once("listening", r));
  port = server.address().port;
  closeServer = () => server.close();
}
process.send({ ready: true, port, rss: process.memoryUsage.rss() });
process.on("message", async (cmd) => {
  if (cmd.op === "stop") {
    await closeServer();
    await lb.close();
    process.send({ stopped: true, maxRss: process.resourceUsage().maxRSS * 1024 });
    process.disconnect();
    return;
  }
  let peak = 0;
  let peakSelf = 0;
  let peakOnce = 0;
  const sample = () => {
    const all = treeRss();
    if (all > peak) {
      peak = all;
      peakSelf = process.memoryUsage.rss();
    }
    peakOnce = Math.max(peakOnce, treeOnce());
  };
  sample();
  const sampler = setInterval(sample, 25);
  const t0 = performance.now();
  try {
    let value;
    if (cmd.op === "export") value = await lb.backups.createBackup({ trigger: "manual", actor: "bench" });
    else if (cmd.op === "export-offsite") {
      // The backup, then its off-site copy (upload + read-back check) until it is confirmed.
      value = await lb.backups.createBackup({ trigger: "manual", actor: "bench" });
      await lb.backups.offsiteIdle();
      const pending = lb.backups.offsiteStatus()?.pending.find((p) => p.name === value.name);
      if (pending) throw new Error("off-site copy failed: " + pending.error);
    } else value = await lb.backups.importBackup(cmd.name, { actor: "bench" });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    sample();
    process.send({ ok: true, value, seconds, peakRss: peak, peakSelfRss: peakSelf, peakOnce });
  } catch (err) {
    clearInterval(sampler);
    process.send({ ok: false, error: String(err && err.stack || err) });
  }
});
`;

interface ServerReply {
  ok: boolean;
  value: { name?: string; size?: number; rows?: number; rowCounts?: Record<string, number> };
  seconds: number;
  peakRss: number;
  /** This process's own RSS at the moment of `peakRss` (the rest is its import process). */
  peakSelfRss: number;
  /** Peak of this process's RSS plus its children's private memory (shared pages counted once). */
  peakOnce: number;
  error?: string;
}

/** The "import steps" log entries of the measured Lifeboat (with its `runtime`), in order. */
const importSteps: Record<string, unknown>[] = [];

type Runtime = "node" | "deno";

/** The node flags `npm start` runs the server with (package.json), so the bench measures the same process. */
const START_FLAGS = ((JSON.parse(fs.readFileSync("package.json", "utf8")) as { scripts: { start: string } }).scripts.start.match(/\bnode((?:\s+--\S+)*)\s/)?.[1] ?? "")
  .split(/\s+/)
  .filter(Boolean);

/**
 * How `runtime` starts the measured process: Node on the compiled app with the
 * node flags of package.json's start script; Deno
 * on the sources with deno.json's start-task flags (its permissions and V8
 * flags) and that file's settings.
 */
function lifeboatCommand(runtime: Runtime, script: string): { cmd: string; args: string[]; lifeboat: string } {
  if (runtime === "node") return { cmd: process.execPath, args: [...START_FLAGS, script], lifeboat: path.resolve("dist/src/lifeboat.js") };
  const config = path.resolve("deno.json");
  const [bin, run, ...flags] = (JSON.parse(fs.readFileSync(config, "utf8")) as { tasks: { start: string } }).tasks.start.trim().split(/\s+/);
  if (!bin || run !== "run" || flags.pop() !== "src/main-deno.ts") throw new Error("deno.json's start task is not `<deno> run <flags> src/main-deno.ts`");
  return { cmd: path.resolve(bin), args: ["run", ...flags, "--config", config, script], lifeboat: path.resolve("src/lifeboat.ts") };
}

async function startServer(root: string, env: Record<string, string>, runtime: Runtime = "node"): Promise<{ child: ChildProcess; port: number; baseRss: number }> {
  const script = path.join(root, "server.mjs");
  await fsp.writeFile(script, SERVER_CODE);
  const { cmd, args, lifeboat } = lifeboatCommand(runtime, script);
  const child = spawn(cmd, args, {
    env: {
      ...process.env,
      ...env,
      BENCH_LIFEBOAT: pathToFileURL(lifeboat).href,
      BENCH_SERVER: import.meta.resolve("@hono/node-server"),
    },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  // The import's own step log (LOG_LEVEL=debug): kept for the step table; other lines pass through.
  let rest = "";
  child.stdout!.on("data", (d: Buffer) => {
    const lines = (rest + String(d)).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      let entry: { msg?: string; level?: string } | null = null;
      try {
        entry = JSON.parse(line) as { msg?: string; level?: string };
      } catch {
        // not a log line
      }
      if (entry?.msg === "import steps") importSteps.push({ runtime, ...(entry as unknown as Record<string, unknown>) });
      else if (entry?.level !== "debug") process.stdout.write(line + "\n");
    }
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { port: number; rss: number }) => resolve({ child, port: m.port, baseRss: m.rss }));
    child.once("exit", (code) => reject(new Error(`the Lifeboat process exited (${code}) before it was ready`)));
  });
}

function stopServer(child: ChildProcess): Promise<{ maxRss: number }> {
  return new Promise((resolve) => {
    child.once("message", resolve);
    child.send({ op: "stop" });
  });
}

function command(child: ChildProcess, cmd: object): Promise<ServerReply> {
  return new Promise((resolve, reject) => {
    child.once("message", (m: ServerReply) => (m.ok ? resolve(m) : reject(new Error(m.error))));
    child.send(cmd);
  });
}

interface PhaseResult {
  name: string;
  seconds: number;
  bytes: number;
  rows: number;
  peakRssMb: number | null;
  healthMaxMs: number | null;
  /**
   * Longest time the concurrent writer could not write (ms), when one ran: its
   * longest write, less its median write (the write's own time, fsync included).
   */
  writerBlockedMs: number | null;
  writerWrites: number | null;
  /** 1-minute load average when the run ended (the machine is shared). */
  load: number;
}

/**
 * Runs `work` while another process polls /healthz every 50 ms (when `url` is
 * given) and, with `writeTo`, another writes to that database every 20 ms.
 */
async function phase(
  name: string,
  url: string | null,
  work: () => Promise<{ bytes: number; rows: number; seconds?: number; peakRss?: number }>,
  writeTo?: string,
): Promise<PhaseResult> {
  const poller = url ? self(["--poll", url]) : null;
  const pollResult = poller
    ? new Promise<{ max: number; count: number; failures: number }>((resolve) => poller.once("message", resolve))
    : null;
  const app = writeTo ? self(["--writer", writeTo]) : null;
  if (app) await new Promise((r) => app.once("message", r));
  const writes = app ? new Promise<{ windows: [number, number][]; failures: number }>((resolve) => app.on("message", (m: { windows?: [number, number][]; failures: number }) => m.windows && resolve(m as { windows: [number, number][]; failures: number }))) : null;
  if (poller || app) await new Promise((r) => setTimeout(r, 300)); // let them start
  const t0 = performance.now();
  const started = Date.now();
  const out = await work();
  const ended = Date.now();
  const seconds = out.seconds ?? (performance.now() - t0) / 1000;
  let health: number | null = null;
  if (poller) {
    poller.send("stop");
    const r = await pollResult!;
    if (r.failures > 0) throw new Error(`/healthz failed ${r.failures} times during ${name}`);
    health = r.max;
  }
  let blocked: number | null = null;
  let writeCount: number | null = null;
  if (app) {
    app.send("stop");
    const w = await writes!;
    const during = w.windows.filter(([a, b]) => b >= started && a <= ended);
    const times = during.map(([a, b]) => b - a).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? 0;
    blocked = Math.max(0, (times.at(-1) ?? 0) - median);
    writeCount = during.length;
    if (w.failures > 0) process.stdout.write(`  (the writer's busy timeout expired ${w.failures} times)\n`);
  }
  const load = os.loadavg()[0]!;
  process.stdout.write(`  ${name}: ${fmt(seconds, 2)} s${blocked === null ? "" : `, writer blocked at most ${blocked} ms`} (load ${fmt(load, 2)})\n`);
  return {
    name,
    seconds,
    bytes: out.bytes,
    rows: out.rows,
    peakRssMb: out.peakRss ? mb(out.peakRss) : null,
    healthMaxMs: health,
    writerBlockedMs: blocked,
    writerWrites: writeCount,
    load,
  };
}

function run(cmd: string, args: string[], stdinFile?: string, stdoutFile?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdinFile ? "pipe" : "ignore", stdoutFile ? "pipe" : "ignore", "inherit"] });
    if (stdinFile) fs.createReadStream(stdinFile).pipe(child.stdin!);
    let done: Promise<void> = Promise.resolve();
    if (stdoutFile) {
      const out = fs.createWriteStream(stdoutFile);
      child.stdout!.pipe(out);
      done = new Promise((r) => out.on("close", () => r()));
    }
    child.on("error", reject);
    child.on("close", (code) => done.then(() => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`)))));
  });
}

function countRows(file: string): number {
  const db = new Database(file);
  try {
    let total = 0;
    for (const t of ["users", "events", "kv", "notes"]) total += Number((db.prepare(`SELECT count(*) FROM ${t}`).raw(true).get() as number[])[0]);
    return total;
  } finally {
    db.close();
  }
}

/**
 * What writing REALs with 17 significant digits (so that every sqlite3 reloads
 * them exactly) costs over `quote()`'s shortest form, measured on the
 * generated REAL columns plus as many random doubles: bytes and formatting time.
 */
function realCost(file: string): { values: number; quoteBytes: number; fullBytes: number; quoteMs: number; fullMs: number } {
  const db = new Database(file, { readonly: true });
  try {
    const source =
      "SELECT score AS v FROM users WHERE typeof(score) = 'real' UNION ALL SELECT amount FROM events WHERE typeof(amount) = 'real'";
    const measure = (expr: string) => {
      const t = performance.now();
      const [n, bytes] = db.prepare(`SELECT count(*), sum(length(${expr})) FROM (${source})`).raw(true).get() as [number, number];
      return { n, bytes, ms: performance.now() - t };
    };
    measure("quote(v)"); // warm the cache
    const q = measure("quote(v)");
    const f = measure("printf('%!.17g', v)");
    return { values: q.n, quoteBytes: q.bytes, fullBytes: f.bytes, quoteMs: q.ms, fullMs: f.ms };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--generate") return generate(args[1]!, Number(args[2]));
  if (args[0] === "--poll") return poll(args[1]!);
  if (args[0] === "--writer") return writer(args[1]!);
  if (args[0] === "--list") return (await import("./list.ts")).benchList(Number(args[1] ?? 5000));
  const sizeArg = args.indexOf("--size");
  const target = parseSize(sizeArg >= 0 ? args[sizeArg + 1] ?? "" : "1GB");
  const runtimeArg = args.indexOf("--runtime");
  const runtimeValue = runtimeArg >= 0 ? args[runtimeArg + 1] : "node";
  if (runtimeValue !== "node" && runtimeValue !== "deno" && runtimeValue !== "both") {
    throw new Error(`--runtime: expected node, deno or both, got "${runtimeValue}"`);
  }
  const both = runtimeValue === "both";
  const runtime: Runtime = both ? "node" : runtimeValue;
  const nodeName = `Node ${process.version}, Lifeboat compiled (npm run build), started with npm start's node flags (${START_FLAGS.join(" ") || "none"})`;
  const denoName = () =>
    `Deno ${/deno (\S+)/.exec(execFileSync(lifeboatCommand("deno", "").cmd, ["--version"], { encoding: "utf8" }))?.[1]}, Lifeboat from source (deno.json's start task)`;
  const runtimeName = both ? `${nodeName}; ${denoName()}` : runtime === "node" ? nodeName : denoName();

  const root = await fsp.mkdtemp(path.join(os.tmpdir(), "lifeboat-bench-"));
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const dataDir = path.join(root, "data");
    const dbFile = path.join(dataDir, "app.db");
    await fsp.mkdir(dataDir, { recursive: true });
    if (runtime === "node") {
      process.stdout.write("Building (npm run build) …\n");
      await run("npm", ["run", "-s", "build"]);
    }
    const env = { DATA_DIR: dataDir, LOG_LEVEL: "error", ADMIN_USERNAME: "bench", ADMIN_PASSWORD: "bench-password-123" };
    // A first start creates Lifeboat's tables and the admin, as on a running instance; the
    // application's data is added afterwards, so the measured start has no pending migration.
    const first = await startServer(root, env, runtime);
    await stopServer(first.child);

    process.stdout.write(`Generating about ${fmt(mb(target), 0)} MB of dump in ${root} …\n`);
    const t0 = performance.now();
    const gen = self(["--generate", dbFile, String(target)]);
    await new Promise<void>((resolve, reject) =>
      gen.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`generator exited with ${code}`)))),
    );
    const rows = countRows(dbFile);
    process.stdout.write(`  ${rows.toLocaleString("en")} rows, database ${fmt(mb(fs.statSync(dbFile).size), 0)} MB, in ${fmt((performance.now() - t0) / 1000, 0)} s\n`);
    const reals = realCost(dbFile);

    const server = await startServer(root, { ...env, LOG_LEVEL: "debug" }, runtime);
    const url = `http://127.0.0.1:${server.port}/healthz`;
    const backupDir = path.join(dataDir, "backups");
    let rowsAll = rows;
    const results: PhaseResult[] = [];

    let backupName = "";
    let importMemory = { self: 0, once: 0 };
    results.push(
      await phase("Lifeboat export", url, async () => {
        const r = await command(server.child, { op: "export" });
        backupName = r.value.name!;
        rowsAll = Object.values(r.value.rowCounts ?? {}).reduce((a, b) => a + b, 0);
        return { bytes: r.value.size!, rows: rowsAll, seconds: r.seconds, peakRss: r.peakRss };
      }, dbFile),
    );
    const backupFile = path.join(backupDir, backupName);
    const cliDump = path.join(root, "cli-dump.sql");
    results.push(
      await phase("sqlite3 .dump", null, async () => {
        await run(SQLITE3, [dbFile, ".dump"], undefined, cliDump);
        return { bytes: fs.statSync(cliDump).size, rows: rowsAll };
      }),
    );
    results.push(
      await phase("Lifeboat import (safety backup included)", url, async () => {
        const r = await command(server.child, { op: "import", name: backupName });
        importMemory = { self: r.peakSelfRss, once: r.peakOnce };
        return { bytes: fs.statSync(backupFile).size, rows: r.value.rows!, seconds: r.seconds, peakRss: r.peakRss };
      }, dbFile),
    );
    const cliDb = path.join(root, "cli-import.db");
    results.push(
      await phase("sqlite3 new.db < .dump", null, async () => {
        await run(SQLITE3, [cliDb], cliDump);
        return { bytes: fs.statSync(cliDump).size, rows: rowsAll };
      }),
    );
    const cliDb2 = path.join(root, "cli-import-2.db");
    results.push(
      await phase("sqlite3 new.db < Lifeboat dump", null, async () => {
        await run(SQLITE3, [cliDb2], backupFile);
        return { bytes: fs.statSync(backupFile).size, rows: rowsAll };
      }),
    );
    // The checks an import runs, by the sqlite3 CLI on the database it imported: the figures beside Lifeboat's.
    const cliChecks: Record<string, number> = {};
    for (const [name, sql] of [
      ["integrity_check", "PRAGMA integrity_check"],
      ["quick_check", "PRAGMA quick_check"],
      ["foreign_key_check", "PRAGMA foreign_key_check"],
    ] as const) {
      const t = performance.now();
      await run(SQLITE3, [cliDb, sql]);
      cliChecks[name] = Math.round(performance.now() - t);
    }
    const stopped = await stopServer(server.child);
    const maxRss = mb(stopped.maxRss);

    // --runtime both: the same export and import under Deno, on the same (just restored) database.
    const denoRuns: PhaseResult[] = [];
    if (both) {
      const deno = await startServer(root, { ...env, LOG_LEVEL: "debug" }, "deno");
      const denoUrl = `http://127.0.0.1:${deno.port}/healthz`;
      let denoBackup = "";
      denoRuns.push(
        await phase("Lifeboat export (Deno)", denoUrl, async () => {
          const r = await command(deno.child, { op: "export" });
          denoBackup = r.value.name!;
          return { bytes: r.value.size!, rows: rowsAll, seconds: r.seconds, peakRss: r.peakRss };
        }, dbFile),
      );
      denoRuns.push(
        await phase("Lifeboat import (Deno, safety backup included)", denoUrl, async () => {
          const r = await command(deno.child, { op: "import", name: denoBackup });
          return { bytes: fs.statSync(path.join(backupDir, denoBackup)).size, rows: r.value.rows!, seconds: r.seconds, peakRss: r.peakRss };
        }, dbFile),
      );
      await stopServer(deno.child);
      results.push(...denoRuns);
    }

    const exp = results[0];
    // Export variants, each on a Lifeboat started with that configuration: gzip; gzip then age;
    // gzip, age and the off-site copy to an S3-compatible server (s3rver) on loopback.
    const { generateIdentity, identityToRecipient } = await import("age-encryption");
    const identity = await generateIdentity();
    const identityFile = path.join(root, "age-key.txt");
    await fsp.writeFile(identityFile, identity + "\n", { mode: 0o600 });
    const ageEnv = { BACKUP_AGE_RECIPIENTS: await identityToRecipient(identity), BACKUP_AGE_IDENTITY_FILE: identityFile };
    const { default: S3rver } = await import("s3rver");
    const s3dir = path.join(root, "s3");
    const s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: s3dir, configureBuckets: [{ name: "bench", configs: [] }] });
    const s3info = await s3.run();
    const s3Env = {
      BACKUP_S3_BUCKET: "bench",
      BACKUP_S3_ENDPOINT: `http://127.0.0.1:${s3info.port}`,
      BACKUP_S3_FORCE_PATH_STYLE: "true",
      BACKUP_S3_ACCESS_KEY_ID: "S3RVER",
      BACKUP_S3_SECRET_ACCESS_KEY: "S3RVER",
    };
    const variants: [string, Record<string, string>, string][] = [
      ["Lifeboat export, gzip", { BACKUP_COMPRESSION: "gzip" }, "export"],
      ["Lifeboat export, gzip + age", { BACKUP_COMPRESSION: "gzip", ...ageEnv }, "export"],
      // A backup folder of its own: at start the server queues every local backup not yet off-site,
      // and the earlier phases' backups would be uploaded (and timed) with this one.
      [
        "Lifeboat export, gzip + age + off-site copy",
        { BACKUP_COMPRESSION: "gzip", ...ageEnv, ...s3Env, BACKUP_DIR: path.join(root, "backups-offsite") },
        "export-offsite",
      ],
    ];
    try {
      for (const [name, extra, op] of variants) {
        const variant = await startServer(root, { ...env, ...extra }, runtime);
        const vurl = `http://127.0.0.1:${variant.port}/healthz`;
        results.push(
          await phase(name, vurl, async () => {
            const r = await command(variant.child, { op });
            // Throughput against the plain dump's size: the same work, whatever the bytes stored.
            return { bytes: exp!.bytes, rows: rowsAll, seconds: r.seconds, peakRss: r.peakRss };
          }),
        );
        await stopServer(variant.child);
      }
    } finally {
      await s3.close();
    }

    const [, dump, imp, cliImp] = results;
    const exportRatio = dump!.seconds / exp!.seconds;
    const importRatio = (dump!.seconds + cliImp!.seconds) / imp!.seconds;
    const peak = Math.max(exp!.peakRssMb!, imp!.peakRssMb!);
    const base = mb(server.baseRss);
    const health = Math.max(exp!.healthMaxMs!, imp!.healthMaxMs!);
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    const lastSteps = importSteps.filter((s) => s.runtime === runtime).at(-1);
    const lockHeld = typeof lastSteps?.lockHeldMs === "number" ? lastSteps.lockHeldMs : null;
    const lines = [
      "",
      `Lifeboat bench: ${fmt(mb(exp!.bytes), 0)} MB Lifeboat dump (${fmt(mb(dump!.bytes), 0)} MB sqlite3 .dump), ${rowsAll.toLocaleString("en")} rows`,
      `Machine: ${cpu}, ${os.cpus().length} cores, ${runtimeName}, sqlite3 CLI ${SQLITE3}`,
      "",
      "| Run | Time (s) | MB/s | rows/s | Peak RSS (MB) | /healthz max (ms) | writer blocked max (ms) | load |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...results.map(
        (r) =>
          `| ${r.name} | ${fmt(r.seconds, 2)} | ${fmt(mb(r.bytes) / r.seconds)} | ${Math.round(r.rows / r.seconds).toLocaleString("en")} | ${r.peakRssMb === null ? "–" : fmt(r.peakRssMb, 0)} | ${r.healthMaxMs === null ? "–" : fmt(r.healthMaxMs, 0)} | ${r.writerBlockedMs === null ? "–" : `${r.writerBlockedMs} (${r.writerWrites} writes)`} | ${fmt(r.load, 2)} |`,
      ),
      "",
      "Import steps (ms; the write lock is held from lock wait to commit):",
      "",
      "| runtime | check file | safety backup (snapshot) | safety backup again | lock wait | apply | counts | migrations | quick_check | foreign_key_check | wait for safety backup | commit | lock held |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...importSteps.map(
        (s) =>
          `| ${[s.runtime, s.checkMs, s.safetyBackupMs, s.safetyBackupAgainMs ?? "–", s.lockWaitMs, s.applyMs, s.countsMs, s.migrationsMs, s.quickCheckMs, s.foreignKeyCheckMs, s.retakeWaitMs, s.commitMs, s.lockHeldMs].join(" | ")} |`,
      ),
      ...importSteps.map((s) => `Safety backup (${String(s.runtime)}): ${String(s.safetyBackup)}`),
      `sqlite3 CLI on the database it imported: integrity_check ${cliChecks.integrity_check} ms, quick_check ${cliChecks.quick_check} ms, foreign_key_check ${cliChecks.foreign_key_check} ms (load ${fmt(os.loadavg()[0]!, 2)})`,
      "",
      `Writer blocked during export: ${exp!.writerBlockedMs} ms (target ≤ 250) ${exp!.writerBlockedMs! <= 250 ? "PASS" : "FAIL"}`,
      // SQLite's busy handler retries at most every 100 ms: a writer gets in up to that long after COMMIT.
      `Writer blocked during import: ${imp!.writerBlockedMs} ms; the replace step (write lock held) took ${lockHeld} ms (target: blocked ≤ replace step + the busy handler's 100 ms retry) ${lockHeld !== null && imp!.writerBlockedMs! <= lockHeld + 100 ? "PASS" : "FAIL"}`,
      "",
      ...(denoRuns.length === 2
        ? [0, 1].map((i) => {
            const ratio = denoRuns[i]!.seconds / [exp!, imp!][i]!.seconds;
            return `Deno ${i === 0 ? "export" : "import"}: ${fmt(ratio, 2)}× Node's time (target ≤ 1.2) ${ratio <= 1.2 ? "PASS" : "FAIL"}`;
          })
        : []),
      `Export: ${fmt(exportRatio, 2)}× the CLI's .dump throughput (target ≥ 0.6) ${exportRatio >= 0.6 ? "PASS" : "FAIL"}`,
      `Import: ${fmt(importRatio, 2)}× the CLI's .dump + import (target ≥ 0.9) ${importRatio >= 0.9 ? "PASS" : "FAIL"}`,
      `Peak memory (RSS of the Lifeboat process and its import worker process) during the runs: ${fmt(peak, 0)} MB (target < 200) ${peak < 200 ? "PASS" : "FAIL"}; ${fmt(base, 0)} MB when idle, max RSS over its life ${fmt(maxRss, 0)} MB`,
      `  During the import (peak ${fmt(imp!.peakRssMb!, 0)} MB): the Lifeboat process ${fmt(mb(importMemory.self), 0)} MB + its import process ${fmt(imp!.peakRssMb! - mb(importMemory.self), 0)} MB. ` +
        `Both map the same node binary and libsql library, so that sum counts their shared pages twice; ` +
        `counted once (the Lifeboat process's RSS + the import process's private memory) the peak is ${fmt(mb(importMemory.once), 0)} MB`,
      `/healthz worst answer during the runs: ${fmt(health, 0)} ms (target < 250) ${health < 250 ? "PASS" : "FAIL"}`,
      `REALs (${reals.values.toLocaleString("en")} values): 17 significant digits take ${fmt(mb(reals.fullBytes), 1)} MB in ${fmt(reals.fullMs, 0)} ms ` +
        `against quote()'s ${fmt(mb(reals.quoteBytes), 1)} MB in ${fmt(reals.quoteMs, 0)} ms ` +
        `(${fmt((reals.fullBytes / reals.quoteBytes - 1) * 100, 1)}% bytes, ${fmt((reals.fullMs / reals.quoteMs - 1) * 100, 0)}% time)`,
      "",
    ];
    process.stdout.write(lines.join("\n"));
  } finally {
    cleanup();
  }
}

await main();
