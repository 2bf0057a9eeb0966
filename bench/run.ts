/**
 * `npm run bench [-- --size 200MB] [--workload mixed|app|both]`: for each
 * workload, generates a database (default about 1 GB of dump) in a folder of its
 * own, then measures Lifeboat's export and import (safety backup included)
 * against the sqlite3 CLI's `.dump` and `sqlite3 new.db < dump` on the same
 * data: time, MB/s, rows/s, peak memory, each step of the import beside the
 * CLI's figures, and the worst `/healthz` answer time of the app served while
 * each run goes on (polled every 50 ms from a separate process, so a blocked
 * event loop shows). The workloads: "mixed" (several tables, mixed types, a
 * WITHOUT ROWID table and one without a key) and "app" (issue #15's shape:
 * users with an avatar BLOB and a UNIQUE email, 3 events per user with a
 * foreign key and an index); `both` (the default) runs "mixed" and then "app",
 * the export variants (gzip, age, off-site) on the first only. Last comes one
 * summary: per workload and runtime, the ratios against issue #15's targets with
 * PASS or FAIL. Each workload's files are deleted once it is measured.
 *
 * While Lifeboat's runs go on, another process writes to the same database as
 * an application would: one small INSERT every 20 ms with a 5 s busy timeout.
 * The bench reports the longest time that writer could not write, beside the
 * import's replace step (the time the import holds the write lock).
 *
 * `--runtime deno` runs the measured Lifeboat under Deno instead: the npm
 * `deno` binary with deno.json's start-task flags, from source, served by
 * `Deno.serve`, as `deno task start` runs it (the CLI, the writer and the
 * /healthz poller stay as they are). `--runtime both` starts a Deno instance
 * beside the Node one on the same data and runs Deno's export right after
 * Node's and its import right after Node's, and compares their times.
 *
 * Internal modes (this file starts itself as a child): `--generate <workload> <db> <bytes>`,
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

// ---------------------------------------------------------------- workloads and generator (child)

/** A generated application database: its schema, its rows in batches, and how to calibrate their count. */
interface Workload {
  name: WorkloadName;
  /** One line for the output: what the database holds. */
  about: string;
  /** The application's tables, and `bench_writes` for the bench's writer process. */
  schema: string;
  /** The SQL that inserts one batch: `users` users (first id `u`) and their rows in the other tables. */
  batchSql(u: number, users: number): string;
  /** One row, one column: the bytes of SQL literals of every row so far (a dump's bulk), for the calibration. */
  literalSql: string;
  /** Tables whose rows are counted. */
  tables: string[];
  /** A query of one column `v` with the database's REAL values (`realCost`), or null when it has none. */
  realSource: string | null;
  /** SQL run once after the last batch. */
  finish: string;
}

type WorkloadName = "mixed" | "app";

/** Several tables and mixed types: a wide users table, events with a foreign key and a two-column index, a WITHOUT ROWID table, a table without a primary key. */
const MIXED: Workload = {
  name: "mixed",
  about: "users (UNIQUE email), events (8 per user: foreign key, index on (user_id, at), AUTOINCREMENT), kv WITHOUT ROWID, notes without a key; REALs, BLOBs, NULLs, Unicode",
  schema: `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, score REAL, created_at INTEGER, bio TEXT);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id), kind TEXT NOT NULL, payload BLOB, amount REAL, at INTEGER NOT NULL);
CREATE INDEX events_user_at ON events (user_id, at);
CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, n INTEGER) WITHOUT ROWID;
CREATE TABLE notes (title TEXT, body TEXT, tags TEXT);
CREATE TABLE bench_writes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
`,
  batchSql(u, users) {
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
  },
  literalSql: `SELECT (SELECT sum(length(quote(id)) + length(quote(email)) + length(quote(name)) + length(quote(score)) + length(quote(created_at)) + length(quote(bio)) + 8) FROM users)
          + (SELECT sum(length(quote(id)) + length(quote(user_id)) + length(quote(kind)) + length(quote(payload)) + length(quote(amount)) + length(quote(at)) + 8) FROM events)
          + (SELECT sum(length(quote(k)) + length(quote(v)) + length(quote(n)) + 5) FROM kv)
          + (SELECT sum(length(quote(rowid)) + length(quote(title)) + length(quote(body)) + length(quote(tags)) + 6) FROM notes)`,
  tables: ["users", "events", "kv", "notes"],
  realSource: "SELECT score AS v FROM users WHERE typeof(score) = 'real' UNION ALL SELECT amount FROM events WHERE typeof(amount) = 'real'",
  finish: "DELETE FROM notes WHERE rowid % 50 = 0;",
};

