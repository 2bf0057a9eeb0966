import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { BusyError } from "../errors.ts";
import type { BackupTrigger } from "../backups/types.ts";
import { HOST_TAG, processAlive } from "./names.ts";

/** The lock held while a backup or import runs, shared by every process using the folder. */
export const LOCK_NAME = ".lifeboat.lock";
/** The lock holder refreshes the lock's mtime this often… */
const LOCK_HEARTBEAT_MS = 30 * 1000;
/** …so a lock not refreshed for this long belongs to a process that is gone (on another host). */
const LOCK_STALE_MS = 5 * 60 * 1000;

/** A held lock; `release()` is idempotent. */
export interface StorageLock {
  release(): Promise<void>;
}

/** True when the lock file in `dir` belongs to a process that is gone (or is missing or unreadable and old). */
export async function lockIsStale(dir: string): Promise<boolean> {
  const lockPath = path.join(dir, LOCK_NAME);
  try {
    const st = await fs.lstat(lockPath);
    const holder = JSON.parse(await fs.readFile(lockPath, "utf8")) as { host?: string; pid?: number };
    if (holder.host === HOST_TAG && typeof holder.pid === "number") return !processAlive(holder.pid);
    return Date.now() - st.mtimeMs > LOCK_STALE_MS;
  } catch (err) {
    // Gone meanwhile (stale in effect), or unreadable garbage: judge by age.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
    try {
      const st = await fs.lstat(lockPath);
      return Date.now() - st.mtimeMs > LOCK_STALE_MS;
    } catch {
      return true;
    }
  }
}

async function describeHolder(lockPath: string): Promise<string> {
  try {
    const h = JSON.parse(await fs.readFile(lockPath, "utf8")) as {
      kind?: string;
      trigger?: string;
      pid?: number;
      host?: string;
      startedAt?: string;
    };
    const what = h.kind === "import" ? "an import" : `a${h.trigger ? ` ${h.trigger}` : ""} backup`;
    const where = h.host === HOST_TAG ? `process ${h.pid}` : `process ${h.pid} on ${h.host}`;
    return `${what} (${where}, since ${h.startedAt})`;
  } catch {
    return "another backup or import";
  }
}

/**
 * Takes the one-job lock of folder `dir` (an exclusively created file holding
 * who took it) or throws `BusyError` naming who holds it. A stale lock is
 * removed and taken over; the holder keeps the file's mtime fresh.
 */
export async function acquireLock(
  dir: string,
  what: { kind: "backup" | "import"; trigger?: BackupTrigger },
): Promise<StorageLock> {
  const lockPath = path.join(dir, LOCK_NAME);
  const token = randomBytes(8).toString("hex");
  const content = JSON.stringify({
    kind: what.kind,
    trigger: what.trigger ?? null,
    host: HOST_TAG,
    pid: process.pid,
    token,
    startedAt: new Date().toISOString(),
  });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await fs.open(lockPath, "wx", 0o600);
      try {
        await fh.writeFile(content);
      } catch (err) {
        // An empty lock file (a full disk) would block every later job until it went stale.
        await fh.close().catch(() => {});
        await fs.rm(lockPath, { force: true });
        throw err;
      } finally {
        await fh.close().catch(() => {});
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (attempt < 2 && (await lockIsStale(dir))) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      throw new BusyError(
        `Another backup or import is running: ${await describeHolder(lockPath)}. Try again when it has finished.`,
      );
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    void fs.utimes(lockPath, now, now).catch(() => {});
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref?.();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      try {
        const holder = JSON.parse(await fs.readFile(lockPath, "utf8")) as { token?: string };
        if (holder.token === token) await fs.rm(lockPath, { force: true });
      } catch {
        // already gone
      }
    },
  };
}
