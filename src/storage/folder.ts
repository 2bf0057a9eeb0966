import fs from "node:fs/promises";
import path from "node:path";
import { formatBytes } from "../bytes.ts";
import { BackupFolderUnavailableError, ConflictError, InsufficientStorageError, NotFoundError } from "../errors.ts";
import type { BackupMeta, BackupTrigger, BackupVerification } from "../backups/types.ts";
import { syncDir } from "./atomic-file.ts";
import { acquireLock, lockIsStale, LOCK_NAME, type StorageLock } from "./lock.ts";
import {
  assertSafeBackupName,
  backupBaseName,
  HOST_TAG,
  backupExtension,
  isSafeBackupName,
  processAlive,
  tempName,
  tempOwner,
  newestFirst,
} from "./names.ts";
import { readSidecar as readSidecarIn, SIDECAR_SUFFIX, sidecarOf, writeSidecar as writeSidecarIn, type RecordedContent, type Sidecar } from "./sidecar.ts";

/**
 * The backup folder: listing, atomic placement, pins and cleanup, built on
 * names.ts (what files are called), sidecar.ts (metadata beside each backup),
 * atomic-file.ts and lock.ts (the cross-process one-job lock). The folder is
 * the source of truth (it survives an import of the database), so nothing here
 * is kept in the database.
 */

/** A dot-file nobody has touched for this long is abandoned work (an upload cut off, a crashed host). */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** What the writer knows about a finished file before it gets a name. */
interface NewBackupInfo {
  createdAt: Date;
  trigger: BackupTrigger;
  actor: string | null;
  sha256: string;
  size: number;
  rowCounts: Record<string, number> | null;
  periodKey?: string | null;
  compressed: boolean;
  /** Encrypted with age: the name ends in `.age`. */
  encrypted?: boolean;
  /** Why Lifeboat could not restore the file (see `BackupMeta.restoreProblems`). */
  restoreProblems?: string[];
  /** Which kind of dump it is, when known (an upload's checking pass tells). */
  kind?: "lifeboat" | "plain";
  /** What the import's reading pass will find of Lifeboat's tables, when known exactly (see `Sidecar.content`). */
  content?: RecordedContent | null;
  /** Names taken elsewhere (the off-site bucket keeps backups pruned here): never given again. */
  taken?: ReadonlySet<string>;
}

/** A listing read less than this after the folder last changed is checked again next time (see `list`). */
const RACY_MS = 2000;
/**
 * How long a listing may go without looking at a known backup's files again:
 * a pin changed by another instance, or a file edited by hand in place, shows
 * within this time (a new or removed backup shows at once).
 */
const FULL_SCAN_MS = 60_000;


function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

/** No space left on the device, or the user's quota on it is used up. */
function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** What was being written when a write in the folder failed, for the message (see `BackupStorage.writeFailure`). */
interface WriteFailureContext {
  /** `the backup`, `the upload` … */
  what: string;
  /** Bytes the write needed in all, when known (an upload's declared length). */
  neededBytes?: number | null;
  /** The size of the database being backed up (a hint of what a backup needs). */
  databaseBytes?: number;
}

/**
 * Everything the engine does with files in the backup folder. Every method
 * that takes a name checks it against `SAFE_NAME_RE` first and refuses with
 * `ValidationError` before touching the disk.
 */
