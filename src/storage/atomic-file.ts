import fs from "node:fs/promises";
import path from "node:path";
import { tempName } from "./names.ts";

/** fsync a directory so a rename or link in it survives a power cut (best effort where unsupported). */
export async function syncDir(dir: string): Promise<void> {
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
export async function writeFileAtomic(dir: string, target: string, data: string): Promise<void> {
  const temp = path.join(dir, tempName(".json", 6));
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
