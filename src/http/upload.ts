import { randomUUID } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import busboy from "busboy";
import { InvalidBackupError, PayloadTooLargeError, ValidationError } from "../errors.ts";

/**
 * Name prefix of upload temp files when no `tempPath` is given. The engine's
 * storage treats every dot-file in the backup folder as work in progress: never
 * listed, removed at start once abandoned.
 *
 * @internal exported for its unit test; production code reaches it through `withUpload`.
 */
export const UPLOAD_TEMP_PREFIX = ".upload-";

/**
 * Room for the multipart framing around the file (boundaries, part headers, a
 * few small fields) when a Content-Length is compared with the file limit.
 */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** How many leading bytes of the file are handed to `checkStart`. */
const SNIFF_BYTES = 512;

export type UploadOptions = {
  /** Largest accepted file, in bytes (`MAX_UPLOAD_BYTES`). */
  maxBytes: number;
  /** Multipart field holding the file; `file` by default. */
  field?: string;
  /**
   * Looks at the first bytes (up to `SNIFF_BYTES`, fewer for a shorter file) and
   * throws to refuse the upload early, e.g. when it is neither SQL text nor gzip.
   */
  checkStart?: (firstBytes: Uint8Array) => void;
  /**
   * The error to throw when writing the temp file failed (called after it is
   * removed), e.g. a full disk told with the free space; by default the error
   * as it is. `declaredBytes`: the request's Content-Length, when sent.
   */
  writeFailed?: (err: unknown, declaredBytes: number | null) => Promise<unknown>;
} & (
  | {
      /**
       * Names the temp file. The routes pass the engine's own temp names (in
       * the backup folder, so it can rename the file into place), which its
       * start-up cleanup removes as soon as their process is gone.
       */
      tempPath: () => string | Promise<string>;
    }
  | {
      /** Folder for a temp file named `.upload-<uuid>`. */
      dir: string;
    }
);

export interface ReceivedUpload {
  /** Absolute path of the temp file in `dir`. The caller owns it (see `withUpload`). */
  path: string;
  size: number;
  /** Name the client gave the file; for logs only, never used for storage. */
  clientName: string | null;
}

const MULTIPART_RE = /^multipart\/form-data\s*;/i;

/**
 * Streams the `file` part of a multipart request into a new temp file in
 * `options.dir`, chunk by chunk with backpressure, never holding it in memory.
 *
 * Enforces `maxBytes` twice: up front from Content-Length (a body that cannot fit
 * is refused before a byte is read) and while streaming (chunked bodies, lying
 * lengths). Side effects: creates the temp file (mode 0600); on any failure the
 * temp file is removed before the error is thrown.
 *
 * @throws ValidationError (not multipart, no `file` field), PayloadTooLargeError,
 *   InvalidBackupError (empty file) or whatever `checkStart` throws.
 * @internal exported for its unit test; production code reaches it through `withUpload`.
 */