export interface BackupStorage {
  readonly dir: string;
  /** A fresh temp path inside the folder, owned by this process (`ext` like `.sql`). */
  tempPath(ext: string): string;
  /**
   * Gives a finished, synced temp file its final name without ever replacing
   * another file (`-2`, `-3` … for backups in the same second), writes the
   * sidecar and removes the temp name. Returns the new backup's metadata.
   */
  place(tempPath: string, info: NewBackupInfo): Promise<BackupMeta>;
  /** Every backup in the folder, newest first. Skips temp files, symlinks and anything not a regular file. */
  list(): Promise<BackupMeta[]>;
  /** One backup; `ValidationError` for a bad name, `NotFoundError` when it is not in the listing. */
  get(name: string): Promise<BackupMeta>;
  /** Absolute path of a listed backup (after `get`). */
  pathOf(name: string): string;
  /** Deletes a backup and its sidecar. */
  remove(name: string): Promise<void>;
  /** Pins or unpins; a hand-dropped file gets a sidecar for it. */
  setPinned(name: string, pinned: boolean): Promise<BackupMeta>;
  /** Records that the backup is in the off-site bucket (kept in its sidecar; a hand-dropped file gets one). */
  markOffsite(name: string, at: Date): Promise<void>;
  /**
   * Places a file fetched from off-site under the name it has there (which
   * must be free here), with the metadata it had there. `ConflictError` when a
   * file of that name is already in the folder.
   */
  adopt(tempPath: string, meta: BackupMeta, offsiteAt: Date): Promise<BackupMeta>;
  /** Records the outcome of a verification in the backup's sidecar. */
  recordVerification(name: string, verification: BackupVerification, content?: RecordedContent): Promise<BackupMeta>;
  /** What the sidecar records of Lifeboat's tables in the file, with the sha256 it goes with; null when nothing is. */
  recordedContent(name: string): Promise<{ content: RecordedContent; sha256: string } | null>;
  /** Removes temp files left by processes that are gone, and orphaned sidecars. Returns what it removed. */
  cleanup(): Promise<string[]>;
  /** Takes the folder's one-job lock or throws `BusyError` naming who holds it. */
  lock(what: { kind: "backup" | "import"; trigger?: BackupTrigger }): Promise<StorageLock>;
  /**
   * Creates the folder (mode 0700) when it is missing — someone deleted it
   * while Lifeboat runs. Throws `BackupFolderUnavailableError` when it cannot.
   */
  ensureFolder(): Promise<void>;
  /**
   * The error to report for a failed write in the folder, called once the
   * partial file is removed: a full disk becomes `InsufficientStorageError`
   * with the space now free (and what was needed or written, when known); a
   * folder deleted meanwhile is created again and reported as
   * `BackupFolderUnavailableError`. Any other error is returned as it is.
   */
  writeFailure(err: unknown, context: WriteFailureContext): Promise<unknown>;
}

