import fs from "node:fs/promises";
import { AwsClient } from "aws4fetch";
import type { XMLParser } from "fast-xml-parser";
import { OffsiteError } from "../errors.ts";

/**
 * An S3-compatible bucket (AWS S3, MinIO, R2, B2, Garage …) spoken to with
 * `aws4fetch`: SigV4-signed `fetch`, so the same code runs on Node and Deno
 * and response bodies stream as web streams. Only the handful of S3 calls a
 * backup needs: put (one request, or multipart part by part), head, get,
 * list, delete. Knows nothing of backups: keys are names under the prefix.
 */

/** Where the bucket is and who we are there. */
export interface S3Settings {
  bucket: string;
  /** Key prefix, e.g. `lifeboat/` (normalised to end in `/`, or empty). */
  prefix: string;
  region: string;
  /** Base URL of a non-AWS service; AWS's regional endpoint otherwise. */
  endpoint: string | undefined;
  /** `bucket` in the path (`https://host/bucket/key`) instead of the host name. */
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
}

/** One object as the listing shows it. `name` is the key without the prefix. */
interface S3Object {
  name: string;
  size: number;
  etag: string;
  lastModified: string;
}

interface S3PutOptions {
  /** `x-amz-meta-*` values (ASCII). */
  metadata?: Record<string, string>;
  contentType?: string;
}

export interface S3StoreOptions {
  /** Bytes per multipart part (S3's minimum is 5 MiB except for the last part). Default 8 MiB. */
  partBytes?: number;
  /** Attempts per request for network errors and 5xx/429 answers (default 3). */
  attempts?: number;
  /** Delay before the first retry of a request; doubles each time (default 500 ms). */
  retryDelayMs?: number;
  /** Test seam: the `fetch` to sign and send with. */
  fetch?: typeof fetch;
}

/** The bucket as the off-site copy uses it. */
export interface S3Store {
  /** `s3://bucket/prefix` — for logs and the status; holds no secret. */
  readonly location: string;
  /** One cheap signed call that needs the credentials and the bucket; throws a readable `OffsiteError`. */
  check(): Promise<void>;
  /** Every object under the prefix (all pages). */
  list(): Promise<S3Object[]>;
  /** Size, ETag and metadata of one object, or null when it is not there. */
  head(name: string): Promise<{ size: number; etag: string; metadata: Record<string, string> } | null>;
  /** Uploads a file, in one request up to one part's size, multipart above (one part in memory at a time). */
  putFile(name: string, filePath: string, options?: S3PutOptions): Promise<{ etag: string; parts: number }>;
  /** Uploads a small body in one request. */
  putBytes(name: string, bytes: Uint8Array, options?: S3PutOptions): Promise<void>;
  /** Streams an object; `NotFound` becomes null. */
  get(name: string): Promise<{ size: number; metadata: Record<string, string>; stream: ReadableStream<Uint8Array> } | null>;
  /** Deletes an object (absent is fine). */
  remove(name: string): Promise<void>;
}

const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
const MIN_PART_BYTES = 5 * 1024 * 1024;
let xml: Promise<XMLParser> | undefined;
/**
 * Parses an S3 XML body. `fast-xml-parser` (with its dependencies ~280 KB of
 * JavaScript) is loaded on the first answer to parse, not at start: a server
 * without BACKUP_S3_BUCKET never needs it, and idles with less memory.
 */
async function parseXml(text: string): Promise<unknown> {
  xml ??= import("fast-xml-parser").then(
    ({ XMLParser }) => new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === "Contents" }),
  );
  return (await xml).parse(text);
}

/** Codes that mean the credentials or their rights are wrong: retrying cannot help. */
const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "InvalidToken",
  "ExpiredToken",
  "AuthorizationHeaderMalformed",
  "InvalidSecurity",
]);

