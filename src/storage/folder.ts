import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { BusyError, ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { BACKUP_TRIGGERS, type BackupMeta, type BackupTrigger } from "../backups/types.ts";

/**
 * The backup folder: names, atomic placement, sidecar metadata, listing and the
 * cross-process lock. The folder is the source of truth (it survives an import
 * of the database), so nothing here is kept in the database.
 *
 * Layout:
 * - `lifeboat-YYYYMMDD-HHMMSS-<trigger>[-N].sql[.gz]` — a backup;
 * - `<backup name>.json` — its sidecar (size, sha256, trigger, actor, row counts, pin);
 * - dot-files — work in progress (our temp files, upload temp files, the lock);
 *   never listed, removed at start once their owner is gone.
 */

/** Names a backup may have: no path separators, no leading dot, `.sql` or `.sql.gz`. */
export const SAFE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.sql(\.gz)?$/;

/** Prefix of this module's temp files (followed by `<host>.<pid>.<random>`). */
export const TEMP_PREFIX = ".lifeboat-tmp.";
/** The lock held while a backup or import runs, shared by every process using the folder. */
export const LOCK_NAME = ".lifeboat.lock";
/** A dot-file nobody has touched for this long is abandoned work (an upload cut off, a crashed host). */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/** The lock holder refreshes the lock's mtime this often… */
const LOCK_HEARTBEAT_MS = 30 * 1000;
/** …so a lock not refreshed for this long belongs to a process that is gone (on another host). */
const LOCK_STALE_MS = 5 * 60 * 1000;
const SIDECAR_SUFFIX = ".json";

/** True for a name the engine accepts in a route or a command (see `SAFE_NAME_RE`). */
export function isSafeBackupName(name: string): boolean {
  return SAFE_NAME_RE.test(name) && !name.includes("..");
}

/** Throws `ValidationError` for a name that could never be a backup; touches no file. */
export function assertSafeBackupName(name: string): void {
  if (typeof name !== "string" || !isSafeBackupName(name)) {
    throw new ValidationError(
      "Not a backup name: expected letters, digits, '.', '_' or '-' ending in .sql or .sql.gz.",
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
});

/** What the sidecar `<name>.json` holds. */
export type Sidecar = z.infer<typeof SidecarSchema>;

/** What the writer knows about a finished file before it gets a name. */
export interface NewBackupInfo {
  createdAt: Date;
  trigger: BackupTrigger;
  actor: string | null;
  sha256: string;
  size: number;
  rowCounts: Record<string, number> | null;
  periodKey?: string | null;
  compressed: boolean;
}

/** A held lock; `release()` is idempotent. */
export interface StorageLock {
  release(): Promise<void>;
}

const hostTag = os.hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40) || "host";

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

/** True when `pid` names a live process on this host. */
function processAlive(pid: number): boolean {
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

/** Parses `.lifeboat-tmp.<host>.<pid>.<random>…` into its owner. */
function tempOwner(name: string): { host: string; pid: number } | null {
  if (!name.startsWith(TEMP_PREFIX)) return null;
  const [host, pid] = name.slice(TEMP_PREFIX.length).split(".");
  if (!host || !pid || !/^\d+$/.test(pid)) return null;
  return { host, pid: Number(pid) };
}

/** fsync a directory so a rename or link in it survives a power cut (best effort where unsupported). */
async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, "r");
    await fh.sync();
  } catch {
    // Some platforms and file systems cannot fsync a directory; the data file itself is synced.
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** Writes `data` to `target` atomically: a synced temp file renamed over it. */
async function writeFileAtomic(dir: string, target: string, data: string): Promise<void> {
  const temp = path.join(dir, `${TEMP_PREFIX}${hostTag}.${process.pid}.${randomBytes(6).toString("hex")}.json`);
  const fh = await fs.open(temp, "wx", 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDir(dir);
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
  /** Removes temp files left by processes that are gone, and orphaned sidecars. Returns what it removed. */
  cleanup(): Promise<string[]>;
  /** Takes the folder's one-job lock or throws `BusyError` naming who holds it. */
  lock(what: { kind: "backup" | "import"; trigger?: BackupTrigger }): Promise<StorageLock>;
}

/** Opens the storage of a backup folder (which must exist). */
export function createBackupStorage(dir: string): BackupStorage {
  const resolved = path.resolve(dir);
  const pathOf = (name: string) => path.join(resolved, name);

  async function readSidecar(name: string): Promise<Sidecar | null> {
    let text: string;
    try {
      const fh = await fs.open(pathOf(name + SIDECAR_SUFFIX), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
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

  function metaOf(name: string, st: { size: number; mtime: Date }, sidecar: Sidecar | null): BackupMeta {
    return {
      name,
      createdAt: sidecar ? new Date(sidecar.createdAt).toISOString() : st.mtime.toISOString(),
      size: st.size,
      trigger: sidecar?.trigger ?? "unknown",
      actor: sidecar?.actor ?? null,
      // As recorded when the file was written: a file changed since no longer matches it (verify says so).
      sha256: sidecar?.sha256 ?? null,
      compressed: name.endsWith(".gz"),
      rowCounts: sidecar?.rowCounts ?? null,
      pinned: sidecar?.pinned ?? false,
      periodKey: sidecar?.periodKey ?? null,
    };
  }

  async function statRegular(name: string) {
    try {
      const st = await fs.lstat(pathOf(name));
      return st.isFile() ? st : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async function list(): Promise<BackupMeta[]> {
    const entries = await fs.readdir(resolved, { withFileTypes: true });
    const out: BackupMeta[] = [];
    for (const e of entries) {
      if (!e.isFile() || !isSafeBackupName(e.name)) continue;
      const st = await statRegular(e.name);
      if (!st) continue;
      out.push(metaOf(e.name, st, await readSidecar(e.name)));
    }
    return out.sort((a, b) => (a.createdAt === b.createdAt ? b.name.localeCompare(a.name) : b.createdAt.localeCompare(a.createdAt)));
  }

  async function get(name: string): Promise<BackupMeta> {
    assertSafeBackupName(name);
    // Found through the listing, so only a name that is really there is ever opened.
    const entries = await fs.readdir(resolved, { withFileTypes: true });
    const entry = entries.find((e) => e.name === name);
    if (!entry || !entry.isFile()) throw new NotFoundError(`There is no backup named ${name}.`);
    const st = await statRegular(name);
    if (!st) throw new NotFoundError(`There is no backup named ${name}.`);
    return metaOf(name, st, await readSidecar(name));
  }

  async function writeSidecar(name: string, sidecar: Sidecar): Promise<void> {
    await writeFileAtomic(resolved, pathOf(name + SIDECAR_SUFFIX), JSON.stringify(sidecar, null, 2) + "\n");
  }

  async function place(tempPath: string, info: NewBackupInfo): Promise<BackupMeta> {
    const base = backupBaseName(info.createdAt, info.trigger);
    const ext = info.compressed ? ".sql.gz" : ".sql";
    let name: string | undefined;
    for (let n = 1; n <= 10_000 && !name; n++) {
      const candidate = n === 1 ? `${base}${ext}` : `${base}-${n}${ext}`;
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
    await fs.rm(tempPath, { force: true });
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
    };
    try {
      await writeSidecar(name, sidecar);
    } catch (err) {
      // Without its sidecar the file would list as a hand-dropped one; the backup failed, so remove it.
      await fs.rm(pathOf(name), { force: true });
      throw err;
    }
    return get(name);
  }

  async function remove(name: string): Promise<void> {
    await get(name);
    await fs.rm(pathOf(name), { force: true });
    await fs.rm(pathOf(name + SIDECAR_SUFFIX), { force: true });
    await syncDir(resolved);
  }

  async function setPinned(name: string, pinned: boolean): Promise<BackupMeta> {
    const meta = await get(name);
    const current = await readSidecar(name);
    await writeSidecar(name, {
      format: 1,
      size: meta.size,
      createdAt: meta.createdAt,
      trigger: meta.trigger,
      actor: meta.actor,
      sha256: meta.sha256,
      rowCounts: meta.rowCounts,
      periodKey: meta.periodKey ?? null,
      ...(current ? { sha256: current.sha256, size: current.size } : {}),
      pinned,
    });
    return get(name);
  }

  async function lockIsStale(): Promise<boolean> {
    try {
      const st = await fs.lstat(pathOf(LOCK_NAME));
      const holder = JSON.parse(await fs.readFile(pathOf(LOCK_NAME), "utf8")) as { host?: string; pid?: number };
      if (holder.host === hostTag && typeof holder.pid === "number") return !processAlive(holder.pid);
      return Date.now() - st.mtimeMs > LOCK_STALE_MS;
    } catch (err) {
      // Gone meanwhile (stale in effect), or unreadable garbage: judge by age.
      if (isMissing(err)) return true;
      try {
        const st = await fs.lstat(pathOf(LOCK_NAME));
        return Date.now() - st.mtimeMs > LOCK_STALE_MS;
      } catch {
        return true;
      }
    }
  }

  async function describeHolder(): Promise<string> {
    try {
      const h = JSON.parse(await fs.readFile(pathOf(LOCK_NAME), "utf8")) as {
        kind?: string;
        trigger?: string;
        pid?: number;
        host?: string;
        startedAt?: string;
      };
      const what = h.kind === "import" ? "an import" : `a${h.trigger ? ` ${h.trigger}` : ""} backup`;
      const where = h.host === hostTag ? `process ${h.pid}` : `process ${h.pid} on ${h.host}`;
      return `${what} (${where}, since ${h.startedAt})`;
    } catch {
      return "another backup or import";
    }
  }

  async function lock(what: { kind: "backup" | "import"; trigger?: BackupTrigger }): Promise<StorageLock> {
    const token = randomBytes(8).toString("hex");
    const content = JSON.stringify({
      kind: what.kind,
      trigger: what.trigger ?? null,
      host: hostTag,
      pid: process.pid,
      token,
      startedAt: new Date().toISOString(),
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await fs.open(pathOf(LOCK_NAME), "wx", 0o600);
        try {
          await fh.writeFile(content);
        } finally {
          await fh.close();
        }
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (attempt < 2 && (await lockIsStale())) {
          await fs.rm(pathOf(LOCK_NAME), { force: true });
          continue;
        }
        throw new BusyError(
          `Another backup or import is running: ${await describeHolder()}. Try again when it has finished.`,
        );
      }
    }
    const heartbeat = setInterval(() => {
      const now = new Date();
      void fs.utimes(pathOf(LOCK_NAME), now, now).catch(() => {});
    }, LOCK_HEARTBEAT_MS);
    heartbeat.unref?.();
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        try {
          const holder = JSON.parse(await fs.readFile(pathOf(LOCK_NAME), "utf8")) as { token?: string };
          if (holder.token === token) await fs.rm(pathOf(LOCK_NAME), { force: true });
        } catch {
          // already gone
        }
      },
    };
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
        if (await lockIsStale()) {
          await fs.rm(p, { force: true });
          removed.push(e.name);
        }
        continue;
      }
      if (e.name.startsWith(".")) {
        const owner = tempOwner(e.name);
        let abandoned: boolean;
        if (owner && owner.host === hostTag) {
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
    tempPath: (ext) => pathOf(`${TEMP_PREFIX}${hostTag}.${process.pid}.${randomBytes(8).toString("hex")}${ext}`),
    place,
    list,
    get,
    pathOf,
    remove,
    setPinned,
    cleanup,
    lock,
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