/**
 * An application's database as issue #15 describes it (400 k users with blobs and
 * a unique index, 1.2 M events with a foreign key and an index: 198 MB): users
 * with a UNIQUE email and an avatar of 100–190 random bytes, and exactly 3 events
 * per user whose user_id is scattered over the batch (so the index on it is not
 * built in order). At `--size 200MB` the calibration comes out near 400 k users.
 */
const APP: Workload = {
  name: "app",
  about: "users (UNIQUE email, avatar BLOB of 100–190 random bytes), events (3 per user, foreign key to users, index on user_id)",
  schema: `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, avatar BLOB, created_at INTEGER);
CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), kind TEXT NOT NULL, at INTEGER NOT NULL, data TEXT);
CREATE INDEX events_user ON events(user_id);
CREATE TABLE bench_writes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
`,
  batchSql(u, users) {
    // Event k of the batch (0 ≤ k < 3 × users) belongs to user u + (k × p) mod users: p is a prime larger
    // than any batch, so each user of the batch gets exactly 3 events, scattered over the batch.
    const first = (u - 1) * 3 + 1;
    return `
WITH RECURSIVE c(i) AS (SELECT ${u} UNION ALL SELECT i + 1 FROM c WHERE i < ${u + users - 1})
INSERT INTO users SELECT i, 'user' || i || '@example.com', 'User ' || i, randomblob(100 + abs(random()) % 91), 1700000000000 + i * 1013 FROM c;
WITH RECURSIVE c(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM c WHERE i < ${first + users * 3 - 1})
INSERT INTO events SELECT i, ${u} + ((i - ${first}) * 1000003) % ${users},
  CASE i % 4 WHEN 0 THEN 'login' WHEN 1 THEN 'view' WHEN 2 THEN 'click' ELSE 'purchase' END,
  1700000000000 + abs(random()) % 100000000000,
  CASE WHEN i % 3 = 0 THEN NULL ELSE '{"page":"/p/' || (i % 997) || '"}' END FROM c;
`;
  },
  literalSql: `SELECT (SELECT sum(length(quote(id)) + length(quote(email)) + length(quote(name)) + length(quote(avatar)) + length(quote(created_at)) + 7) FROM users)
          + (SELECT sum(length(quote(id)) + length(quote(user_id)) + length(quote(kind)) + length(quote(at)) + length(quote(data)) + 7) FROM events)`,
  tables: ["users", "events"],
  realSource: null,
  finish: "",
};

const WORKLOADS: Record<WorkloadName, Workload> = { mixed: MIXED, app: APP };

