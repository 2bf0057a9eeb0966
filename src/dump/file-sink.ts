import { once } from "node:events";
import fs from "node:fs/promises";
import zlib from "node:zlib";
import { encryptStream } from "./age-stream.ts";
import type { ByteSink } from "./writer.ts";

/** Bytes written between two flushes of a file being written (see `createFileSink`). */
const SYNC_EVERY_BYTES = 16 * 1024 * 1024;
/** Bytes queued for writing before `write` waits for the oldest (see `createFileSink`). */
const WRITE_AHEAD_BYTES = 4 * 1024 * 1024;
/** Size of one of the buffers a plain file sink copies its input into and writes from. */
const SLAB_BYTES = 256 * 1024;

/**
 * A new file being written: counts the bytes as stored, optionally gzipped
 * and/or age-encrypted. A plain one copies what it is given (`copies`).
 */
export interface FileSink extends ByteSink {
  readonly copies: boolean;
  /** Flushes, fsyncs and closes the file. Returns the size stored. */
  finish(): Promise<{ size: number }>;
  /** Closes and removes the file (after a failure). Never throws. */
  abort(): Promise<void>;
}

/**
 * Creates `filePath` (which must not exist: `wx`, mode 0600) and returns a sink
 * writing to it. With `gzip`, bytes go through node:zlib's gzip first; the size is that of the file as stored.
 * The sha256 is not taken here: the caller hashes the file as it grows, on another thread (`hashAsWritten`).
 * With `ageRecipients`, the (compressed) bytes are encrypted for them on the
 * way, so no plaintext byte reaches the disk.
 */
export async function createFileSink(filePath: string, options: { gzip: boolean; ageRecipients?: readonly string[] }): Promise<FileSink> {
  const fh = await fs.open(filePath, "wx", 0o600);
  let size = 0;
  let failed: unknown;
  let closed = false;

  // Writes run ahead of the caller: each is queued behind the one before and the
  // caller goes on (formatting the next page) until WRITE_AHEAD_BYTES are
  // queued, then waits for the oldest. Waiting for every write instead left
  // the export idle for each round trip to the I/O thread: 1.4 s of a 1 GB
  // backup's 11–13 s. A failed write fails every later one and is reported by
  // the next `write` or by `finish`.
  const queued: { done: Promise<void>; size: number }[] = [];
  let queuedBytes = 0;
  let last: Promise<void> = Promise.resolve();
  const writeAll = async (bytes: Uint8Array) => {
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
      off += bytesWritten;
    }
  };
  // Written data is flushed to disk every SYNC_EVERY_BYTES, in the background (at most one flush
  // in flight), rather than all at the final fsync: otherwise the kernel lets hundreds of MB of a
  // large backup pile up unwritten, and the application's own commits (each an fsync of its WAL)
  // wait behind them on the same disk.
  let unsynced = 0;
  let flushing: Promise<void> = Promise.resolve();
  const writeRaw = async (bytes: Uint8Array, whenWritten?: () => void) => {
    size += bytes.byteLength;
    const done = last.then(() => writeAll(bytes));
    done.then(whenWritten, (err: unknown) => {
      failed ??= err;
    });
    last = done;
    queued.push({ done, size: bytes.byteLength });
    queuedBytes += bytes.byteLength;
    while (queuedBytes > WRITE_AHEAD_BYTES) {
      const oldest = queued.shift()!;
      queuedBytes -= oldest.size;
      await oldest.done.catch(() => {});
      if (failed) throw failed;
    }
    unsynced += bytes.byteLength;
    if (unsynced >= SYNC_EVERY_BYTES) {
      unsynced = 0;
      await flushing;
      flushing = done.then(() => fh.datasync());
      flushing.catch((err: unknown) => {
        failed ??= err;
      });
    }
  };
  /** Every queued write and flush settled (errors are in `failed`). */
  const settled = async () => {
    await last.catch(() => {});
    await flushing.catch(() => {});
  };

  let write: (bytes: Uint8Array) => Promise<void>;
  let end: () => Promise<void>;
  const recipients = options.ageRecipients ?? [];
  // Plain: the file holds the writer's bytes as they are, copied into slabs (below).
  const plain = !options.gzip && recipients.length === 0;
  if (!plain) {
    // Plain bytes in, stored bytes out, with backpressure at every step: node:zlib's gzip (Node's
    // CompressionStream adapter took in far more than it had compressed, so memory grew with the
    // database), read only as fast as the file (or age) takes its output.
    let source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
    if (options.gzip) {
      const gz = zlib.createGzip();
      source = gz;
      write = async (bytes) => {
        if (gz.write(bytes)) return;
        try {
          await once(gz, "drain");
        } catch (err) {
          // The pump stopped (a full disk, say) and took the gzip stream down with it: its error is the one to report.
          await pump;
          throw err;
        }
      };
      end = async () => {
        gz.end();
        await pump;
      };
    } else {
      const input = new TransformStream<Uint8Array, Uint8Array>();
      const writer = input.writable.getWriter();
      source = input.readable;
      write = async (bytes) => {
        await writer.ready;
        // Not awaited one by one: `ready` above is the backpressure, the pump drains.
        writer.write(bytes).catch((err: unknown) => {
          failed ??= err;
        });
      };
      end = async () => {
        await writer.close();
        await pump;
      };
    }
    const output = recipients.length > 0 ? await encryptStream(webStreamOf(source), recipients) : source;
    const pump = (async () => {
      for await (const value of chunksOf(output)) {
        // Node 20 hands out ArrayBuffer views of various kinds; normalise.
        await writeRaw(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer));
      }
    })();
    pump.catch((err: unknown) => {
      failed ??= err;
    });
  } else {
    // A plain file: the input is copied into a few 256 KiB slabs, written from
    // there and reused once written, so the bytes in flight are always the same
    // ≤ 4.25 MB. Handing the writer's own buffers to the file instead made one
    // allocation per 256 KiB that lived until V8 collected it: a backup thread
    // peaked at ~15 MB of them, and glibc kept the high-water mark of its
    // arena after every backup (37 MB held, 0.6 MB in use).
    const free: Uint8Array[] = [];
    let slab: Uint8Array | null = null;
    let used = 0;
    const submit = async () => {
      const full = slab!;
      const n = used;
      slab = null;
      used = 0;
      await writeRaw(full.subarray(0, n), () => free.push(full));
    };
    write = async (bytes) => {
      let off = 0;
      while (off < bytes.byteLength) {
        if (!slab) slab = free.pop() ?? new Uint8Array(SLAB_BYTES);
        const n = Math.min(SLAB_BYTES - used, bytes.byteLength - off);
        slab.set(n === bytes.byteLength ? bytes : bytes.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === SLAB_BYTES) await submit();
      }
    };
    end = async () => {
      if (used > 0) await submit();
    };
  }

  return {
    copies: plain,
    async write(bytes) {
      if (failed) throw failed;
      await write(bytes);
    },
    async finish() {
      await end();
      await settled();
      if (failed) throw failed;
      await fh.sync();
      await fh.close();
      closed = true;
      return { size };
    },
    async abort() {
      await settled();
      if (!closed) {
        closed = true;
        await fh.close().catch(() => {});
      }
      await fs.rm(filePath, { force: true }).catch(() => {});
    },
  };
}

/** A web stream that pulls from `source` one chunk at a time (no read-ahead beyond what is asked for). */
function webStreamOf(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  if (source instanceof ReadableStream) return source;
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel(reason) {
        await it.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The chunks of a web stream or an async iterable, in order. */
async function* chunksOf(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (!(source instanceof ReadableStream)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}
