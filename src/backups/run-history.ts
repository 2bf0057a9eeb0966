import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { EventBus } from "../events.ts";
import type { Logger } from "../logger.ts";
import { writeFileAtomic } from "../storage/atomic-file.ts";
import { BACKUP_TRIGGERS, type BackupEngineEvent, type BackupTrigger } from "./types.ts";

/** One finished backup or import, as the run history keeps it. */
export interface RunRecord {
  kind: "backup" | "import";
  /** What started a backup; null for an import. */
  trigger: BackupTrigger | null;
  actor: string | null;
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The backup written, or for an import the one restored (null when it failed before naming one). */
  backup: string | null;
  /** Bytes of the backup written (backups only). */
  size: number | null;
  /** An import's `pre-import` safety backup. */
  safetyBackup: string | null;
  /** Tables and rows an import restored. */
  tables: number | null;
  rows: number | null;
  /** Why it failed: the typed error's code and its message (never a stack). */
  error: { code: string; message: string } | null;
}

/** Which runs to show, newest first. */
export interface RunQuery {
  kind?: "backup" | "import" | undefined;
  result?: "ok" | "failed" | undefined;
  trigger?: BackupTrigger | undefined;
  /** At most this many (default 50). */
  limit?: number | undefined;
}

/** The history of runs, kept in a file beside the database; bounded in size. */
export interface RunHistory {
  /** Appends one run; a failure to write is logged, never thrown (the run itself is done). */
  record(run: RunRecord): Promise<void>;
  /** Runs matching `query`, newest first, and how many runs the history holds in all. */
  list(query?: RunQuery): Promise<{ runs: RunRecord[]; kept: number }>;
  /** Resolves once every run recorded so far is written. */
  settled(): Promise<void>;
}

export const DEFAULT_RUNS_SHOWN = 50;
/** The file is cut back to this many runs once it holds twice as many. */
const KEEP_RUNS = 1000;

const RunRecordSchema = z.object({
  kind: z.enum(["backup", "import"]),
  trigger: z.enum(BACKUP_TRIGGERS).nullable(),
  actor: z.string().nullable(),
  ok: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  backup: z.string().nullable(),
  size: z.number().nullable(),
  safetyBackup: z.string().nullable(),
  tables: z.number().nullable(),
  rows: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

/** The run a finished backup or import event describes; null for events that are not runs. */
function runOf(event: BackupEngineEvent): RunRecord | null {
  // Off-site copies are not runs (the status and the webhook report them); deletions have no actor here.
  const base = { actor: "actor" in event ? event.actor : null };
  switch (event.type) {
    case "backup.created":
    case "backup.failed": {
      const ok = event.type === "backup.created";
      return {
        ...base,
        kind: "backup",
        trigger: event.trigger,
        ok,
        startedAt: event.startedAt,
        finishedAt: event.finishedAt,
        durationMs: event.durationMs,
        backup: ok ? event.backup.name : null,
        size: ok ? event.backup.size : null,
        safetyBackup: null,
        tables: null,
        rows: null,
        error: ok ? null : event.error,
      };
    }
    case "import.completed":
      return {
        ...base,
        kind: "import",
        trigger: null,
        ok: true,
        startedAt: event.startedAt,
        finishedAt: event.finishedAt,
        durationMs: event.durationMs,
        backup: event.result.source,
        size: null,
        safetyBackup: event.result.safetyBackup,
        tables: event.result.tables,
        rows: event.result.rows,
        error: null,
      };
    case "import.failed":
      return {
        ...base,
        kind: "import",
        trigger: null,
        ok: false,
        startedAt: event.startedAt,
        finishedAt: event.finishedAt,
        durationMs: event.durationMs,
        backup: event.source,
        size: null,
        safetyBackup: null,
        tables: null,
        rows: null,
        error: event.error,
      };
    default:
      return null;
  }
}

/**
 * The run history in `file` (JSON lines, 0600, one appended per run): it
 * outlives restarts and is not part of the database, so restoring a backup
 * never rewrites it. Appends are single writes of one line; once the file holds
 * `2 × 1000` runs it is rewritten (atomically) with the newest 1000. Lines that
 * do not parse (a torn write at a crash) are skipped.
 */
export function createRunHistory(options: { file: string; logger: Logger }): RunHistory {
  const { file, logger } = options;
  let appended = 0;
  let pending: Promise<void> = Promise.resolve();

  async function readAll(): Promise<RunRecord[]> {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const runs: RunRecord[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const parsed = RunRecordSchema.safeParse(JSON.parse(line));
        if (parsed.success) runs.push(parsed.data);
      } catch {
        // A line cut short by a crash: the runs around it still count.
      }
    }
    return runs;
  }

  async function append(run: RunRecord): Promise<void> {
    await fs.appendFile(file, `${JSON.stringify(run)}\n`, { mode: 0o600 });
    // Counting lines of the whole file on every append would read it each time: check now and then.
    if (++appended % 100 !== 1) return;
    const runs = await readAll();
    if (runs.length < 2 * KEEP_RUNS) return;
    const kept = runs.slice(-KEEP_RUNS);
    await writeFileAtomic(path.dirname(file), file, kept.map((r) => JSON.stringify(r)).join("\n") + "\n");
  }

  return {
    record(run) {
      // One at a time: a rewrite never races this process's own appends.
      pending = pending.then(() =>
        append(run).catch((err: unknown) => logger.warn("could not record the run in the run history", { file, error: err })),
      );
      return pending;
    },

    settled: () => pending,

    async list(query = {}) {
      await pending;
      const runs = await readAll();
      const limit = query.limit ?? DEFAULT_RUNS_SHOWN;
      const matching = runs
        .filter(
          (r) =>
            (!query.kind || r.kind === query.kind) &&
            (!query.result || r.ok === (query.result === "ok")) &&
            (!query.trigger || r.trigger === query.trigger),
        )
        .sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
      return { runs: matching.slice(0, limit), kept: runs.length };
    },
  };
}

/** Records every finished backup and import the engine announces. */
export function recordRuns(events: EventBus<BackupEngineEvent>, history: RunHistory): () => void {
  return events.on((event) => {
    const run = runOf(event);
    if (run) void history.record(run);
  });
}