function generate(workload: Workload, file: string, targetBytes: number): void {
  const db = new Database(file);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536");
  db.exec(workload.schema);
  // Calibrate: one small batch, then as many as the dump size needs (about 1.1 bytes of dump per byte of literals).
  const probe = 2000;
  db.exec(`BEGIN; ${workload.batchSql(1, probe)} COMMIT;`);
  const literal = (db.prepare(workload.literalSql).raw(true).get() as number[])[0]!;
  const perUser = Number(literal) / probe;
  const totalUsers = Math.max(probe, Math.round(targetBytes / perUser));
  const batch = 50_000;
  for (let u = probe + 1; u <= totalUsers; u += batch) {
    const n = Math.min(batch, totalUsers - u + 1);
    db.exec(`BEGIN; ${workload.batchSql(u, n)} COMMIT;`);
  }
  db.exec(`${workload.finish} ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);`);
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
 * command's time; `command` samples its memory meanwhile (`sampleTree`).
 */
const SERVER_CODE = `
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
    process.send({ ok: true, value, seconds });
  } catch (err) {
    process.send({ ok: false, error: String(err && err.stack || err) });
  }
});
`;

interface ServerReply extends TreePeaks {
  ok: boolean;
  value: { name?: string; size?: number; rows?: number; rowCounts?: Record<string, number> };
  seconds: number;
  error?: string;
}

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

/**
 * Starts the measured Lifeboat in `root` with `env`. Its "import steps" log
 * entries (with its `runtime`) are pushed onto `steps`, in order.
 */
async function startServer(
  root: string,
  env: Record<string, string>,
  runtime: Runtime = "node",
  steps: Record<string, unknown>[] = [],
): Promise<{ child: ChildProcess; port: number; baseRss: number }> {
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
      if (entry?.msg === "import steps") steps.push({ runtime, ...(entry as unknown as Record<string, unknown>) });
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

/** A field of /proc/<pid>/status or smaps_rollup in bytes, or null when the process is gone. */
function procKb(pid: number, file: string, field: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ESRCH") return null;
    throw err;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  if (!m) throw new Error(`/proc/${pid}/${file} has no ${field}`);
  return Number(m[1]) * 1024;
}

/** Every process below `pid`, at any depth (the children of each of its threads, theirs, …). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return out; // exited meanwhile
    throw err;
  }
  for (const tid of tasks) {
    let children = "";
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // the thread ended meanwhile
    }
    for (const c of children.split(" ").filter(Boolean).map(Number)) out.push(c, ...descendants(c));
  }
  return out;
}

interface TreePeaks {
  /** Peak of the process's RSS plus the RSS of every process below it (the import process). */
  peakRss: number;
  /** The process's own RSS at the moment of `peakRss` (the rest is its import process). */
  peakSelfRss: number;
  /** Peak of the process's RSS plus the private memory of those below it (shared pages counted once). */
  peakOnce: number;
}

/**
 * Samples the memory of process `pid` and of every process below it every 25 ms
 * until `stop()`. From this process, not inside the measured one: Deno refuses
 * its programs /proc/<pid>/task without --allow-all, which `deno task start`
 * does not give, so a sampler inside the Deno server never saw its import process.
 * A private figure (Private_Clean + Private_Dirty of smaps_rollup) leaves out the
 * pages a child shares with the server, above all the runtime binary and libsql.
 */
function sampleTree(pid: number): { stop(): TreePeaks } {
  const peaks: TreePeaks = { peakRss: 0, peakSelfRss: 0, peakOnce: 0 };
  const sample = () => {
    const self = procKb(pid, "status", "VmRSS");
    if (self === null) return;
    let all = self;
    let once = self;
    for (const c of descendants(pid)) {
      all += procKb(c, "status", "VmRSS") ?? 0;
      once += (procKb(c, "smaps_rollup", "Private_Clean") ?? 0) + (procKb(c, "smaps_rollup", "Private_Dirty") ?? 0);
    }
    if (all > peaks.peakRss) Object.assign(peaks, { peakRss: all, peakSelfRss: self });
    peaks.peakOnce = Math.max(peaks.peakOnce, once);
  };
  sample();
  const timer = setInterval(sample, 25);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** Sends `cmd` to the measured Lifeboat and answers with its reply and the peak memory of its process tree meanwhile. */
function command(child: ChildProcess, cmd: object): Promise<ServerReply> {
  const sampler = sampleTree(child.pid!);
  return new Promise((resolve, reject) => {
    child.once("message", (m: ServerReply) => {
      const peaks = sampler.stop();
      if (m.ok) resolve({ ...m, ...peaks });
      else reject(new Error(m.error));
    });
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

function countRows(file: string, workload: Workload): number {
  const db = new Database(file);
  try {
    let total = 0;
    for (const t of workload.tables) total += Number((db.prepare(`SELECT count(*) FROM ${t}`).raw(true).get() as number[])[0]);
    return total;
  } finally {
    db.close();
  }
}

/**
 * What writing REALs with 17 significant digits (so that every sqlite3 reloads
 * them exactly) costs over `quote()`'s shortest form, measured on the
 * generated REAL columns (`source`, one column `v`): bytes and formatting time.
 */
function realCost(file: string, source: string): RealCost {
  const db = new Database(file, { readonly: true });
  try {
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

interface RealCost {
  values: number;
  quoteBytes: number;
  fullBytes: number;
  quoteMs: number;
  fullMs: number;
}

/** The measured runs of one runtime on one workload. */
interface RuntimeRuns {
  runtime: Runtime;
  export: PhaseResult;
  import: PhaseResult;
  /** Peak of the Lifeboat process's own RSS during the import, and the peak counted once (see ServerReply). */
  importMemory: { self: number; once: number };
}

/** Everything one workload's runs measured. */
interface WorkloadRun {
  workload: Workload;
  rows: number;
  dbBytes: number;
  /** Every phase, in the order it ran (for the table). */
  results: PhaseResult[];
  dump: PhaseResult;
  cliImport: PhaseResult;
  /** The main runtime's runs first, then Deno's with `--runtime both`. */
  runtimes: RuntimeRuns[];
  steps: Record<string, unknown>[];
  cliChecks: Record<string, number>;
  /** 1-minute load average when the CLI's checks ended. */
  cliChecksLoad: number;
  baseRss: number;
  maxRss: number;
  reals: RealCost | null;
  variants: boolean;
}

interface BenchOptions {
  target: number;
  runtime: Runtime;
  both: boolean;
  /** Run the export variants (gzip, age, off-site copy) on this workload. */
  variants: boolean;
}

/**
 * Generates `workload`'s database in a folder of its own under `root`, runs the
 * measured phases on it, and deletes the folder again.
 */
async function runWorkload(root: string, workload: Workload, opts: BenchOptions): Promise<WorkloadRun> {
  const dir = path.join(root, workload.name);
  const dataDir = path.join(dir, "data");
  const dbFile = path.join(dataDir, "app.db");
  await fsp.mkdir(dataDir, { recursive: true });
  try {
    const { runtime, both } = opts;
    const env = { DATA_DIR: dataDir, LOG_LEVEL: "error", ADMIN_USERNAME: "bench", ADMIN_PASSWORD: "bench-password-123", BACKUP_SCHEDULE: "off" };
    // A first start creates Lifeboat's tables and the admin, as on a running instance; the
    // application's data is added afterwards, so the measured start has no pending migration.
    const first = await startServer(dir, env, runtime);
    await stopServer(first.child);

    process.stdout.write(`\nWorkload "${workload.name}": ${workload.about}\n`);
    process.stdout.write(`Generating about ${fmt(mb(opts.target), 0)} MB of dump in ${dir} …\n`);
    const t0 = performance.now();
    const gen = self(["--generate", workload.name, dbFile, String(opts.target)]);
    await new Promise<void>((resolve, reject) =>
      gen.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`generator exited with ${code}`)))),
    );
    const rows = countRows(dbFile, workload);
    const dbBytes = fs.statSync(dbFile).size;
    process.stdout.write(`  ${rows.toLocaleString("en")} rows, database ${fmt(mb(dbBytes), 0)} MB, in ${fmt((performance.now() - t0) / 1000, 0)} s\n`);
    const reals = workload.realSource ? realCost(dbFile, workload.realSource) : null;

    const steps: Record<string, unknown>[] = [];
    const server = await startServer(dir, { ...env, LOG_LEVEL: "debug" }, runtime, steps);
    const url = `http://127.0.0.1:${server.port}/healthz`;
    // --runtime both: a Deno instance on the same data, idle while Node's runs go on and measured
    // right after each of them, so that the two runtimes' figures are taken a minute apart on the
    // same page cache rather than a quarter of an hour apart (this machine's speed drifts by up to
    // a third within minutes, and that made single runs disagree by ±0.4 on Deno's ratio).
    const deno = both ? await startServer(dir, { ...env, LOG_LEVEL: "debug" }, "deno", steps) : null;
    const denoUrl = deno ? `http://127.0.0.1:${deno.port}/healthz` : "";
    const backupDir = path.join(dataDir, "backups");
    let rowsAll = rows;
    const results: PhaseResult[] = [];
    const label = both ? "Node" : runtime === "deno" ? "Deno" : "";

    let backupName = "";
    let importMemory = { self: 0, once: 0 };
    const exp = await phase(`Lifeboat export${label ? ` (${label})` : ""}`, url, async () => {
      const r = await command(server.child, { op: "export" });
      backupName = r.value.name!;
      rowsAll = Object.values(r.value.rowCounts ?? {}).reduce((a, b) => a + b, 0);
      return { bytes: r.value.size!, rows: rowsAll, seconds: r.seconds, peakRss: r.peakRss };
    }, dbFile);
    results.push(exp);
    let denoBackup = "";
    let denoMemory = { self: 0, once: 0 };
    const denoExp = deno
      ? await phase("Lifeboat export (Deno)", denoUrl, async () => {
          const r = await command(deno.child, { op: "export" });
          denoBackup = r.value.name!;
          return { bytes: r.value.size!, rows: rowsAll, seconds: r.seconds, peakRss: r.peakRss };
        }, dbFile)
      : null;
    if (denoExp) results.push(denoExp);
    const backupFile = path.join(backupDir, backupName);
    const cliDump = path.join(dir, "cli-dump.sql");
    const dump = await phase("sqlite3 .dump", null, async () => {
      await run(SQLITE3, [dbFile, ".dump"], undefined, cliDump);
      return { bytes: fs.statSync(cliDump).size, rows: rowsAll };
    });
    results.push(dump);
    const imp = await phase(`Lifeboat import (${label ? `${label}, ` : ""}safety backup included)`, url, async () => {
      const r = await command(server.child, { op: "import", name: backupName });
      importMemory = { self: r.peakSelfRss, once: r.peakOnce };
      return { bytes: fs.statSync(backupFile).size, rows: r.value.rows!, seconds: r.seconds, peakRss: r.peakRss };
    }, dbFile);
    results.push(imp);
    const denoImp = deno
      ? await phase("Lifeboat import (Deno, safety backup included)", denoUrl, async () => {
          const r = await command(deno.child, { op: "import", name: denoBackup });
          denoMemory = { self: r.peakSelfRss, once: r.peakOnce };
          return { bytes: fs.statSync(path.join(backupDir, denoBackup)).size, rows: r.value.rows!, seconds: r.seconds, peakRss: r.peakRss };
        }, dbFile)
      : null;
    if (denoImp) results.push(denoImp);
    const cliDb = path.join(dir, "cli-import.db");
    const cliImport = await phase("sqlite3 new.db < .dump", null, async () => {
      await run(SQLITE3, [cliDb], cliDump);
      return { bytes: fs.statSync(cliDump).size, rows: rowsAll };
    });
    results.push(cliImport);
    const cliDb2 = path.join(dir, "cli-import-2.db");
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
    const cliChecksLoad = os.loadavg()[0]!;
    const stopped = await stopServer(server.child);
    if (deno) await stopServer(deno.child);
    const runtimes: RuntimeRuns[] = [{ runtime, export: exp, import: imp, importMemory }];
    if (denoExp && denoImp) runtimes.push({ runtime: "deno", export: denoExp, import: denoImp, importMemory: denoMemory });

    if (opts.variants) results.push(...(await exportVariants(dir, env, runtime, exp.bytes, rowsAll)));
    return {
      workload,
      rows: rowsAll,
      dbBytes,
      results,
      dump,
      cliImport,
      runtimes,
      steps,
      cliChecks,
      cliChecksLoad,
      baseRss: server.baseRss,
      maxRss: stopped.maxRss,
      reals,
      variants: opts.variants,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Export variants, each on a Lifeboat started with that configuration: gzip;
 * gzip then age; gzip, age and the off-site copy to an S3-compatible server
 * (s3rver) on loopback. Throughput is against the plain dump's `bytes`.
 */
async function exportVariants(dir: string, env: Record<string, string>, runtime: Runtime, bytes: number, rows: number): Promise<PhaseResult[]> {
  const { generateIdentity, identityToRecipient } = await import("age-encryption");
  const identity = await generateIdentity();
  const identityFile = path.join(dir, "age-key.txt");
  await fsp.writeFile(identityFile, identity + "\n", { mode: 0o600 });
  const ageEnv = { BACKUP_AGE_RECIPIENTS: await identityToRecipient(identity), BACKUP_AGE_IDENTITY_FILE: identityFile };
  const { default: S3rver } = await import("s3rver");
  const s3dir = path.join(dir, "s3");
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
      { BACKUP_COMPRESSION: "gzip", ...ageEnv, ...s3Env, BACKUP_DIR: path.join(dir, "backups-offsite") },
      "export-offsite",
    ],
  ];
  const results: PhaseResult[] = [];
  try {
    for (const [name, extra, op] of variants) {
      const variant = await startServer(dir, { ...env, ...extra }, runtime);
      const vurl = `http://127.0.0.1:${variant.port}/healthz`;
      results.push(
        await phase(name, vurl, async () => {
          const r = await command(variant.child, { op });
          // Throughput against the plain dump's size: the same work, whatever the bytes stored.
          return { bytes, rows, seconds: r.seconds, peakRss: r.peakRss };
        }),
      );
      await stopServer(variant.child);
    }
  } finally {
    await s3.close();
  }
  return results;
}

/** The issue's targets (#15), as ratios in one run on one machine. */
const TARGETS = { importRatio: 1.0, exportRatio: 1.0, peakRssMb: 200, healthMs: 250, denoOverNode: 1.2 };

const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
const runtimeLabel = (r: Runtime) => (r === "node" ? "Node" : "Deno");

/** What one runtime's runs on one workload scored against TARGETS. */
function score(w: WorkloadRun, r: RuntimeRuns) {
  const exportRatio = w.dump.seconds / r.export.seconds;
  const importRatio = (w.dump.seconds + w.cliImport.seconds) / r.import.seconds;
  const peak = Math.max(r.export.peakRssMb!, r.import.peakRssMb!);
  const health = Math.max(r.export.healthMaxMs!, r.import.healthMaxMs!);
  const node = r.runtime === "deno" ? w.runtimes.find((x) => x.runtime === "node") : undefined;
  const deno = node ? { export: r.export.seconds / node.export.seconds, import: r.import.seconds / node.import.seconds } : null;
  return { exportRatio, importRatio, peak, health, deno };
}

/** One workload's tables: the runs, the import's steps beside the CLI's checks, writers, memory. */
function workloadReport(w: WorkloadRun, runtime: Runtime): string[] {
  const [exp, imp] = [w.runtimes[0]!.export, w.runtimes[0]!.import];
  const lastSteps = w.steps.filter((s) => s.runtime === runtime).at(-1);
  const lockHeld = typeof lastSteps?.lockHeldMs === "number" ? lastSteps.lockHeldMs : null;
  const memory = w.runtimes.map((r) => {
    const self = mb(r.importMemory.self);
    // Both RSS figures are read a moment apart: a difference under 1 MB is no import process at all.
    const child = r.import.peakRssMb! - self;
    const split = child < 1 ? "the Lifeboat process alone (no import process running at that moment)" : `the Lifeboat process ${fmt(self, 0)} MB + its import process ${fmt(child, 0)} MB`;
    return (
      `  ${runtimeLabel(r.runtime)}, during the import (peak ${fmt(r.import.peakRssMb!, 0)} MB): ${split}; ` +
      `counted once (the Lifeboat process's RSS + the import process's private memory) ${fmt(mb(r.importMemory.once), 0)} MB`
    );
  });
  const reals = w.reals;
  return [
    "",
    `## Workload "${w.workload.name}": ${fmt(mb(exp.bytes), 0)} MB Lifeboat dump (${fmt(mb(w.dump.bytes), 0)} MB sqlite3 .dump), ${w.rows.toLocaleString("en")} rows, database ${fmt(mb(w.dbBytes), 0)} MB`,
    `${w.workload.about}`,
    "",
    "| Run | Time (s) | MB/s | rows/s | Peak RSS (MB) | /healthz max (ms) | writer blocked max (ms) | load |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...w.results.map(
      (r) =>
        `| ${r.name} | ${fmt(r.seconds, 2)} | ${fmt(mb(r.bytes) / r.seconds)} | ${Math.round(r.rows / r.seconds).toLocaleString("en")} | ${r.peakRssMb === null ? "–" : fmt(r.peakRssMb, 0)} | ${r.healthMaxMs === null ? "–" : fmt(r.healthMaxMs, 0)} | ${r.writerBlockedMs === null ? "–" : `${r.writerBlockedMs} (${r.writerWrites} writes)`} | ${fmt(r.load, 2)} |`,
    ),
    ...(w.variants ? [] : ["", "(The export variants — gzip, gzip + age, off-site copy — run on the first workload only.)"]),
    "",
    "Import steps (ms; the write lock is held from lock wait to commit):",
    "",
    "| runtime | check file | safety backup before the lock | safety backup under the lock | lock wait | apply | counts | migrations | quick_check | foreign_key_check | wait for safety backup | commit | lock held |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...w.steps.map(
      (s) =>
        `| ${[s.runtime, s.checkMs, s.safetyBackupMs ?? "–", s.safetyBackupUnderLockMs ?? "–", s.lockWaitMs, s.applyMs, s.countsMs, s.migrationsMs, s.quickCheckMs, s.foreignKeyCheckMs, s.safetyWaitMs, s.commitMs, s.lockHeldMs].join(" | ")} |`,
    ),
    // The CLI's figures in the same columns: its import of its own .dump stands beside the apply step.
    `| sqlite3 CLI | – | – | – | – | ${Math.round(w.cliImport.seconds * 1000)} | – | – | ${w.cliChecks.quick_check} | ${w.cliChecks.foreign_key_check} | – | – | – |`,
    ...w.steps.map((s) => `Safety backup (${String(s.runtime)}): ${String(s.safetyBackup)}`),
    "The sqlite3 CLI's row: `sqlite3 new.db < .dump` under apply, its checks on the database it imported under theirs.",
    `sqlite3 CLI on the database it imported: integrity_check ${w.cliChecks.integrity_check} ms, quick_check ${w.cliChecks.quick_check} ms, foreign_key_check ${w.cliChecks.foreign_key_check} ms (load ${fmt(w.cliChecksLoad, 2)})`,
    "",
    `Writer blocked during export: ${exp.writerBlockedMs} ms (target ≤ 250) ${verdict(exp.writerBlockedMs! <= 250)}`,
    // SQLite's busy handler retries at most every 100 ms: a writer gets in up to that long after COMMIT.
    `Writer blocked during import: ${imp.writerBlockedMs} ms; the replace step (write lock held) took ${lockHeld} ms (target: blocked ≤ replace step + the busy handler's 100 ms retry) ${verdict(lockHeld !== null && imp.writerBlockedMs! <= lockHeld + 100)}`,
    `Peak memory (RSS of the Lifeboat process and its import process; ${fmt(mb(w.baseRss), 0)} MB when idle, max RSS over its life ${fmt(mb(w.maxRss), 0)} MB under ${runtimeLabel(runtime)}). ` +
      `Both processes map the same runtime binary and libsql library, so the sum counts those shared pages twice:`,
    ...memory,
    reals
      ? `REALs (${reals.values.toLocaleString("en")} values): 17 significant digits take ${fmt(mb(reals.fullBytes), 1)} MB in ${fmt(reals.fullMs, 0)} ms ` +
        `against quote()'s ${fmt(mb(reals.quoteBytes), 1)} MB in ${fmt(reals.quoteMs, 0)} ms ` +
        `(${fmt((reals.fullBytes / reals.quoteBytes - 1) * 100, 1)}% bytes, ${fmt((reals.fullMs / reals.quoteMs - 1) * 100, 0)}% time)`
      : "REALs: this workload has none.",
  ];
}

/** One row per workload and runtime: each of the issue's targets with PASS or FAIL. */
function summary(runs: WorkloadRun[]): string[] {
  const rows: string[] = [];
  let pass = 0;
  let all = 0;
  const cell = (text: string, ok: boolean) => {
    all++;
    if (ok) pass++;
    return `${text} ${verdict(ok)}`;
  };
  for (const w of runs) {
    for (const r of w.runtimes) {
      const s = score(w, r);
      const once = mb(r.importMemory.once);
      rows.push(
        `| ${w.workload.name} | ${runtimeLabel(r.runtime)} | ${cell(`${fmt(s.importRatio, 2)}×`, s.importRatio >= TARGETS.importRatio)} | ` +
          `${cell(`${fmt(s.exportRatio, 2)}×`, s.exportRatio >= TARGETS.exportRatio)} | ` +
          `${cell(`${fmt(s.peak, 0)} MB`, s.peak <= TARGETS.peakRssMb)} (${fmt(once, 0)} counted once) | ` +
          `${cell(`${fmt(s.health, 0)} ms`, s.health <= TARGETS.healthMs)} | ` +
          `${s.deno ? cell(`export ${fmt(s.deno.export, 2)}×, import ${fmt(s.deno.import, 2)}×`, Math.max(s.deno.export, s.deno.import) <= TARGETS.denoOverNode) : "–"} |`,
      );
    }
  }
  const sizes = runs.map((w) => `${w.workload.name} ${fmt(mb(w.dump.bytes), 0)} MB`).join(", ");
  return [
    "",
    "## Against issue #15's targets",
    "",
    `Ratios are Lifeboat's throughput over the sqlite3 CLI's in this run: import (safety backup included) against the CLI's .dump + import, export against .dump. ` +
      `The issue states the export target at 1 GB of dump; this run's .dump: ${sizes}. Peak RSS is the sum of the Lifeboat process's and its import process's RSS during the export and the import; ` +
      `/healthz the worst answer during them; Deno's times over Node's.`,
    "",
    `| workload | runtime | import ≥ ${fmt(TARGETS.importRatio, 1)}× | export ≥ ${fmt(TARGETS.exportRatio, 1)}× | peak RSS ≤ ${TARGETS.peakRssMb} MB | /healthz ≤ ${TARGETS.healthMs} ms | Deno ≤ ${TARGETS.denoOverNode}× Node |`,
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `${pass} of ${all} targets met.`,
    "",
  ];
}

function argValue(args: string[], flag: string, fallback: string): string {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] ?? "" : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--generate") {
    const workload = WORKLOADS[args[1] as WorkloadName];
    if (!workload) throw new Error(`--generate: unknown workload "${args[1]}"`);
    return generate(workload, args[2]!, Number(args[3]));
  }
  if (args[0] === "--poll") return poll(args[1]!);
  if (args[0] === "--writer") return writer(args[1]!);
  if (args[0] === "--list") return (await import("./list.ts")).benchList(Number(args[1] ?? 5000));
  const target = parseSize(argValue(args, "--size", "1GB"));
  const runtimeValue = argValue(args, "--runtime", "node");
  if (runtimeValue !== "node" && runtimeValue !== "deno" && runtimeValue !== "both") {
    throw new Error(`--runtime: expected node, deno or both, got "${runtimeValue}"`);
  }
  const workloadValue = argValue(args, "--workload", "both");
  if (workloadValue !== "mixed" && workloadValue !== "app" && workloadValue !== "both") {
    throw new Error(`--workload: expected mixed, app or both, got "${workloadValue}"`);
  }
  const workloads = workloadValue === "both" ? [MIXED, APP] : [WORKLOADS[workloadValue]];
  const both = runtimeValue === "both";
  const runtime: Runtime = both ? "node" : runtimeValue;
  const nodeName = `Node ${process.version}, Lifeboat compiled (npm run build), started with npm start's node flags (${START_FLAGS.join(" ") || "none"})`;
  const denoName = () =>
    `Deno ${/deno (\S+)/.exec(execFileSync(lifeboatCommand("deno", "").cmd, ["--version"], { encoding: "utf8" }))?.[1]}, Lifeboat from source (deno.json's start task)`;
  const runtimeName = both ? `${nodeName}; ${denoName()}` : runtime === "node" ? nodeName : denoName();
  const sqliteVersion = execFileSync(SQLITE3, ["--version"], { encoding: "utf8" }).split(" ")[0];

  const root = await fsp.mkdtemp(path.join(os.tmpdir(), "lifeboat-bench-"));
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    if (runtime === "node") {
      process.stdout.write("Building (npm run build) …\n");
      await run("npm", ["run", "-s", "build"]);
    }
    const runs: WorkloadRun[] = [];
    for (const [i, workload] of workloads.entries()) {
      runs.push(await runWorkload(root, workload, { target, runtime, both, variants: i === 0 }));
    }
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    const lines = [
      "",
      `# Lifeboat bench: ${runs.map((w) => `"${w.workload.name}"`).join(" and ")} at about ${fmt(mb(target), 0)} MB of dump each`,
      `Machine: ${cpu}, ${os.cpus().length} cores, ${runtimeName}, sqlite3 CLI ${SQLITE3} ${sqliteVersion}`,
      ...runs.flatMap((w) => workloadReport(w, runtime)),
      ...summary(runs),
    ];
    process.stdout.write(lines.join("\n"));
  } finally {
    cleanup();
  }
}

await main();
