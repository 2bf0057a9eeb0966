import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { BACKUP_TRIGGERS, type BackupMeta } from "../backups/types.ts";
import { writeFileAtomic } from "./atomic-file.ts";

/** A backup's metadata lives beside it in `<backup name>.json`. */
export const SIDECAR_SUFFIX = ".json";

const SidecarSchema = z.object({
  format: z.literal(1),
  size: z.number().int().nonnegative(),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
  trigger: z.enum([...BACKUP_TRIGGERS, "unknown"]),
  actor: z.string().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  rowCounts: z.record(z.string(), z.number().int().nonnegative()).nullable(),
  pinned: z.boolean(),
  periodKey: z.string().nullable(),
  /** When the backup was confirmed in the off-site bucket (absent in sidecars written before off-site copies). */
  offsiteAt: z.string().nullable().optional(),
  restoreProblems: z.array(z.string()).optional(),
  /** Which kind of dump the file is, once known (written by Lifeboat, checked on upload, or verified). */
  kind: z.enum(["lifeboat", "plain"]).nullable().optional(),
  /**
   * Exactly what an import's reading pass finds of Lifeboat's tables in the file (its kind and
   * schema version), recorded when that is known for these very bytes: Lifeboat wrote them, or a
   * full check read them (upload, verification). An import of a file whose sha256 still matches
   * takes it from here instead of reading the whole file twice (see `runImport`).
   */
  content: z
    .object({ kind: z.enum(["lifeboat", "plain"]), schemaVersion: z.number().int().positive().nullable() })
    .nullable()
    .optional(),
  /** The last verification (sha256 + dry-run restore): when, and whether it passed. */
  verification: z
    .object({ ok: z.boolean(), at: z.string().refine((s) => !Number.isNaN(Date.parse(s))), message: z.string().nullable() })
    .nullable()
    .optional(),
});

/** What the sidecar `<name>.json` holds. */
export type Sidecar = z.infer<typeof SidecarSchema>;

/** What a file holds of Lifeboat's tables (the import's `LifeboatContent`), as a sidecar records it. */
export type RecordedContent = NonNullable<Sidecar["content"]>;

/** The sidecar that records `meta` (not yet verified, not yet off-site). */
export function sidecarOf(meta: BackupMeta): Sidecar {
  return {
    format: 1,
    size: meta.size,
    createdAt: meta.createdAt,
    trigger: meta.trigger,
    actor: meta.actor,
    sha256: meta.sha256,
    rowCounts: meta.rowCounts,
    pinned: meta.pinned,
    periodKey: meta.periodKey ?? null,
    ...(meta.restoreProblems?.length ? { restoreProblems: meta.restoreProblems } : {}),
    kind: meta.kind ?? null,
  };
}

/** The sidecar of backup `name` in `dir`, or null when it is missing, not a regular file, too big or not valid. */
export async function readSidecar(dir: string, name: string): Promise<Sidecar | null> {
  let text: string;
  try {
    const fh = await fs.open(path.join(dir, name + SIDECAR_SUFFIX), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > 1024 * 1024) return null;
      text = await fh.readFile("utf8");
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
  try {
    const parsed = SidecarSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Replaces the sidecar of backup `name` in `dir` atomically. */
export async function writeSidecar(dir: string, name: string, sidecar: Sidecar): Promise<void> {
  await writeFileAtomic(dir, path.join(dir, name + SIDECAR_SUFFIX), JSON.stringify(sidecar, null, 2) + "\n");
}
