import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { deserializeError, type WorkerRequest, type WorkerResponse } from "./worker-protocol.ts";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A started backup worker (db-worker.ts). */
export interface DbWorker {
  /** Sends one request and resolves with the worker's answer (typed errors rebuilt). */
  call<T = unknown>(request: DistributiveOmit<WorkerRequest, "id">): Promise<T>;
  /** False once the thread has stopped or failed. */
  readonly alive: boolean;
  /** Stops the thread. */
  terminate(): Promise<void>;
}

const here = import.meta.url;
/**
 * A small young generation: the worker allocates buffers and strings at a
 * high rate and keeps almost none, so frequent cheap scavenges keep its
 * memory low. The old generation keeps V8's default (a single row can be large).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

let sourceBundle: Promise<URL> | undefined;
let warnedNoBundle = false;

/**
 * The worker's TypeScript sources bundled into one JavaScript module with
 * esbuild (tsx's own compiler), once per process. A worker that registers
 * tsx's loader instead spends seconds per start (a loader thread, then every
 * module compiled again); the bundle starts in a fraction of that. It is
 * written under the project's node_modules/.cache/lifeboat/ so that the worker
 * resolves `libsql` from the project's packages, named by its content hash and
 * written atomically, so concurrent processes share one file.
 */
function bundleFromSource(): Promise<URL> {
  sourceBundle ??= (async () => {
    const require = createRequire(here);
    const esbuild = await import("esbuild");
    const built = await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./db-worker.ts", here))],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      write: false,
      logLevel: "silent",
    });
    const code = built.outputFiles[0]!.contents;
    const esbuildMain = require.resolve("esbuild");
    const marker = `${path.sep}node_modules${path.sep}`;
    const dir = path.join(esbuildMain.slice(0, esbuildMain.lastIndexOf(marker) + marker.length), ".cache", "lifeboat");
    const file = path.join(dir, `db-worker-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`);
    const present = await fs.stat(file).then((s) => s.size === code.byteLength, () => false);
    if (!present) {
      await fs.mkdir(dir, { recursive: true });
      const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await fs.writeFile(temp, code);
      await fs.rename(temp, file);
    }
    return pathToFileURL(file);
  })();
  return sourceBundle;
}

/**
 * The request bookkeeping a thread and a process share: ids, the calls still
 * waiting for an answer, and the first failure, which fails every pending and
 * later call. `post` sends a request; `busy(true)` while calls are pending
 * (the worker keeps the event loop alive), `busy(false)` when none are.
 */
function requestChannel(post: (message: WorkerRequest) => void, busy: (pending: boolean) => void) {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let failure: Error | null = null;
  return {
    /** Settles the call a response answers (id 0, the worker's "ready", is the caller's). */
    receive(msg: WorkerResponse): void {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(deserializeError(msg.error));
    },
    /** Fails every pending call and every later one with the first failure. */
    fail(err: Error): void {
      failure ??= err;
      for (const p of pending.values()) p.reject(failure);
      pending.clear();
    },
    /** Fails later calls; pending ones fail (with `err`) once the worker has really stopped (`fail` on its exit). */
    stopping(err: Error): void {
      failure ??= err;
    },
    get alive() {
      return failure === null;
    },
    call<T>(request: DistributiveOmit<WorkerRequest, "id">): Promise<T> {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      busy(true);
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        post({ ...request, id } as WorkerRequest);
      }).finally(() => {
        if (pending.size === 0) busy(false);
      });
    },
  };
}

/**
 * Starts the worker thread. From compiled JavaScript (`npm start`) and under
 * Deno the worker module is loaded directly; from TypeScript sources under
 * Node (tsx, vitest), which Node 20 cannot load in a worker on its own, from a
 * bundle of them (`bundleFromSource`), or when that cannot be written, with
 * tsx's loader registered first.
 */
