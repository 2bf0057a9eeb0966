import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/** s3rver's built-in account (any other key is refused with InvalidAccessKeyId). */
export const S3RVER_KEY = "S3RVER";

export interface TestS3Server {
  endpoint: string;
  port: number;
  /** Folder s3rver keeps the objects in. */
  directory: string;
  bucket: string;
  /** The environment a Lifeboat needs to use this bucket. */
  env(prefix?: string): Record<string, string>;
  /** Stops listening (the objects stay on disk). */
  stop(): Promise<void>;
  /** Listens again on the same port with the same objects. */
  start(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver) on a free loopback port, with one empty
 * bucket, removed again by `stop()` + the temp folder cleanup of the caller.
 */
export async function startS3Server(bucket = "lifeboat-test"): Promise<TestS3Server> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-s3-"));
  let port = 0;
  let server: S3rver | null = null;
  const start = async () => {
    server = new S3rver({ port, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
    const info = (await server.run()) as { port: number };
    port = info.port;
  };
  await start();
  const handle: TestS3Server = {
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    directory,
    bucket,
    env: (prefix = "") => ({
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      BACKUP_S3_FORCE_PATH_STYLE: "true",
      BACKUP_S3_REGION: "us-east-1",
      BACKUP_S3_ACCESS_KEY_ID: S3RVER_KEY,
      BACKUP_S3_SECRET_ACCESS_KEY: S3RVER_KEY,
      ...(prefix ? { BACKUP_S3_PREFIX: prefix } : {}),
    }),
    async stop() {
      const s = server;
      server = null;
      await s?.close();
    },
    start,
  };
  return handle;
}

/** Stops the server and removes its objects. */
export async function destroyS3Server(s: TestS3Server): Promise<void> {
  await s.stop();
  await fs.rm(s.directory, { recursive: true, force: true });
}
