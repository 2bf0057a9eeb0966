import { randomBytes } from "node:crypto";
import os from "node:os";
import { ValidationError } from "../errors.ts";
import type { BackupTrigger } from "../backups/types.ts";

/**
 * Names in the backup folder:
 * - `lifeboat-YYYYMMDD-HHMMSS-<trigger>[-N].sql[.gz][.age]` — a backup;
 * - `<backup name>.json` — its sidecar (see sidecar.ts);
 * - dot-files — work in progress (our temp files `.lifeboat-tmp.<host>.<pid>.<random>…`,
 *   upload temp files, the lock); never listed, removed at start once their owner is gone.
 */

/** Names a backup may have: no path separators, no leading dot, `.sql` or `.sql.gz`, then `.age` when encrypted. */
export const SAFE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.sql(\.gz)?(\.age)?$/;

/** Prefix of this module's temp files (followed by `<host>.<pid>.<random>`). */
const TEMP_PREFIX = ".lifeboat-tmp.";

/** This host, as it appears in temp names and in the lock. */
export const HOST_TAG = os.hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40) || "host";

/** True for a name the engine accepts in a route or a command (see `SAFE_NAME_RE`). */
export function isSafeBackupName(name: string): boolean {
  return SAFE_NAME_RE.test(name) && !name.includes("..");
}

/** Throws `ValidationError` for a name that could never be a backup; touches no file. */
export function assertSafeBackupName(name: string): void {
  if (typeof name !== "string" || !isSafeBackupName(name)) {
    throw new ValidationError(
      "Not a backup name: expected letters, digits, '.', '_' or '-' ending in .sql, .sql.gz, .sql.age or .sql.gz.age.",
      "name",
    );
  }
}

/** `lifeboat-20261126-000000-scheduled` for a UTC time and a trigger (no extension). */
export function backupBaseName(at: Date, trigger: BackupTrigger): string {
  const iso = at.toISOString(); // 2026-11-26T00:00:00.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `lifeboat-${stamp}-${trigger}`;
}

/**
 * Orders backup names as their backups were taken: by name, except that a
 * second backup of the same second (`…-manual-2.sql`, see `place()`) comes after
 * the first (`…-manual.sql`), which plain string order gets backwards ('-' < '.').
 */
export function compareBackupNames(a: string, b: string): number {
  const pa = COLLISION_RE.exec(a);
  const pb = COLLISION_RE.exec(b);
  if (pa && pb && pa[1] === pb[1] && pa[3] === pb[3]) return Number(pa[2] ?? 1) - Number(pb[2] ?? 1);
  return a < b ? -1 : a > b ? 1 : 0;
}
const COLLISION_RE = /^(.*?)(?:-(\d+))?(\.sql(?:\.gz)?(?:\.age)?)$/;

/** Newest backup first: by creation time, then by name (`…-2.sql` is newer than `….sql` of the same second). */
export function newestFirst(a: { name: string; createdAt: string }, b: { name: string; createdAt: string }): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return compareBackupNames(b.name, a.name);
}

/** A fresh temp name owned by this process: `.lifeboat-tmp.<host>.<pid>.<random hex>` followed by `ext`. */
export function tempName(ext: string, randomBytesCount = 8): string {
  return `${TEMP_PREFIX}${HOST_TAG}.${process.pid}.${randomBytes(randomBytesCount).toString("hex")}${ext}`;
}

/** Parses `.lifeboat-tmp.<host>.<pid>.<random>…` into its owner. */
export function tempOwner(name: string): { host: string; pid: number } | null {
  if (!name.startsWith(TEMP_PREFIX)) return null;
  const [host, pid] = name.slice(TEMP_PREFIX.length).split(".");
  if (!host || !pid || !/^\d+$/.test(pid)) return null;
  return { host, pid: Number(pid) };
}

/** True when `pid` names a live process on this host. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The extension a backup gets: `.sql`, then `.gz` when compressed, then `.age` when encrypted. */
export function backupExtension(compressed: boolean, encrypted: boolean): string {
  return `.sql${compressed ? ".gz" : ""}${encrypted ? ".age" : ""}`;
}
