import { describe, expect, it } from "vitest";
import { createWorkerPool, type DbWorker } from "../../src/db/drivers/worker-client.ts";
import { eventually } from "../support/wait.ts";

/** A stand-in worker that records whether it was stopped. */
function fakeWorker(): DbWorker & { stopped: boolean } {
  const w = {
    stopped: false,
    call: () => Promise.resolve(null as never),
    get alive() {
      return !w.stopped;
    },
    terminate() {
      w.stopped = true;
      return Promise.resolve();
    },
  };
  return w;
}

describe("worker pool: idle workers", () => {
  it("reuses a worker given back within idleMs, and stops one left idle longer", async () => {
    const started: ReturnType<typeof fakeWorker>[] = [];
    const pool = createWorkerPool(2, () => {
      const w = fakeWorker();
      started.push(w);
      return Promise.resolve(w);
    }, { idleMs: 80 });
    const first = await pool.acquire();
    first.release();
    const again = await pool.acquire(); // at once: the same worker, and its idle timer is off
    expect(again.worker).toBe(first.worker);
    await new Promise((r) => setTimeout(r, 150));
    expect(started[0]!.stopped).toBe(false); // lent out, never stopped under a job
    again.release();
    await eventually(() => started[0]!.stopped, "the idle worker to be stopped");
    // The next job starts a new worker, and the pool counts the stopped one out (two may run again).
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(started).toHaveLength(3);
    expect([a.worker, b.worker]).not.toContain(started[0]);
    a.release();
    b.release();
    await pool.close();
    expect(started.every((w) => w.stopped)).toBe(true);
  });

  it("keeps idle workers without idleMs (the threads: see createWorkerPool)", async () => {
    const w = fakeWorker();
    const pool = createWorkerPool(1, () => Promise.resolve(w));
    (await pool.acquire()).release();
    await new Promise((r) => setTimeout(r, 100));
    expect(w.stopped).toBe(false);
    expect((await pool.acquire()).worker).toBe(w);
    await pool.close();
  });
});
