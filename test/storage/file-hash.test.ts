import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { hashAsWritten, hashFile } from "../../src/storage/file-hash.ts";
import { tempDir } from "../support/temp.ts";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Writes `pieces` to a new file one by one, pausing between them, as the backup worker does. */
async function slowWriter(file: string, pieces: Uint8Array[], options: { startAfterMs?: number; failAfter?: number } = {}): Promise<void> {
  await sleep(options.startAfterMs ?? 0);
  const fh = await fs.open(file, "wx");
  try {
    for (const [i, piece] of pieces.entries()) {
      if (i === options.failAfter) throw new Error("disk full");
      await fh.write(piece);
      await sleep(i % 3 === 0 ? 30 : 1);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

describe("hashAsWritten", () => {
  it("hashes every byte of a file that is still being written, including one that appears late", async () => {
    const dir = await tempDir();
    // Pieces larger and smaller than its 1 MiB reads.
    const pieces = [randomBytes(300_000), randomBytes(1_500_000), randomBytes(7), randomBytes(1024 * 1024), randomBytes(42_000)];
    const file = path.join(dir, "backup.sql");
    const written = slowWriter(file, pieces, { startAfterMs: 60 });
    const hashed = await hashAsWritten(file, written);
    const all = Buffer.concat(pieces);
    expect(hashed).toEqual({ sha256: sha256(all), size: all.byteLength });
    expect(sha256(await fs.readFile(file))).toBe(hashed.sha256);
  });

  it("ends when the writer fails, whether or not the file was made", async () => {
    const dir = await tempDir();
    const failed = slowWriter(path.join(dir, "a.sql"), [randomBytes(1000), randomBytes(1000), randomBytes(1000)], { failAfter: 2 });
    failed.catch(() => {});
    // What was written before the failure; the caller reports the writer's error and throws the file away.
    expect((await hashAsWritten(path.join(dir, "a.sql"), failed)).size).toBe(2000);

    const never = Promise.reject(new Error("no space left on device"));
    never.catch(() => {});
    await expect(hashAsWritten(path.join(dir, "never.sql"), never)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("hashFile", () => {
  it("hashes a finished file larger than its 1 MiB buffer, an empty one, and refuses a missing one", async () => {
    const dir = await tempDir();
    const big = randomBytes(2.5 * 1024 * 1024);
    await fs.writeFile(path.join(dir, "big"), big);
    await fs.writeFile(path.join(dir, "empty"), new Uint8Array(0));
    expect(await hashFile(path.join(dir, "big"))).toEqual({ sha256: sha256(big), size: big.byteLength });
    expect(await hashFile(path.join(dir, "empty"))).toEqual({ sha256: sha256(new Uint8Array(0)), size: 0 });
    await expect(hashFile(path.join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
