import type fs from "node:fs/promises";

export interface FileStreamOptions {
  /** Bytes read per chunk. */
  chunkBytes: number;
  /** Chunks read ahead of the consumer (0: read only on demand). */
  highWaterMark?: number;
  /** Close the handle at the end, on an error, or when the reader cancels. Otherwise the caller closes it. */
  closeHandle?: boolean;
  /** Sees every chunk before it goes on (e.g. to hash the bytes as stored). */
  tap?: (chunk: Uint8Array) => void;
}

/**
 * Streams an open file from its current position in fixed-size chunks. One
 * helper for downloads, the dump reader and the import's checking pass, so the
 * close-once and error handling live in one place.
 */
export function fileHandleStream(fh: fs.FileHandle, options: FileStreamOptions): ReadableStream<Uint8Array> {
  let closed = false;
  const close = async () => {
    if (options.closeHandle && !closed) {
      closed = true;
      await fh.close().catch(() => {});
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const buffer = new Uint8Array(options.chunkBytes);
          const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) {
            await close();
            controller.close();
            return;
          }
          const chunk = buffer.subarray(0, bytesRead);
          options.tap?.(chunk);
          controller.enqueue(chunk);
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      cancel: close,
    },
    { highWaterMark: options.highWaterMark ?? 0 },
  );
}