async function startDbWorker(): Promise<DbWorker> {
  const fromSource = here.endsWith(".ts");
  const workerUrl = new URL(fromSource ? "./db-worker.ts" : "./db-worker.js", here);
  let worker: Worker;
  const bundle = fromSource && !isDeno ? await bundleFromSource().catch((err: unknown) => err as Error) : null;
  if (bundle instanceof URL) {
    worker = new Worker(bundle, { resourceLimits: WORKER_LIMITS });
  } else if (bundle) {
    if (!warnedNoBundle) process.emitWarning(`backup worker started through tsx (slower): bundling it failed: ${bundle.message}`);
    warnedNoBundle = true;
    // tsx's ESM entry (package export "./esm/api", import condition); the CJS one cannot register from an ESM worker.
    const tsxRoot = path.dirname(createRequire(here).resolve("tsx/package.json"));
    const tsxApi = pathToFileURL(path.join(tsxRoot, "dist/esm/api/index.mjs")).href;
    worker = new Worker(
      `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(workerUrl.href)});`,
      { eval: true, resourceLimits: WORKER_LIMITS },
    );
  } else {
    worker = new Worker(workerUrl, { resourceLimits: WORKER_LIMITS });
  }
  worker.unref();

  // Referenced while work is pending, so a CLI awaiting it does not exit early.
  const channel = requestChannel(
    (message) => worker.postMessage(message),
    (pending) => (pending ? worker.ref() : worker.unref()),
  );
  let markReady!: () => void;
  let markFailed!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  worker.on("message", (msg: WorkerResponse) => (msg.id === 0 ? markReady() : channel.receive(msg)));
  worker.on("error", (err) => {
    markFailed(err);
    channel.fail(new Error(`The backup worker failed: ${err.message}`, { cause: err }));
  });
  worker.on("exit", (code) => {
    const err = new Error(`The backup worker stopped unexpectedly (exit code ${code}).`);
    markFailed(err);
    channel.fail(err);
  });
  await ready;

  return {
    call: (request) => channel.call(request),
    get alive() {
      return channel.alive;
    },
    async terminate() {
      channel.stopping(new Error("The backup worker was stopped."));
      await worker.terminate();
    },
  };
}

/**
 * Starts the backup worker as a child process instead of a thread, for the
 * work that must be stoppable at any moment: an import's write transaction.
 * A thread stuck inside one native SQLite call (a trigger running an endless
 * recursive query) cannot be stopped — V8 only interrupts JavaScript, and
 * libsql's interrupt() waits for the very lock the call holds — so it would
 * hold the write lock and a core until the process dies. A child process can
 * be killed: the operating system releases its locks and SQLite discards the
 * uncommitted transaction, exactly as after a crash. `terminate()` kills it.
 */