/** Normalises a prefix to `a/b/` (or empty). */
function normalisePrefix(prefix: string | undefined): string {
  const p = (prefix ?? "").replace(/^\/+/, "").replace(/\/+$/, "");
  return p ? `${p}/` : "";
}

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** Builds the client for a bucket. Sends nothing until a method is called. */
export function createS3Store(settings: S3Settings, options: S3StoreOptions = {}): S3Store {
  const partBytes = Math.max(options.partBytes ?? DEFAULT_PART_BYTES, MIN_PART_BYTES);
  const attempts = Math.max(1, options.attempts ?? 3);
  const retryDelayMs = options.retryDelayMs ?? 500;
  const aws = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
    service: "s3",
    region: settings.region,
    retries: 0, // retries are ours (below), so a dead server costs a known, short time
  });
  const doFetch = options.fetch ?? fetch;
  const prefix = normalisePrefix(settings.prefix);
  const base = new URL(settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`);
  const basePath = base.pathname.replace(/\/+$/, "");
  const bucketUrl = settings.forcePathStyle
    ? `${base.protocol}//${base.host}${basePath}/${encodeURIComponent(settings.bucket)}`
    : `${base.protocol}//${settings.bucket}.${base.host}${basePath}`;
  const host = base.host;
  const location = `s3://${settings.bucket}/${prefix}`;

  const urlOf = (name: string, query = "") => `${bucketUrl}/${encodeKey(prefix + name)}${query}`;

  /** Reads an S3 error body into an `OffsiteError` with a sentence a person can act on. */
  async function failure(res: Response, what: string): Promise<OffsiteError> {
    let code = `HTTP${res.status}`;
    let message = res.statusText;
    try {
      const text = await res.text();
      const parsed = text ? ((await parseXml(text)) as { Error?: { Code?: string; Message?: string } }) : {};
      if (parsed.Error?.Code) code = String(parsed.Error.Code);
      if (parsed.Error?.Message) message = String(parsed.Error.Message);
    } catch {
      // not XML (a proxy's page): keep the status line
    }
    if (CREDENTIAL_CODES.has(code) || res.status === 403) {
      return new OffsiteError(
        `${location} refused the credentials while trying to ${what} (${code}: ${message}). Check BACKUP_S3_ACCESS_KEY_ID / BACKUP_S3_SECRET_ACCESS_KEY and the key's rights on the bucket.`,
        { permanent: true, s3Code: code },
      );
    }
    if (code === "NoSuchBucket") {
      return new OffsiteError(`The bucket ${settings.bucket} does not exist at ${host} (check BACKUP_S3_BUCKET and BACKUP_S3_ENDPOINT).`, {
        permanent: true,
        s3Code: code,
      });
    }
    return new OffsiteError(`${location}: could not ${what} (${code}: ${message}).`, {
      permanent: res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408,
      s3Code: code,
    });
  }

  /**
   * One signed request, retried on network errors and 5xx/429. `body` must be
   * replayable (bytes), so a retry resends the same part.
   */
  async function send(
    method: string,
    url: string,
    what: string,
    init: { body?: Uint8Array | string; headers?: Record<string, string>; okStatuses?: number[] } = {},
  ): Promise<Response> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let res: Response;
      try {
        const signed = await aws.sign(url, {
          method,
          headers: init.headers ?? {},
          ...(init.body !== undefined ? { body: init.body as BodyInit } : {}),
        });
        res = await doFetch(signed);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
        lastError = new OffsiteError(`Could not reach ${host} to ${what} (${detail}).`, { permanent: false, cause: err });
        if (attempt < attempts) await sleep(retryDelayMs * 2 ** (attempt - 1));
        continue;
      }
      if (res.ok || init.okStatuses?.includes(res.status)) return res;
      const error = await failure(res, what);
      if (error.permanent || attempt === attempts) throw error;
      lastError = error;
      await sleep(retryDelayMs * 2 ** (attempt - 1));
    }
    throw lastError;
  }

  const metaHeaders = (o?: S3PutOptions): Record<string, string> => {
    const h: Record<string, string> = { "content-type": o?.contentType ?? "application/octet-stream" };
    for (const [k, v] of Object.entries(o?.metadata ?? {})) h[`x-amz-meta-${k.toLowerCase()}`] = v;
    return h;
  };

  const metadataOf = (headers: Headers): Record<string, string> => {
    const out: Record<string, string> = {};
    headers.forEach((value, key) => {
      if (key.toLowerCase().startsWith("x-amz-meta-")) out[key.slice("x-amz-meta-".length).toLowerCase()] = value;
    });
    return out;
  };

  async function putBytes(name: string, bytes: Uint8Array, options?: S3PutOptions): Promise<void> {
    const res = await send("PUT", urlOf(name), `upload ${name}`, { body: bytes, headers: metaHeaders(options) });
    await res.body?.cancel();
  }

  /** Reads up to `buffer.length` bytes at the handle's position; fewer only at the end of the file. */
  async function readPart(fh: fs.FileHandle, buffer: Uint8Array): Promise<Uint8Array> {
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await fh.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  async function putFile(name: string, filePath: string, options?: S3PutOptions): Promise<{ etag: string; parts: number }> {
    const fh = await fs.open(filePath, "r");
    try {
      const size = (await fh.stat()).size;
      if (size <= partBytes) {
        const bytes = await readPart(fh, new Uint8Array(size));
        const res = await send("PUT", urlOf(name), `upload ${name}`, { body: bytes, headers: metaHeaders(options) });
        await res.body?.cancel();
        return { etag: res.headers.get("etag") ?? "", parts: 1 };
      }
      // Multipart: one buffer reused for every part, so memory stays at one part whatever the size.
      const created = await send("POST", urlOf(name, "?uploads"), `start a multipart upload of ${name}`, { headers: metaHeaders(options) });
      const uploadId = String(((await parseXml(await created.text())) as { InitiateMultipartUploadResult?: { UploadId?: string } })
        .InitiateMultipartUploadResult?.UploadId ?? "");
      if (!uploadId) throw new OffsiteError(`${location}: the multipart upload of ${name} got no upload id.`, { permanent: false });
      const q = `uploadId=${encodeURIComponent(uploadId)}`;
      try {
        const etags: string[] = [];
        const buffer = new Uint8Array(partBytes);
        for (let part = 1; ; part++) {
          const bytes = await readPart(fh, buffer);
          if (bytes.length === 0) break;
          const res = await send("PUT", urlOf(name, `?partNumber=${part}&${q}`), `upload part ${part} of ${name}`, { body: bytes });
          await res.body?.cancel();
          etags.push(res.headers.get("etag") ?? "");
          if (bytes.length < partBytes) break;
        }
        const body =
          `<CompleteMultipartUpload>` +
          etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join("") +
          `</CompleteMultipartUpload>`;
        const done = await send("POST", urlOf(name, `?${q}`), `complete the upload of ${name}`, {
          body,
          headers: { "content-type": "application/xml" },
        });
        const text = await done.text();
        // S3 may answer 200 with an <Error> body when completing fails late.
        const parsed = (await parseXml(text)) as { Error?: { Code?: string; Message?: string }; CompleteMultipartUploadResult?: { ETag?: string } };
        if (parsed.Error) {
          throw new OffsiteError(`${location}: could not complete the upload of ${name} (${parsed.Error.Code}: ${parsed.Error.Message}).`, {
            permanent: false,
          });
        }
        return { etag: String(parsed.CompleteMultipartUploadResult?.ETag ?? ""), parts: etags.length };
      } catch (err) {
        // Parts of an abandoned upload are billed until aborted.
        await send("DELETE", urlOf(name, `?${q}`), `abort the upload of ${name}`, { okStatuses: [404] })
          .then((r) => r.body?.cancel())
          .catch(() => {});
        throw err;
      }
    } finally {
      await fh.close();
    }
  }

  async function head(name: string) {
    const res = await send("HEAD", urlOf(name), `look up ${name}`, { okStatuses: [404] });
    if (res.status === 404) return null;
    return { size: Number(res.headers.get("content-length") ?? 0), etag: res.headers.get("etag") ?? "", metadata: metadataOf(res.headers) };
  }

  async function get(name: string) {
    const res = await send("GET", urlOf(name), `download ${name}`, { okStatuses: [404] });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.body) throw new OffsiteError(`${location}: ${name} came back without a body.`, { permanent: false });
    return { size: Number(res.headers.get("content-length") ?? 0), metadata: metadataOf(res.headers), stream: res.body };
  }

  async function list(): Promise<S3Object[]> {
    const out: S3Object[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ "list-type": "2", prefix });
      if (token) q.set("continuation-token", token);
      const res = await send("GET", `${bucketUrl}/?${q.toString()}`, "list the bucket");
      const parsed = (await parseXml(await res.text())) as {
        ListBucketResult?: {
          Contents?: { Key: string; Size: string; ETag?: string; LastModified?: string }[];
          IsTruncated?: string;
          NextContinuationToken?: string;
        };
      };
      const r = parsed.ListBucketResult ?? {};
      for (const c of r.Contents ?? []) {
        const key = String(c.Key);
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length);
        if (!name || name.includes("/")) continue; // only our level, not sub-folders
        out.push({ name, size: Number(c.Size), etag: String(c.ETag ?? ""), lastModified: String(c.LastModified ?? "") });
      }
      token = r.IsTruncated === "true" && r.NextContinuationToken ? String(r.NextContinuationToken) : undefined;
    } while (token);
    return out;
  }

  async function check(): Promise<void> {
    const q = new URLSearchParams({ "list-type": "2", prefix, "max-keys": "1" });
    const res = await send("GET", `${bucketUrl}/?${q.toString()}`, "list the bucket");
    await res.body?.cancel();
  }

  async function remove(name: string): Promise<void> {
    const res = await send("DELETE", urlOf(name), `delete ${name}`, { okStatuses: [404] });
    await res.body?.cancel();
  }

  return { location, check, list, head, putFile, putBytes, get, remove };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
