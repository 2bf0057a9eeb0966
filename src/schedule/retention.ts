import type { BackupMeta } from "../backups/types.ts";
import { compareBackupNames } from "../storage/names.ts";

/** How many backups of each kind to keep (BACKUP_KEEP_SCHEDULED, BACKUP_KEEP_CHANGE, BACKUP_KEEP_OTHER_DAYS). */
export interface RetentionPolicy {
  keepScheduled: number;
  keepChange: number;
  /** Manual, upload, pre-import, pre-migration and hand-dropped (`unknown`) backups younger than this are kept. */
  keepOtherDays: number;
}

/** One backup retention would remove, and why (logged as `backup pruned`). */
export interface PruneDecision {
  name: string;
  reason: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Decides which backups to delete; pure, so the rules are testable without files.
 * - pinned backups are outside retention: never deleted and not counted
 *   (pinning an old backup does not cost a slot of the rolling window);
 * - the newest backup overall is never deleted, whatever its kind;
 * - the newest `keepScheduled` scheduled and `keepChange` change backups stay;
 * - every other kind stays while younger than `keepOtherDays` days;
 * - a backup whose time cannot be read is kept (we do not delete what we cannot date).
 */
export function selectBackupsToPrune(
  backups: readonly BackupMeta[],
  policy: RetentionPolicy,
  now: Date,
): PruneDecision[] {
  const dated = backups
    .map((b) => ({ b, t: Date.parse(b.createdAt) }))
    .filter((x) => Number.isFinite(x.t))
    .sort((x, y) => y.t - x.t || compareBackupNames(y.b.name, x.b.name));
  const newest = dated[0]?.b.name;
  const cutoff = now.getTime() - policy.keepOtherDays * DAY_MS;
  const seen = { scheduled: 0, change: 0 };
  const out: PruneDecision[] = [];
  for (const { b, t } of dated) {
    if (b.pinned) continue;
    if (b.trigger === "scheduled" || b.trigger === "change") {
      const keep = b.trigger === "scheduled" ? policy.keepScheduled : policy.keepChange;
      seen[b.trigger]++;
      if (seen[b.trigger] > keep && b.name !== newest) {
        out.push({ name: b.name, reason: `more than ${keep} ${b.trigger} backups (BACKUP_KEEP_${b.trigger.toUpperCase()})` });
      }
    } else if (t < cutoff && b.name !== newest) {
      out.push({ name: b.name, reason: `${b.trigger} backup older than ${policy.keepOtherDays} days (BACKUP_KEEP_OTHER_DAYS)` });
    }
  }
  return out;
}