export async function startDbProcess(): Promise<DbWorker> {
  const fromSource = here.endsWith(".ts");
  let workerPath = new URL(fromSource ? "./db-worker.ts" : "./db-worker.js", here);
  // V8's own `gc`: the worker's collections (see db-worker.ts). And a 2 MB
  // semi-space, as `npm start` and `deno task start` give the server: left to
  // itself V8 grows this process's young generation to 32 MB under Node (16 MB
  // under Deno) during an import (statement strings, read buffers), though the
  // worker keeps almost nothing it allocates. Deno's fork hands both to V8.
  const execArgv: string[] = ["--expose-gc", "--max-semi-space-size=2"];
  if (fromSource && !isDeno) {
    // From sources under Node: the same bundle as the thread (`bundleFromSource`), else tsx's loader.
    const bundle = await bundleFromSource().catch(() => null);
    if (bundle) workerPath = bundle;
    else {
      const tsxRoot = path.dirname(createRequire(here).resolve("tsx/package.json"));
      execArgv.push("--import", pathToFileURL(path.join(tsxRoot, "dist/esm/index.mjs")).href);
    }
  }
  const child: ChildProcess = fork(workerPath, [], {
    execArgv,
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const busy = (pending: boolean) => {
    const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (pending) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  };
  const channel = requestChannel((message) => child.send(message), busy);
  const ready = new Promise<void>((resolve, reject) => {
    child.on("message", (msg: WorkerResponse) => (msg.id === 0 ? resolve() : channel.receive(msg)));
    child.once("error", (err) => {
      reject(err);
      channel.fail(new Error(`The backup worker process failed: ${err.message}`, { cause: err }));
    });
    child.once("exit", (code, signal) => {
      const err = new Error(`The backup worker process stopped (${signal ?? `exit code ${code}`}).`);
      reject(err);
      channel.fail(err);
    });
  });
  await ready;
  busy(false);
  return {
    call: (request) => channel.call(request),
    get alive() {
      return channel.alive;
    },
    async terminate() {
      channel.stopping(new Error("The backup worker was stopped."));
      if (child.exitCode === null && child.signalCode === null) {
        // Referenced until it has exited, so whoever awaits this is not left with an idle event loop.
        busy(true);
        child.kill("SIGKILL");
      }
      await exited;
    },
  };
}

/** A worker lent out by the pool; give it back with `release()` (once). */
interface WorkerLease {
  worker: DbWorker;
  release(): void;
}

/**
 * Backup workers, started on first use and then kept for the next job.
 *
 * Why not a fresh thread per job: glibc gives each new thread its own malloc
 * arena and keeps what was freed in it, so every short-lived thread that
 * touched a few dozen MB (SQLite's page cache, a dump's buffers) left them
 * behind: measured, RSS grew by ~20 MB per backup. A reused thread reuses its
 * arena, and memory stays flat over thousands of backups. Idle workers do not
 * keep the process alive.
 */
export interface WorkerPool {
  /** A worker for one job; waits when `max` are busy. */
  acquire(): Promise<WorkerLease>;
  /** Runs `fn` with a worker and gives it back. */
  run<T>(fn: (worker: DbWorker) => Promise<T>): Promise<T>;
  /** Stops every worker (busy ones when their lease ends). */
  close(): Promise<void>;
}

/**
 * Creates a pool of at most `max` backup workers (one job and one upload check
 * at a time need two). `start` makes a worker: a thread by default, or
 * `startDbProcess` for the pool of stoppable import processes. With
 * `idleMs`, a worker idle that long is stopped (the next job starts a new
 * one): right for processes, which give all their memory back when they exit,
 * not for threads (see above).
 */
export function createWorkerPool(max = 2, start: () => Promise<DbWorker> = startDbWorker, options: { idleMs?: number } = {}): WorkerPool {
  const idle: DbWorker[] = [];
  const waiting: ((w: DbWorker | null) => void)[] = [];
  const idleTimers = new Map<DbWorker, ReturnType<typeof setTimeout>>();
  let size = 0;
  let closed = false;

  const putIdle = (worker: DbWorker) => {
    idle.push(worker);
    if (options.idleMs === undefined) return;
    const timer = setTimeout(() => {
      idleTimers.delete(worker);
      const at = idle.indexOf(worker);
      if (at < 0) return;
      idle.splice(at, 1);
      size--;
      void worker.terminate();
    }, options.idleMs);
    (timer as { unref?: () => void }).unref?.();
    idleTimers.set(worker, timer);
  };
  const takeIdle = (): DbWorker | undefined => {
    const worker = idle.pop();
    if (worker) {
      clearTimeout(idleTimers.get(worker));
      idleTimers.delete(worker);
    }
    return worker;
  };

  const lease = (worker: DbWorker): WorkerLease => {
    let returned = false;
    return {
      worker,
      release() {
        if (returned) return;
        returned = true;
        if (closed || !worker.alive) {
          size--;
          void worker.terminate();
          // A slot is free again: let a waiter start a fresh worker.
          waiting.shift()?.(null);
          return;
        }
        const next = waiting.shift();
        if (next) next(worker);
        else putIdle(worker);
      },
    };
  };

  const acquire = async (): Promise<WorkerLease> => {
    for (;;) {
      if (closed) throw new Error("The backup workers are shut down.");
      const ready = takeIdle();
      if (ready) {
        if (ready.alive) return lease(ready);
        size--;
        continue;
      }
      if (size < max) {
        size++;
        try {
          return lease(await start());
        } catch (err) {
          size--;
          throw err;
        }
      }
      const handed = await new Promise<DbWorker | null>((resolve) => waiting.push(resolve));
      if (handed) return lease(handed);
    }
  };

  return {
    acquire,
    async run(fn) {
      const l = await acquire();
      try {
        return await fn(l.worker);
      } finally {
        l.release();
      }
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w(null);
      for (const timer of idleTimers.values()) clearTimeout(timer);
      idleTimers.clear();
      await Promise.all(idle.splice(0).map((w) => w.terminate()));
    },
  };
}
