export interface ForwardOptions {
  /** Bytes already read from `reader`, handed on first. */
  head?: Uint8Array;
  /** Turns a read error into the error the consumer sees (default: as it is). */
  mapError?: (err: unknown) => unknown;
  /** Chunks read ahead of the consumer (default 0: only on demand). */
  highWaterMark?: number;
}

/**
 * A stream that hands on what `reader` reads, chunk by chunk, so a caller can
 * peek at the first bytes or give read errors its own type without buffering
 * anything. Cancelling it cancels `reader`.
 */
export function forwardStream(reader: ReadableStreamDefaultReader<Uint8Array>, options: ForwardOptions = {}): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (options.head && options.head.byteLength > 0) controller.enqueue(options.head);
      },
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          controller.error(options.mapError ? options.mapError(err) : err);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: options.highWaterMark ?? 0 },
  );
}
