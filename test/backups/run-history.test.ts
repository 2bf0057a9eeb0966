import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createRunHistory, type RunRecord } from "../../src/backups/run-history.ts";
import { createLogger } from "../../src/logger.ts";
import { tempDir } from "../support/temp.ts";

function run(i: number, ok = true): RunRecord {
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    kind: "backup",
    trigger: "change",
    actor: "admin",
    ok,
    startedAt: at,
    finishedAt: at,
    durationMs: 5,
    backup: ok ? `lifeboat-${i}.sql` : null,
    size: ok ? 100 + i : null,
    safetyBackup: null,
    tables: null,
    rows: null,
    error: ok ? null : { code: "internal", message: `run ${i} failed` },
  };
}

describe("the run history file", () => {
  it("stays bounded: past 2000 runs it keeps the newest 1000", async () => {
    const file = path.join(await tempDir(), "run-history.jsonl");
    const history = createRunHistory({ file, logger: createLogger({ level: "silent" }) });
    for (let i = 0; i < 2001; i++) await history.record(run(i));
    const { runs, kept } = await history.list({ limit: 5000 });
    expect(kept).toBe(1000);
    expect(runs[0]!.backup).toBe("lifeboat-2000.sql");
    expect(runs.at(-1)!.backup).toBe("lifeboat-1001.sql");
    expect((await fs.readFile(file, "utf8")).trimEnd().split("\n")).toHaveLength(1000);
  });

  it("skips a line cut short by a crash and keeps the runs around it", async () => {
    const file = path.join(await tempDir(), "run-history.jsonl");
    const history = createRunHistory({ file, logger: createLogger({ level: "silent" }) });
    await history.record(run(1));
    await fs.appendFile(file, JSON.stringify(run(2)).slice(0, 40));
    // The next append starts on the torn line's tail; both stay readable as far as they go.
    await fs.appendFile(file, "\n");
    await history.record(run(3, false));
    const { runs, kept } = await history.list();
    expect(kept).toBe(2);
    expect(runs.map((r) => [r.backup, r.ok, r.error?.message ?? null])).toEqual([
      [null, false, "run 3 failed"],
      ["lifeboat-1.sql", true, null],
    ]);
  });

  it("logs, and does not throw, when it cannot write", async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    const history = createRunHistory({
      file: path.join(dir, "missing", "run-history.jsonl"),
      logger: createLogger({ level: "warn", write: (l) => lines.push(l) }),
    });
    await expect(history.record(run(1))).resolves.toBeUndefined();
    expect(lines.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg)).toEqual(["could not record the run in the run history"]);
  });
});
