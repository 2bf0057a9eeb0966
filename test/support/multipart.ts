/** Builds multipart/form-data bodies by hand, so tests control framing, length and streaming. */

export const BOUNDARY = "----lifeboat-test-boundary";
export const MULTIPART_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/** A multipart body with one file part (field `file` unless told otherwise). */
export function multipartBody(content: Uint8Array, options: { field?: string; filename?: string; type?: string } = {}): Uint8Array<ArrayBuffer> {
  const head = new TextEncoder().encode(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${options.field ?? "file"}"; filename="${options.filename ?? "dump.sql"}"\r\n` +
      `Content-Type: ${options.type ?? "application/octet-stream"}\r\n\r\n`,
  );
  const tail = new TextEncoder().encode(`\r\n--${BOUNDARY}--\r\n`);
  const out = new Uint8Array(head.length + content.length + tail.length);
  out.set(head, 0);
  out.set(content, head.length);
  out.set(tail, head.length + content.length);
  return out;
}

/** The body as a stream of 64 KiB chunks: no Content-Length, like a chunked upload. */
export function chunkedStream(body: Uint8Array, counter?: { pulled: number }): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter) counter.pulled++;
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.slice(offset, offset + 65536));
      offset += 65536;
    },
  });
}
