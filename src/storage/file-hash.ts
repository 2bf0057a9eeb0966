import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** A file's sha256 (hex) and size, as stored. */
export interface FileHash {
  sha256: string;
  size: number;
}

/** Reads a file once, in 256 KiB chunks, and hashes it. */
export async function hashFile(filePath: string): Promise<FileHash> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 256 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}
