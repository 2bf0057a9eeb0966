import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { createChangeCoalescer } from "../../src/schedule/change-backups.ts";
import type { UserChangeEvent } from "../../src/users/events.ts";
import { manualTime } from "./support/manual-time.ts";

function setup() {
  const time = manualTime("2026-11-26T10:00:00Z");
  const taken: { at: string; actor: string | null }[] = [];
  const coalescer = createChangeCoalescer(
    {
      clock: time,
      timers: time,
      logger: createLogger({ level: "silent" }),
      takeBackup: async (actor) => {
        taken.push({ at: time.now().toISOString(), actor });
      },
    },
    { quietMs: 5000, maxDelayMs: 60_000 },
  );
  const edit = (actor = "alice", n = 1): UserChangeEvent => ({
    action: "user.update",
    actor,
    target: { id: n, username: `u${n}` },
    at: time.now().toISOString(),
  });
  return { time, taken, coalescer, edit };
}

describe("change backup coalescing", () => {
  it("waits for 5 s of quiet after the last change", async () => {
    const { time, taken, coalescer, edit } = setup();
    coalescer.notify(edit());
    await time.advance(3000);
    coalescer.notify(edit());
    await time.advance(4999);
    expect(taken).toEqual([]);
    expect(coalescer.pending()).toEqual({ since: "2026-11-26T10:00:00.000Z", dueAt: "2026-11-26T10:00:08.000Z", changes: 2 });
    await time.advance(1);
    expect(taken).toEqual([{ at: "2026-11-26T10:00:08.000Z", actor: "alice" }]);
    expect(coalescer.pending()).toBeNull();
  });

  it("does not wait longer than 60 s after the first change of a steady stream", async () => {
    const { time, taken, coalescer, edit } = setup();
    for (let i = 0; i < 40; i++) {
      coalescer.notify(edit(i % 2 ? "alice" : "bob"));
      await time.advance(2000);
    }
    // 40 edits, 2 s apart (80 s): one backup at the 60 s ceiling, one after the last edit's quiet window
    expect(taken.map((t) => t.at)).toEqual(["2026-11-26T10:01:00.000Z"]);
    await time.advance(5000);
    expect(taken.map((t) => t.at)).toEqual(["2026-11-26T10:01:00.000Z", "2026-11-26T10:01:23.000Z"]);
    expect(taken[0]!.actor).toBe("bob, alice");
  });

  it("flush takes a pending backup at once, and nothing when nothing is pending", async () => {
    const { time, taken, coalescer, edit } = setup();
    await coalescer.flush();
    expect(taken).toEqual([]);
    coalescer.notify(edit());
    await time.advance(1000);
    await coalescer.flush();
    expect(taken).toEqual([{ at: "2026-11-26T10:00:01.000Z", actor: "alice" }]);
    expect(time.pendingTimers()).toEqual([]);
  });

  it("starts a new window for changes that arrive while a change backup runs", async () => {
    const time = manualTime("2026-11-26T10:00:00Z");
    const taken: string[] = [];
    let release!: () => void;
    let first = true;
    const coalescer = createChangeCoalescer({
      clock: time,
      timers: time,
      logger: createLogger({ level: "silent" }),
      takeBackup: async () => {
        taken.push(time.now().toISOString());
        if (first) {
          first = false;
          await new Promise<void>((r) => (release = r));
        }
      },
    });
    const edit: UserChangeEvent = { action: "user.create", actor: "a", target: { id: 1, username: "x" }, at: "" };
    coalescer.notify(edit);
    const firing = time.advance(5000); // the backup starts and hangs
    await Promise.resolve();
    coalescer.notify(edit); // may have missed the running backup's snapshot
    release();
    await firing;
    await time.advance(5000);
    expect(taken).toEqual(["2026-11-26T10:00:05.000Z", "2026-11-26T10:00:10.000Z"]);
  });

  it("ignores changes after close, which flushed the pending one", async () => {
    const { time, taken, coalescer, edit } = setup();
    coalescer.notify(edit());
    await coalescer.close();
    coalescer.notify(edit());
    await time.advance(120_000);
    expect(taken).toHaveLength(1);
  });
});