/** Opens the storage of a backup folder (which must exist). */
export function createBackupStorage(dir: string): BackupStorage {
  const resolved = path.resolve(dir);
  const pathOf = (name: string) => path.join(resolved, name);

  const readSidecar = (name: string) => readSidecarIn(resolved, name);

  const kindOf = (sidecar: Sidecar | null): "lifeboat" | "plain" | null =>
    sidecar?.kind ?? (sidecar && sidecar.trigger !== "upload" && sidecar.trigger !== "unknown" ? "lifeboat" : null);

  function metaOf(name: string, st: { size: number; mtime: Date }, sidecar: Sidecar | null): BackupMeta {
    return {
      name,
      createdAt: sidecar ? new Date(sidecar.createdAt).toISOString() : st.mtime.toISOString(),
      size: st.size,
      trigger: sidecar?.trigger ?? "unknown",
      actor: sidecar?.actor ?? null,
      // As recorded when the file was written: a file changed since no longer matches it (verify says so).
      sha256: sidecar?.sha256 ?? null,
      compressed: /\.gz(\.age)?$/.test(name),
      encrypted: name.endsWith(".age"),
      rowCounts: sidecar?.rowCounts ?? null,
      pinned: sidecar?.pinned ?? false,
      periodKey: sidecar?.periodKey ?? null,
      offsiteAt: sidecar?.offsiteAt ?? null,
      ...(sidecar?.restoreProblems?.length ? { restoreProblems: sidecar.restoreProblems } : {}),
      // Known for Lifeboat's own backups (they always carry its tables), uploads and verified files.
      ...(kindOf(sidecar) ? { kind: kindOf(sidecar) } : {}),
      ...(sidecar?.verification ? { verification: sidecar.verification } : {}),
    };
  }

  async function statRegular(name: string) {
    try {
      const st = await fs.lstat(pathOf(name));
      // A second hard link means the bytes can change through a path outside our control
      // (or are someone else's file): not served or imported, like a symlink.
      return st.isFile() && st.nlink === 1 ? st : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /**
   * The in-memory index of the folder. Reading every sidecar on every listing
   * costs ~0.3 ms per backup, so the listing is kept here and rebuilt only
   * when the folder changed: any backup or sidecar added, removed or replaced
   * (sidecars are written by rename) changes the directory's mtime, whoever
   * did it (another instance, the CLI, a person). A rebuild re-reads only the
   * entries whose file or sidecar changed (size, mtime, inode).
   *
   * File times have a coarse clock: two changes within one tick leave the
   * same mtime. A listing is trusted without a look at the folder only when
   * the directory's mtime was older than `RACY_MS` at the time it was read
   * (the "racy" rule git uses for its index).
   */
  const entries = new Map<string, { key: string; meta: BackupMeta }>();
  let snapshot: { dirMtimeNs: bigint; trusted: boolean; items: BackupMeta[] } | null = null;
  let lastFullScan = 0;

  /** Forgets what is known of `name` after a change made here; the next listing reads it again. */
  function invalidate(name: string): void {
    snapshot = null;
    entries.delete(name);
  }

  async function statKey(name: string): Promise<string | null> {
    try {
      const st = await fs.lstat(pathOf(name), { bigint: true });
      return st.isFile() ? `${st.size}:${st.mtimeNs}:${st.ino}` : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async function ensureFolder(): Promise<void> {
    const st = await fs.stat(resolved).catch((err: unknown) => {
      if (isMissing(err)) return null;
      throw err;
    });
    if (st?.isDirectory()) return;
    if (st) throw new BackupFolderUnavailableError(`The backup folder ${resolved} is not a folder (a file of that name is in the way).`);
    try {
      await fs.mkdir(resolved, { recursive: true, mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new BackupFolderUnavailableError(`The backup folder ${resolved} is missing and could not be created (${code}).`, { cause: err });
    }
  }

  /** The folder's stat, creating it again first when someone deleted it. */
  async function statFolder() {
    let st;
    try {
      st = await fs.stat(resolved, { bigint: true });
    } catch (err) {
      if (!isMissing(err)) throw err;
      await ensureFolder();
      st = await fs.stat(resolved, { bigint: true });
    }
    if (!st.isDirectory()) throw new BackupFolderUnavailableError(`The backup folder ${resolved} is not a folder (a file of that name is in the way).`);
    return st;
  }

  /** Bytes free for this process on the folder's disk; null where statfs is unavailable. */
  async function freeBytes(): Promise<number | null> {
    try {
      const st = await fs.statfs(resolved);
      return Number(st.bavail) * Number(st.bsize);
    } catch {
      return null;
    }
  }

  async function writeFailure(err: unknown, context: WriteFailureContext): Promise<unknown> {
    if (isDiskFull(err)) {
      const free = await freeBytes();
      const needed = context.neededBytes ?? null;
      const size = (n: number) => formatBytes(n, "decimal");
      const facts = [
        free === null ? null : `${size(free)} free`,
        needed === null ? null : `${context.what} needs about ${size(needed)}`,
        context.databaseBytes !== undefined ? `the database is ${size(context.databaseBytes)}` : null,
      ].filter((f): f is string => f !== null);
      return new InsufficientStorageError(
        `Not enough free space for ${context.what} on the disk of the backup folder ${resolved}${facts.length ? ` (${facts.join("; ")})` : ""}. Nothing was stored; free some space (e.g. delete old backups) and try again.`,
        free,
        needed,
      );
    }
    if (isMissing(err) && !(await fs.stat(resolved).then(() => true, () => false))) {
      await ensureFolder();
      return new BackupFolderUnavailableError(
        `The backup folder ${resolved} was deleted while ${context.what} was being written; it has been created again (empty). Try again.`,
        { cause: err },
      );
    }
    return err;
  }

  async function list(): Promise<BackupMeta[]> {
    const started = Date.now();
    const dirStat = await statFolder();
    if (snapshot && snapshot.trusted && snapshot.dirMtimeNs === dirStat.mtimeNs) return snapshot.items.slice();
    // New and removed names show in the directory itself; a known backup's files are looked at
    // again at most every FULL_SCAN_MS (this process's own changes forget the entry at once).
    const full = started - lastFullScan >= FULL_SCAN_MS;
    if (full) lastFullScan = started;
    const names = (await fs.readdir(resolved, { withFileTypes: true }))
      .filter((e) => e.isFile() && isSafeBackupName(e.name))
      .map((e) => e.name);
    const seen = new Set(names);
    for (const name of entries.keys()) if (!seen.has(name)) entries.delete(name);
    const items: BackupMeta[] = [];
    // A few stats at a time: thousands of files must not queue thousands of requests at once.
    for (let i = 0; i < names.length; i += 64) {
      const batch = await Promise.all(
        names.slice(i, i + 64).map(async (name) => {
          const cached = full ? undefined : entries.get(name);
          if (cached) return cached.meta;
          const [fileKey, sidecarKey] = await Promise.all([statKey(name), statKey(name + SIDECAR_SUFFIX)]);
          if (fileKey === null) {
            entries.delete(name);
            return null;
          }
          const key = `${fileKey}|${sidecarKey ?? "-"}`;
          const known = entries.get(name);
          if (known && known.key === key) return known.meta;
          const st = await statRegular(name);
          if (!st) return null;
          const meta = metaOf(name, st, sidecarKey === null ? null : await readSidecar(name));
          entries.set(name, { key, meta });
          return meta;
        }),
      );
      for (const m of batch) if (m) items.push(m);
    }
    items.sort(newestFirst);
    const racy = started - Number(dirStat.mtimeNs / 1_000_000n) < RACY_MS;
    snapshot = { dirMtimeNs: dirStat.mtimeNs, trusted: !racy, items };
    return items.slice();
  }

  async function get(name: string): Promise<BackupMeta> {
    assertSafeBackupName(name);
    // Found through the listing, so only a name that is really there is ever opened.
    await statFolder();
    const entries = await fs.readdir(resolved, { withFileTypes: true });
    const entry = entries.find((e) => e.name === name);
    if (!entry || !entry.isFile()) throw new NotFoundError(`There is no backup named ${name}.`);
    const st = await statRegular(name);
    if (!st) throw new NotFoundError(`There is no backup named ${name}.`);
    return metaOf(name, st, await readSidecar(name));
  }

  const writeSidecar = (name: string, sidecar: Sidecar) => writeSidecarIn(resolved, name, sidecar);

  async function place(tempPath: string, info: NewBackupInfo): Promise<BackupMeta> {
    const base = backupBaseName(info.createdAt, info.trigger);
    const ext = backupExtension(info.compressed, info.encrypted ?? false);
    let name: string | undefined;
    for (let n = 1; n <= 10_000 && !name; n++) {
      const candidate = n === 1 ? `${base}${ext}` : `${base}-${n}${ext}`;
      if (info.taken?.has(candidate)) continue;
      try {
        // link() never replaces an existing file, so two backups in the same second both survive.
        await fs.link(tempPath, pathOf(candidate));
        name = candidate;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EEXIST") continue;
        if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") {
          // No hard links on this file system: the folder lock makes check-then-rename safe here.
          if ((await statRegular(candidate)) || (await statRegular(candidate + SIDECAR_SUFFIX))) continue;
          await fs.rename(tempPath, pathOf(candidate));
          name = candidate;
          continue;
        }
        throw err;
      }
    }
    if (!name) throw new ConflictError(`Too many backups named ${base}${ext} in the same second.`);
    invalidate(name);
    await fs.rm(tempPath, { force: true });
    const placed = name;
    const sidecar: Sidecar = {
      format: 1,
      size: info.size,
      createdAt: info.createdAt.toISOString(),
      trigger: info.trigger,
      actor: info.actor,
      sha256: info.sha256,
      rowCounts: info.rowCounts,
      pinned: false,
      periodKey: info.periodKey ?? null,
      ...(info.restoreProblems?.length ? { restoreProblems: info.restoreProblems } : {}),
      ...(info.kind ? { kind: info.kind } : {}),
      ...(info.content ? { content: info.content } : {}),
    };
    try {
      await writeSidecar(placed, sidecar);
    } catch (err) {
      // Without its sidecar the file would list as a hand-dropped one; the backup failed, so remove it.
      invalidate(placed);
      await fs.rm(pathOf(placed), { force: true });
      throw await writeFailure(err, { what: info.trigger === "upload" ? "the upload" : "the backup" });
    }
    return get(placed);
  }

  async function remove(name: string): Promise<void> {
    await get(name);
    invalidate(name);
    await fs.rm(pathOf(name), { force: true });
    await fs.rm(pathOf(name + SIDECAR_SUFFIX), { force: true });
    await syncDir(resolved);
  }

  /** Rewrites a backup's sidecar with `change` applied (a hand-dropped file gets one). */
  async function updateSidecar(
    name: string,
    change: { pinned?: boolean; content?: RecordedContent; verification?: BackupVerification; offsiteAt?: string },
  ): Promise<BackupMeta> {
    const meta = await get(name);
    invalidate(name);
    const current = await readSidecar(name);
    await writeSidecar(name, {
      ...sidecarOf(meta),
      ...(current ? { sha256: current.sha256, size: current.size } : {}),
      pinned: change.pinned ?? meta.pinned,
      kind: change.content?.kind ?? meta.kind ?? null,
      // Recorded for these bytes only: a sidecar whose sha256 was rewritten above keeps it with them.
      content: change.content ?? current?.content ?? null,
      verification: change.verification ?? meta.verification ?? null,
      offsiteAt: change.offsiteAt ?? current?.offsiteAt ?? null,
    });
    return get(name);
  }

  const setPinned = (name: string, pinned: boolean) => updateSidecar(name, { pinned });

  /** Records a verification's outcome (and what the file turned out to hold of Lifeboat's tables). */
  const recordVerification = (name: string, verification: BackupVerification, content?: RecordedContent) =>
    updateSidecar(name, { verification, ...(content ? { content } : {}) });

  /** What the sidecar records of Lifeboat's tables in the file (see `Sidecar.content`), with the sha256 it goes with. */
  async function recordedContent(name: string): Promise<{ content: RecordedContent; sha256: string } | null> {
    const sidecar = await readSidecar(name);
    return sidecar?.content && sidecar.sha256 ? { content: sidecar.content, sha256: sidecar.sha256 } : null;
  }

  async function markOffsite(name: string, at: Date): Promise<void> {
    await updateSidecar(name, { offsiteAt: at.toISOString() });
  }

  async function adopt(tempPath: string, meta: BackupMeta, offsiteAt: Date): Promise<BackupMeta> {
    assertSafeBackupName(meta.name);
    try {
      await fs.link(tempPath, pathOf(meta.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new ConflictError(`${meta.name} is already in the backup folder.`);
      throw err;
    }
    invalidate(meta.name);
    await fs.rm(tempPath, { force: true });
    try {
      await writeSidecar(meta.name, {
        ...sidecarOf(meta),
        offsiteAt: offsiteAt.toISOString(),
      });
    } catch (err) {
      await fs.rm(pathOf(meta.name), { force: true });
      throw err;
    }
    return get(meta.name);
  }

  async function cleanup(): Promise<string[]> {
    const removed: string[] = [];
    let entries;
    try {
      entries = await fs.readdir(resolved, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return removed;
      throw err;
    }
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      if (!e.isFile()) continue;
      const p = pathOf(e.name);
      if (e.name === LOCK_NAME) {
        if (await lockIsStale(resolved)) {
          await fs.rm(p, { force: true });
          removed.push(e.name);
        }
        continue;
      }
      if (e.name.startsWith(".")) {
        const owner = tempOwner(e.name);
        let abandoned: boolean;
        if (owner && owner.host === HOST_TAG) {
          abandoned = !processAlive(owner.pid) || (owner.pid !== process.pid && (await olderThan(p, STALE_TEMP_MS)));
        } else {
          // Upload temp files and other hosts' work: abandoned once nobody has written for a while.
          abandoned = await olderThan(p, STALE_TEMP_MS);
        }
        if (abandoned) {
          await fs.rm(p, { force: true });
          removed.push(e.name);
        }
        continue;
      }
      if (e.name.endsWith(SIDECAR_SUFFIX)) {
        const dataName = e.name.slice(0, -SIDECAR_SUFFIX.length);
        if (isSafeBackupName(dataName) && !names.has(dataName) && (await readSidecar(dataName))) {
          await fs.rm(p, { force: true });
          removed.push(e.name);
        }
      }
    }
    if (removed.length) await syncDir(resolved);
    return removed;
  }

  return {
    dir: resolved,
    tempPath: (ext) => pathOf(tempName(ext)),
    place,
    list,
    get,
    pathOf,
    remove,
    setPinned,
    markOffsite,
    adopt,
    recordVerification,
    recordedContent,
    cleanup,
    async lock(what) {
      try {
        return await acquireLock(resolved, what);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") throw await writeFailure(err, { what: "the lock file" });
        // Deleted while we ran: a backup or upload creates it again rather than failing.
        await ensureFolder();
        return await acquireLock(resolved, what);
      }
    },
    ensureFolder,
    writeFailure,
  };
}

async function olderThan(p: string, ms: number): Promise<boolean> {
  try {
    const st = await fs.lstat(p);
    return Date.now() - st.mtimeMs > ms;
  } catch {
    return false;
  }
}
