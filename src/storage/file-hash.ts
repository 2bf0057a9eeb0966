import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** A file's sha256 (hex) and size, as stored. */
export interface FileHash {
  sha256: string;
  size: number;
}

/** sha256 and size of a stream's bytes, as it is read. */
export async function hashStream(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Promise<FileHash> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

/** Reads a file once, in 256 KiB chunks, and hashes it. */
export function hashFile(filePath: string): Promise<FileHash> {
  return hashStream(createReadStream(filePath, { highWaterMark: 256 * 1024 }));
}