export async function receiveUpload(request: Request, options: UploadOptions): Promise<ReceivedUpload> {
  const field = options.field ?? "file";
  const contentType = request.headers.get("content-type") ?? "";
  if (!MULTIPART_RE.test(contentType)) {
    throw new ValidationError(`Send the backup as multipart/form-data with the file in a field named "${field}".`, field);
  }
  const bodyLimit = options.maxBytes + MULTIPART_OVERHEAD_BYTES;
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > bodyLimit) {
    await request.body?.cancel().catch(() => {});
    throw new PayloadTooLargeError(options.maxBytes);
  }
  if (!request.body) throw new ValidationError(`The request has no body; expected a file in the field "${field}".`, field);

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      // One byte over the limit so busboy flags only a file that is really too large.
      limits: { files: 1, fileSize: options.maxBytes + 1, fields: 20, fieldSize: 16 * 1024, parts: 30, headerPairs: 50 },
    });
  } catch (err) {
    // busboy refuses a multipart type without a usable boundary.
    throw new ValidationError(`The multipart body cannot be read: ${(err as Error).message}.`, field);
  }

  let failure: unknown;
  let signalFailure!: () => void;
  // Settles on the first failure, so no wait below (drain, close) can outlive it.
  const failed = new Promise<void>((resolve) => (signalFailure = resolve));
  const fail = (err: unknown) => {
    failure ??= err;
    signalFailure();
  };
  /** The file part; `path` is null until its temp name is known. */
  type FilePart = { path: string | null; clientName: string | null; done: Promise<number> };
  let part: FilePart | undefined;
  /** Errors of the temp file itself (not of the request), for `writeFailed`. */
  let writeError = false;

  parser.on("file", (name: string, stream: Readable, info: busboy.FileInfo) => {
    if (name !== field || part) {
      stream.resume(); // not ours: let it drain past
      return;
    }
    const current: FilePart = { path: null, clientName: info.filename ?? null, done: Promise.resolve(0) };
    current.done = (async () => {
      const target = "tempPath" in options ? await options.tempPath() : path.join(options.dir, `${UPLOAD_TEMP_PREFIX}${randomUUID()}`);
      current.path = target;
      return await writeFilePart(stream, target, options, () => (writeError = true));
    })();
    // A failed write stops the pump below; the part is drained so busboy can finish.
    current.done.catch((err: unknown) => {
      fail(err);
      stream.resume();
    });
    part = current;
  });
  // busboy reports malformed bodies (bad boundary, truncated part) as plain errors: the client's fault.
  parser.on("error", (err: Error) =>
    fail(new ValidationError(`The multipart body cannot be read (${err.message}); expected a file in the field "${field}".`, field)),
  );
  const closed = once(parser, "close").then(
    () => {},
    () => {},
  );

  const reader = request.body.getReader();
  let received = 0;
  try {
    for (;;) {
      if (failure) break;
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > bodyLimit) {
        fail(new PayloadTooLargeError(options.maxBytes));
        break;
      }
      if (!parser.write(value)) {
        await Promise.race([once(parser, "drain"), closed, failed]);
      }
    }
    if (!failure) {
      parser.end();
      await Promise.race([closed, failed]);
    }
    if (!failure && part) await part.done.catch(() => {});
  } catch (err) {
    fail(err);
  } finally {
    if (failure) {
      await reader.cancel().catch(() => {});
      parser.destroy();
    } else {
      reader.releaseLock();
    }
  }
  if (part) await part.done.catch(() => {});

  if (failure) {
    if (part?.path) await fs.rm(part.path, { force: true });
    const declaredBytes = declared !== null && /^\d+$/.test(declared.trim()) ? Number(declared) : null;
    throw writeError && options.writeFailed ? await options.writeFailed(failure, declaredBytes) : failure;
  }
  if (!part) throw new ValidationError(`The upload has no file in the field "${field}".`, field);
  const size = await part.done;
  return { path: part.path!, size, clientName: part.clientName };
}

/**
 * Receives an upload, hands the temp file to `use`, and removes whatever is
 * still at the temp path afterwards (the engine renames it when it keeps it),
 * whether `use` succeeded or threw.
 */
export async function withUpload<T>(
  request: Request,
  options: UploadOptions,
  use: (upload: ReceivedUpload) => Promise<T>,
): Promise<T> {
  const upload = await receiveUpload(request, options);
  try {
    return await use(upload);
  } finally {
    await fs.rm(upload.path, { force: true });
  }
}

/** Copies one file part to `target`, counting bytes and checking the first ones. */
async function writeFilePart(
  stream: Readable,
  target: string,
  options: UploadOptions,
  onFileError: () => void,
): Promise<number> {
  let limitHit = false;
  let streamError: unknown;
  stream.once("limit", () => (limitHit = true));
  // Listen at once: busboy can fail the part (truncated body) while the file is still being opened.
  stream.on("error", (err) => (streamError ??= err));
  const handle = await fs.open(target, "wx", 0o600).catch((err: unknown) => {
    onFileError();
    throw err;
  });
  let size = 0;
  let head: Uint8Array | null = new Uint8Array(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > options.maxBytes) throw new PayloadTooLargeError(options.maxBytes);
      if (head) {
        head = concat(head, chunk.subarray(0, SNIFF_BYTES - head.byteLength));
        if (head.byteLength >= SNIFF_BYTES) {
          options.checkStart?.(head);
          head = null;
        }
      }
      // A write may store only part of the chunk (a disk filling up): write the rest, which then fails with ENOSPC.
      for (let off = 0; off < chunk.byteLength; ) {
        const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off).catch((err: unknown) => {
          onFileError();
          throw err;
        });
        off += bytesWritten;
      }
    }
    if (streamError) throw streamError;
    // busboy stops a part at `fileSize` and flags it instead of failing the stream.
    if (limitHit || (stream as Readable & { truncated?: boolean }).truncated) {
      throw new PayloadTooLargeError(options.maxBytes);
    }
    if (size === 0) throw new InvalidBackupError("The uploaded file is empty.");
    if (head) options.checkStart?.(head);
    await handle.sync().catch((err: unknown) => {
      onFileError();
      throw err;
    });
  } catch (err) {
    if (err === streamError) {
      throw new ValidationError(`The upload ended before the file was complete (${(err as Error).message}).`, "file");
    }
    throw err;
  } finally {
    await handle.close();
  }
  return size;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
