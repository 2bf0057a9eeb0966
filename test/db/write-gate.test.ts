import { describe, expect, it } from "vitest";
import { createWriteGate } from "../../src/db/write-gate.ts";
import { BusyError } from "../../src/errors.ts";
import { manualTime } from "../schedule/support/manual-time.ts";

describe("write gate", () => {
  it("runs writers one at a time, in arrival order", async () => {
    const gate = createWriteGate();
    const log: string[] = [];
    const slow = (name: string, ms: number) =>
      gate.run(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}:end`);
        return name;
      });
    const results = await Promise.all([slow("a", 30), slow("b", 5), slow("c", 1)]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
  });

  it("answers busy when the wait is too long, and later writers still run", async () => {
    const gate = createWriteGate();
    let finish!: () => void;
    const long = gate.run(() => new Promise<void>((r) => (finish = r)));
    await expect(gate.run(async () => "never", { waitMs: 20, busyMessage: "import running" })).rejects.toThrow(BusyError);
    expect(gate.busy).toBe(true);
    const after = gate.run(async () => "after");
    finish();
    await long;
    expect(await after).toBe("after");
    expect(gate.busy).toBe(false);
  });

  it("times the wait on the injected timers: moving them past waitMs answers busy, and nothing waits on the real clock", async () => {
    const time = manualTime("2026-11-26T00:00:00Z");
    const gate = createWriteGate(time);
    let finish!: () => void;
    const long = gate.run(() => new Promise<void>((r) => (finish = r)));
    const waiting = gate.run(async () => "never", { waitMs: 15_000, busyMessage: "import running" });
    await new Promise((r) => setImmediate(r)); // the first writer is in
    const outcome = waiting.then(
      () => "ran",
      (err: unknown) => err,
    );
    await time.advance(14_999);
    expect(gate.busy).toBe(true);
    await time.advance(1);
    expect(await outcome).toBeInstanceOf(BusyError);
    expect(time.pendingTimers()).toEqual([]);
    finish();
    await long;
    expect(await gate.run(async () => "after")).toBe("after");
  });

  it("fails fast with waitMs 0 while held", async () => {
    const gate = createWriteGate();
    let finish!: () => void;
    const long = gate.run(() => new Promise<void>((r) => (finish = r)));
    await expect(gate.run(async () => 1, { waitMs: 0 })).rejects.toBeInstanceOf(BusyError);
    finish();
    await long;
    expect(await gate.run(async () => 2, { waitMs: 0 })).toBe(2);
  });

  it("releases the gate when the writer throws", async () => {
    const gate = createWriteGate();
    await expect(gate.run(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(await gate.run(async () => "ok")).toBe("ok");
  });
});
