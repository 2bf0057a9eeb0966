import { createHash } from "node:crypto";
import { newestFirst } from "../storage/names.ts";
import { hashFile, hashStream } from "../storage/file-hash.ts";
import { sidecarOf } from "../storage/sidecar.ts";
import fs from "node:fs/promises";
import type { Clock, TimerHandle, Timers } from "../clock.ts";
import { InvalidBackupError, NotFoundError, OffsiteError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { S3Store } from "../storage/s3.ts";
import { BACKUP_TRIGGERS, type BackupMeta, type BackupTrigger, type OffsiteCopyResult, type OffsiteCopyState } from "./types.ts";

/**
 * The off-site copy: every backup written here is uploaded to the bucket as
 * `<prefix><name>` (the file's bytes, with its sha256 and metadata as
 * `x-amz-meta-*`) plus `<prefix><name>.json` (its sidecar), then read back and
 * checked. Uploads run in the background one at a time, never holding up a
 * backup; a failed one is retried with back-off until it succeeds. The bucket
 * is the list every instance sharing it sees.
 */

/** What the off-site copy needs from the local backup folder. */
interface LocalBackups {
  list(): Promise<BackupMeta[]>;
  get(name: string): Promise<BackupMeta>;
  pathOf(name: string): string;
  /** A fresh temp path in the folder (for a download on its way in). */
  tempPath(ext: string): string;
  /** Records in the sidecar that the backup is off-site (so a restart does not upload it again). */
  markOffsite(name: string, at: Date): Promise<void>;
  /** Places a downloaded, checked file under its own name with the metadata it had off-site. */
  adopt(tempPath: string, meta: BackupMeta, offsiteAt: Date): Promise<BackupMeta>;
}

export interface OffsiteOptions {
  store: S3Store;
  local: LocalBackups;
  logger: Logger;
  clock: Clock;
  timers: Timers;
  /** Waits between attempts of one upload; the last one repeats (default 10 s, 30 s, 1 min, 5 min, 15 min). */
  retryDelaysMs?: readonly number[];
  /** How long a listing of the bucket is reused (default 5 s). */
  listCacheMs?: number;
  /** Called once per upload attempt that failed, and once when a failed upload finally succeeds. */
  onCopyResult?: (result: OffsiteCopyResult) => void;
}

/** The off-site part of `GET /api/backups/status`. */
export interface OffsiteStatus {
  /** `s3://bucket/prefix/` — no secret. */
  location: string;
  /** False when the last call to the bucket failed; `error` says why. */
  reachable: boolean;
  error: string | null;
  /** ISO time the bucket last answered. */
  lastContactAt: string | null;
  /** Backups waiting to go off-site (or being uploaded, or failing), oldest first. */
  pending: { name: string; state: OffsiteCopyState["state"]; attempts: number; error: string | null; nextAttemptAt: string | null }[];
  /** The last finished upload. */
  lastUpload: { name: string; at: string; ok: boolean; error: string | null } | null;
}

/** One backup in the bucket, with what its sidecar says. */
type RemoteBackup = BackupMeta;

export interface Offsite {
  readonly location: string;
  /** Checks the bucket and credentials (a readable error in the log and status), then queues every local backup not yet off-site. */
  start(): Promise<void>;
  /** Queues a backup just written here for upload. */
  enqueue(name: string): void;
  /** The upload state of a backup not yet off-site, or null. */
  pendingOf(name: string): OffsiteCopyState | null;
  /** The backups in the bucket (cached for a few seconds). Throws `OffsiteError` when the bucket cannot be listed. */
  list(options?: { fresh?: boolean }): Promise<RemoteBackup[]>;
  /** One backup in the bucket, or `NotFoundError`. */
  get(name: string): Promise<RemoteBackup>;
  /** Streams a backup from the bucket; the stream fails at its end when the bytes do not match the recorded sha256. */
  open(name: string): Promise<{ meta: RemoteBackup; stream: ReadableStream<Uint8Array> }>;
  /**
   * Writes a backup from the bucket into a new file (streamed). With `check`
   * (default) it fails when the bytes differ from the recorded sha256; the
   * file is then the caller's to remove.
   */
  download(name: string, filePath: string, options?: { check?: boolean }): Promise<RemoteBackup>;
  /** Downloads a backup into the local folder under its name (streamed, sha256 checked before it is placed). */
  fetchToLocal(name: string): Promise<BackupMeta>;
  /** Deletes the off-site copy (file and sidecar). */
  remove(name: string): Promise<void>;
  /** Pins or unpins the off-site copy (its sidecar in the bucket). */
  setPinned(name: string, pinned: boolean): Promise<void>;
  status(): OffsiteStatus;
  /** A backup this process knows to have failed every upload so far (the credentials, for one), for /readyz. */
  readonly permanentError: string | null;
  /** Resolves when nothing is uploading or queued for right now (tests). */
  idle(): Promise<void>;
  /** Stops the retry timer and waits (at most `waitMs`) for the upload in progress. Queued uploads resume at the next start. */
  close(waitMs?: number): Promise<void>;
}

const SIDECAR = ".json";
const DEFAULT_DELAYS = [10_000, 30_000, 60_000, 5 * 60_000, 15 * 60_000];

/** The sidecar object kept beside each backup in the bucket. */
interface RemoteSidecar {
  format: 1;
  size: number;
  createdAt: string;
  trigger: BackupMeta["trigger"];
  actor: string | null;
  sha256: string | null;
  rowCounts: Record<string, number> | null;
  pinned: boolean;
  periodKey: string | null;
  /** Why Lifeboat's import would refuse it (see `BackupMeta.restoreProblems`); absent when it would not. */
  restoreProblems?: string[];
  uploadedAt: string;
}

function toRemoteSidecar(meta: BackupMeta, uploadedAt: string): RemoteSidecar {
  // The local sidecar's fields, less what only this folder knows (the kind is found again by a check).
  const { kind: _kind, ...common } = sidecarOf(meta);
  return { ...common, uploadedAt };
}

function parseRemoteSidecar(text: string): RemoteSidecar | null {
  try {
    const s = JSON.parse(text) as Partial<RemoteSidecar>;
    if (s.format !== 1 || typeof s.size !== "number" || typeof s.createdAt !== "string" || Number.isNaN(Date.parse(s.createdAt))) return null;
    const trigger = (BACKUP_TRIGGERS as readonly string[]).includes(String(s.trigger)) ? (s.trigger as BackupTrigger) : "unknown";
    return {
      format: 1,
      size: s.size,
      createdAt: s.createdAt,
      trigger,
      actor: typeof s.actor === "string" ? s.actor : null,
      sha256: typeof s.sha256 === "string" && /^[0-9a-f]{64}$/.test(s.sha256) ? s.sha256 : null,
      rowCounts: s.rowCounts && typeof s.rowCounts === "object" ? (s.rowCounts as Record<string, number>) : null,
      pinned: s.pinned === true,
      periodKey: typeof s.periodKey === "string" ? s.periodKey : null,
      ...(Array.isArray(s.restoreProblems) && s.restoreProblems.every((p) => typeof p === "string") && s.restoreProblems.length
        ? { restoreProblems: s.restoreProblems }
        : {}),
      uploadedAt: typeof s.uploadedAt === "string" ? s.uploadedAt : s.createdAt,
    };
  } catch {
    return null;
  }
}

async function readText(stream: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) {
    size += c.byteLength;
    if (size > limit) throw new Error("sidecar too large");
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const isBackupName = (name: string) => /\.sql(\.gz)?(\.age)?$/.test(name);

/** Builds the off-site copy. Sends nothing and arms no timer until `start()` or `enqueue()`. */
export function createOffsite(options: OffsiteOptions): Offsite {
  const { store, local, logger, clock, timers } = options;
  const delays = options.retryDelaysMs?.length ? options.retryDelaysMs : DEFAULT_DELAYS;
  const listCacheMs = options.listCacheMs ?? 5000;
  const log = logger.child({ offsite: store.location });

  interface Job {
    name: string;
    state: OffsiteCopyState["state"];
    attempts: number;
    error: string | null;
    permanent: boolean;
    nextAt: number;
  }
  const queue = new Map<string, Job>();
  let timer: TimerHandle | null = null;
  let timerAt = Infinity;
  /** Jobs due at or before this are run even if the injected clock has not moved that far (the timer fired). */
  let dueMark = -Infinity;
  const nowMs = () => Math.max(clock.now().getTime(), dueMark);
  let running: Promise<void> | null = null;
  let closed = false;
  let reachable = true;
  let lastError: string | null = null;
  let permanentError: string | null = null;
  let lastContactAt: string | null = null;
  let lastUpload: OffsiteStatus["lastUpload"] = null;
  let cache: { at: number; list: RemoteBackup[] } | null = null;
  /** Sidecars by name and ETag: a backup's sidecar changes only when it is pinned. */
  const sidecars = new Map<string, { etag: string; sidecar: RemoteSidecar | null }>();

  const contact = () => {
    reachable = true;
    lastError = null;
    permanentError = null;
    lastContactAt = clock.now().toISOString();
  };
  const lost = (err: unknown) => {
    reachable = false;
    lastError = err instanceof Error ? err.message : String(err);
    permanentError = err instanceof OffsiteError && err.permanent ? lastError : null;
  };

  /** Calls the bucket, keeping `reachable`/`error` of the status true to the last answer. */
  async function talk<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      contact();
      return r;
    } catch (err) {
      if (err instanceof OffsiteError) lost(err);
      throw err;
    }
  }

  function schedule(): void {
    if (closed || running) return;
    const now = nowMs();
    const ready = [...queue.values()].filter((j) => j.state !== "uploading");
    if (ready.length === 0) return;
    const next = Math.min(...ready.map((j) => j.nextAt));
    if (next <= now) {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
      timerAt = Infinity;
      running = drain().finally(() => {
        running = null;
        schedule();
      });
      return;
    }
    if (timer !== null && timerAt <= next) return;
    if (timer !== null) timers.clearTimeout(timer);
    timerAt = next;
    timer = timers.setTimeout(() => {
      timer = null;
      dueMark = Math.max(dueMark, timerAt);
      timerAt = Infinity;
      schedule();
    }, next - now);
  }

  async function drain(): Promise<void> {
    for (;;) {
      if (closed) return;
      const now = nowMs();
      const job = [...queue.values()].filter((j) => j.nextAt <= now).sort((a, b) => a.nextAt - b.nextAt || (a.name < b.name ? -1 : 1))[0];
      if (!job) return;
      await uploadOne(job);
    }
  }

  async function uploadOne(job: Job): Promise<void> {
    job.state = "uploading";
    job.attempts++;
    let meta: BackupMeta;
    try {
      meta = await local.get(job.name);
    } catch (err) {
      if (err instanceof NotFoundError) {
        queue.delete(job.name); // deleted meanwhile: nothing to copy
        return;
      }
      throw err;
    }
    try {
      await copy(meta);
      queue.delete(job.name);
      const at = clock.now().toISOString();
      lastUpload = { name: job.name, at, ok: true, error: null };
      log.info("backup copied off-site", { name: job.name, size: meta.size, attempts: job.attempts });
      options.onCopyResult?.({ ok: true, name: job.name, trigger: meta.trigger, attempts: job.attempts, at });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof OffsiteError ? err.permanent : err instanceof InvalidBackupError;
      const delay = delays[Math.min(job.attempts - 1, delays.length - 1)]!;
      const now = new Date(nowMs());
      job.state = "failed";
      job.error = message;
      job.permanent = permanent;
      job.nextAt = now.getTime() + (permanent ? delays[delays.length - 1]! : delay);
      const nextAttemptAt = new Date(job.nextAt).toISOString();
      lastUpload = { name: job.name, at: now.toISOString(), ok: false, error: message };
      log.error("off-site copy failed; will retry", { name: job.name, attempt: job.attempts, error: message, nextAttemptAt });
      options.onCopyResult?.({
        ok: false,
        name: job.name,
        trigger: meta.trigger,
        attempts: job.attempts,
        at: now.toISOString(),
        error: message,
        permanent,
        nextAttemptAt,
      });
    }
  }

  /** Uploads one local backup, checks what arrived, and marks it off-site. */
  async function copy(meta: BackupMeta): Promise<void> {
    const filePath = local.pathOf(meta.name);
    // A hand-dropped file has no recorded checksum: take it now, from the bytes we send.
    const sha256 = meta.sha256 ?? (await hashFile(filePath)).sha256;
    const existing = await talk(() => store.head(meta.name));
    if (existing && existing.metadata.sha256 !== sha256) {
      throw new OffsiteError(
        `The bucket already holds a different ${meta.name} (another instance made a backup with the same name); this copy was not uploaded.`,
        { permanent: true },
      );
    }
    if (!existing) {
      const metadata: Record<string, string> = { sha256, trigger: meta.trigger, "created-at": meta.createdAt };
      if (meta.actor) metadata.actor = meta.actor;
      if (meta.periodKey) metadata["period-key"] = meta.periodKey;
      await talk(() => store.putFile(meta.name, filePath, { metadata, contentType: "application/octet-stream" }));
    }
    const uploadedAt = clock.now();
    const sidecar = toRemoteSidecar({ ...meta, sha256 }, uploadedAt.toISOString());
    await talk(() => store.putBytes(meta.name + SIDECAR, new TextEncoder().encode(JSON.stringify(sidecar, null, 2) + "\n"), { contentType: "application/json" }));
    // Read back what the bucket now holds and compare it with the file we have.
    const back = await talk(() => store.get(meta.name));
    if (!back) throw new OffsiteError(`${meta.name} is not in the bucket right after its upload.`, { permanent: false });
    const got = await hashStream(back.stream);
    if (got.sha256 !== sha256 || got.size !== meta.size) {
      throw new OffsiteError(
        `${meta.name} in the bucket does not match the local file after upload (sha256 ${got.sha256.slice(0, 12)}…, ${got.size} bytes; expected ${sha256.slice(0, 12)}…, ${meta.size} bytes).`,
        { permanent: false },
      );
    }
    await local.markOffsite(meta.name, uploadedAt);
    cache = null;
  }

  async function list(opts: { fresh?: boolean } = {}): Promise<RemoteBackup[]> {
    // Real time, not the injected clock: this is a cache of the bucket, not a domain time.
    const now = performance.now();
    if (!opts.fresh && cache && now - cache.at < listCacheMs) return cache.list;
    const objects = await talk(() => store.list());
    const etags = new Map(objects.map((o) => [o.name, o.etag]));
    const out: RemoteBackup[] = [];
    const wanted = objects.filter((o) => isBackupName(o.name));
    // Sidecars are fetched a few at a time, and only when their ETag changed since the last look.
    const fetchSidecar = async (name: string): Promise<RemoteSidecar | null> => {
      const etag = etags.get(name + SIDECAR);
      if (!etag) return null;
      const known = sidecars.get(name);
      if (known && known.etag === etag) return known.sidecar;
      const got = await talk(() => store.get(name + SIDECAR));
      const sidecar = got ? parseRemoteSidecar(await readText(got.stream, 1024 * 1024).catch(() => "")) : null;
      sidecars.set(name, { etag, sidecar });
      return sidecar;
    };
    for (let i = 0; i < wanted.length; i += 8) {
      const batch = wanted.slice(i, i + 8);
      const metas = await Promise.all(
        batch.map(async (o) => {
          const s = await fetchSidecar(o.name);
          const meta: RemoteBackup = {
            name: o.name,
            createdAt: s ? new Date(s.createdAt).toISOString() : new Date(o.lastModified || 0).toISOString(),
            size: o.size,
            trigger: s?.trigger ?? "unknown",
            actor: s?.actor ?? null,
            sha256: s?.sha256 ?? null,
            compressed: /\.gz(\.age)?$/.test(o.name),
            encrypted: o.name.endsWith(".age"),
            rowCounts: s?.rowCounts ?? null,
            pinned: s?.pinned ?? false,
            periodKey: s?.periodKey ?? null,
            ...(s?.restoreProblems ? { restoreProblems: s.restoreProblems } : {}),
          };
          return meta;
        }),
      );
      out.push(...metas);
    }
    out.sort(newestFirst);
    cache = { at: now, list: out };
    return out;
  }

  async function get(name: string): Promise<RemoteBackup> {
    const found = (await list()).find((b) => b.name === name) ?? (await list({ fresh: true })).find((b) => b.name === name);
    if (!found) throw new NotFoundError(`There is no backup named ${name}.`);
    return found;
  }

  /** Wraps a download so that it errors at the end when the bytes differ from the recorded sha256. */
  function checked(stream: ReadableStream<Uint8Array>, meta: RemoteBackup): ReadableStream<Uint8Array> {
    const hash = createHash("sha256");
    let size = 0;
    return stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          hash.update(chunk);
          size += chunk.byteLength;
          controller.enqueue(chunk);
        },
        flush(controller) {
          const sha256 = hash.digest("hex");
          if ((meta.sha256 && sha256 !== meta.sha256) || size !== meta.size) {
            log.error("off-site backup does not match its checksum", { name: meta.name, expected: meta.sha256, got: sha256, size });
            controller.error(
              new InvalidBackupError(`${meta.name} in the bucket does not match its recorded sha256 (the copy is damaged); nothing was kept.`),
            );
          }
        },
      }),
    );
  }

  async function open(name: string) {
    const meta = await get(name);
    const got = await talk(() => store.get(name));
    if (!got) throw new NotFoundError(`There is no backup named ${name}.`);
    return { meta, stream: checked(got.stream, meta) };
  }

  async function download(name: string, filePath: string, opts: { check?: boolean } = {}): Promise<RemoteBackup> {
    const meta = await get(name);
    const got = await talk(() => store.get(name));
    if (!got) throw new NotFoundError(`There is no backup named ${name}.`);
    const stream = opts.check === false ? got.stream : checked(got.stream, meta);
    const fh = await fs.open(filePath, "wx", 0o600);
    try {
      for await (const c of stream as unknown as AsyncIterable<Uint8Array>) {
        let off = 0;
        while (off < c.byteLength) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    return meta;
  }

  async function fetchToLocal(name: string): Promise<BackupMeta> {
    const temp = local.tempPath(".download");
    try {
      const meta = await download(name, temp);
      const placed = await local.adopt(temp, meta, clock.now());
      log.info("backup fetched from off-site", { name, size: meta.size });
      return placed;
    } finally {
      await fs.rm(temp, { force: true }).catch(() => {});
    }
  }

  async function remove(name: string): Promise<void> {
    await talk(() => store.remove(name));
    await talk(() => store.remove(name + SIDECAR));
    sidecars.delete(name);
    cache = null;
    log.info("off-site backup deleted", { name });
  }

  async function setPinned(name: string, pinned: boolean): Promise<void> {
    const meta = await get(name);
    const known = sidecars.get(name)?.sidecar;
    const sidecar = { ...(known ?? toRemoteSidecar(meta, clock.now().toISOString())), pinned };
    await talk(() => store.putBytes(name + SIDECAR, new TextEncoder().encode(JSON.stringify(sidecar, null, 2) + "\n"), { contentType: "application/json" }));
    cache = null;
  }

  function enqueue(name: string): void {
    if (closed) return;
    if (!queue.has(name)) {
      queue.set(name, { name, state: "waiting", attempts: 0, error: null, permanent: false, nextAt: nowMs() });
    }
    schedule();
  }

  return {
    location: store.location,

    async start() {
      try {
        await talk(() => store.check());
        log.info("off-site storage ready");
      } catch (err) {
        log.error("off-site storage unavailable: backups stay local until it answers", { error: (err as Error).message });
      }
      const backups = await local.list();
      // Oldest first, so the history arrives in order.
      for (const b of [...backups].reverse()) if (!b.offsiteAt) enqueue(b.name);
    },

    enqueue,

    pendingOf(name) {
      const j = queue.get(name);
      if (!j) return null;
      return { state: j.state, attempts: j.attempts, error: j.error, nextAttemptAt: j.state === "failed" ? new Date(j.nextAt).toISOString() : null };
    },

    list,
    get,
    open,
    download,
    fetchToLocal,
    remove,
    setPinned,

    status() {
      return {
        location: store.location,
        reachable,
        error: lastError,
        lastContactAt,
        pending: [...queue.values()].map((j) => ({
          name: j.name,
          state: j.state,
          attempts: j.attempts,
          error: j.error,
          nextAttemptAt: j.state === "failed" ? new Date(j.nextAt).toISOString() : null,
        })),
        lastUpload,
      };
    },

    get permanentError() {
      return permanentError;
    },

    async idle() {
      while (running) await running;
    },

    async close(waitMs = 15_000) {
      closed = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
      if (running) {
        let handle: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([running, new Promise<void>((r) => (handle = setTimeout(r, waitMs)))]);
        clearTimeout(handle);
      }
    },
  };
}
