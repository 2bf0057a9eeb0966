import { ValidationError } from "../errors.ts";
import { compareBackupNames } from "../storage/names.ts";
import type { BackupLocation, BackupMeta, BackupTrigger } from "./types.ts";

/** What a page of the backup list asks for. */
export interface BackupListQuery {
  /** Only backups with this trigger (`unknown`: files added by hand). */
  trigger?: BackupTrigger | "unknown" | undefined;
  /** Only backups whose copies are exactly here (`here`: not off-site yet), only off-site, or in both places. */
  location?: BackupLocation | undefined;
  /** `time` (default) or `size`. */
  sort?: "time" | "size" | undefined;
  /** `desc` (default: newest or largest first) or `asc`. */
  order?: "desc" | "asc" | undefined;
  /** Backups per page (default 50; the API allows at most `MAX_PAGE_SIZE`). */
  limit?: number | undefined;
  /** Where the previous page ended, as `nextCursor` gave it. */
  cursor?: string | undefined;
}

/** One page of the backup list. */
export interface BackupPage<T extends BackupMeta = BackupMeta> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** Backups matching the filter (all pages). */
  total: number;
  /** Their bytes on disk. */
  totalBytes: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

type Key = [string | number, string];

function keyOf(b: BackupMeta, sort: "time" | "size"): Key {
  return [sort === "size" ? b.size : b.createdAt, b.name];
}

function compareKeys(a: Key, b: Key): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return compareBackupNames(a[1], b[1]);
}

/**
 * A cursor names the last backup of a page by its sort key, not by its
 * position: backups taken (or deleted) between two requests never make a
 * page repeat or skip one.
 */
function encodeCursor(sort: string, order: string, key: Key): string {
  return Buffer.from(JSON.stringify([sort, order, ...key]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string, sort: string, order: string): Key {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 4 && v[0] === sort && v[1] === order && typeof v[3] === "string") {
      if ((sort === "size" && typeof v[2] === "number") || (sort === "time" && typeof v[2] === "string")) return [v[2], v[3]];
    }
  } catch {
    // reported below
  }
  throw new ValidationError("cursor: is not one this list gave out with the same sort and order (start again without it)", "cursor");
}

/**
 * Filters, sorts and cuts one page out of the whole listing (pure; `all` is
 * the list across locations, newest first).
 */
export function pageOfBackups<T extends BackupMeta & { location?: BackupLocation }>(all: readonly T[], query: BackupListQuery): BackupPage<T> {
  const sort = query.sort ?? "time";
  const order = query.order ?? "desc";
  const limit = Math.max(1, Math.trunc(query.limit ?? DEFAULT_PAGE_SIZE));
  const matching = all.filter((b) => (!query.trigger || b.trigger === query.trigger) && (!query.location || b.location === query.location));
  const sign = order === "desc" ? -1 : 1;
  // The listing comes newest first (time, then name, descending): only another order needs a sort.
  if (sort !== "time" || order !== "desc") matching.sort((a, b) => sign * compareKeys(keyOf(a, sort), keyOf(b, sort)));
  let start = 0;
  if (query.cursor) {
    const after = decodeCursor(query.cursor, sort, order);
    start = matching.findIndex((b) => sign * compareKeys(keyOf(b, sort), after) > 0);
    if (start < 0) start = matching.length;
  }
  const items = matching.slice(start, start + limit);
  const last = items.at(-1);
  const more = start + limit < matching.length;
  return {
    items,
    nextCursor: more && last ? encodeCursor(sort, order, keyOf(last, sort)) : null,
    total: matching.length,
    totalBytes: matching.reduce((sum, b) => sum + b.size, 0),
  };
}
