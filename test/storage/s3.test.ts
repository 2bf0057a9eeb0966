import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OffsiteError } from "../../src/errors.ts";
import { createS3Store, type S3Settings } from "../../src/storage/s3.ts";
import { destroyS3Server, S3RVER_KEY, startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { tempDir } from "../support/temp.ts";

let server: TestS3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await destroyS3Server(server);
});

const settings = (over: Partial<S3Settings> = {}): S3Settings => ({
  bucket: server.bucket,
  prefix: "store-test/",
  region: "us-east-1",
  endpoint: server.endpoint,
  forcePathStyle: true,
  accessKeyId: S3RVER_KEY,
  secretAccessKey: S3RVER_KEY,
  sessionToken: undefined,
  ...over,
});

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

describe("S3 store against a real S3-compatible server", () => {
  it("uploads a small file in one request with its metadata, lists, downloads and deletes it", async () => {
    const store = createS3Store(settings());
    const dir = await tempDir();
    const file = path.join(dir, "a.sql");
    await fs.writeFile(file, "-- hello\n");
    const put = await store.putFile("a.sql", file, { metadata: { sha256: "abc", trigger: "manual" } });
    expect(put.parts).toBe(1);
    const listed = await store.list();
    expect(listed.map((o) => [o.name, o.size])).toContainEqual(["a.sql", 9]);
    const head = await store.head("a.sql");
    expect(head).toMatchObject({ size: 9, metadata: { sha256: "abc", trigger: "manual" } });
    const got = await store.get("a.sql");
    expect((await readAll(got!.stream)).toString()).toBe("-- hello\n");
    await store.remove("a.sql");
    expect(await store.head("a.sql")).toBeNull();
    expect(await store.get("a.sql")).toBeNull();
    expect((await store.list()).map((o) => o.name)).not.toContain("a.sql");
  });

  it("uploads a file larger than one part as a multipart upload, byte for byte", async () => {
    const store = createS3Store(settings({ prefix: "multi" }), { partBytes: 5 * 1024 * 1024 });
    const dir = await tempDir();
    const file = path.join(dir, "big.sql");
    const data = randomBytes(12 * 1024 * 1024 + 123);
    await fs.writeFile(file, data);
    const put = await store.putFile("big.sql", file, { metadata: { sha256: createHash("sha256").update(data).digest("hex") } });
    expect(put.parts).toBe(3);
    const got = await store.get("big.sql");
    expect(got!.size).toBe(data.length);
    expect(got!.metadata.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    expect((await readAll(got!.stream)).equals(data)).toBe(true);
    // The prefix keeps stores apart: another prefix does not see it, and `/multi/` is the same as `multi`.
    expect((await createS3Store(settings({ prefix: "/multi/" })).list()).map((o) => o.name)).toContain("big.sql");
    expect((await createS3Store(settings({ prefix: "other" })).list()).map((o) => o.name)).not.toContain("big.sql");
  });

  it("refuses wrong credentials with a sentence naming the variables, at once (no retries)", async () => {
    const store = createS3Store(settings({ accessKeyId: "WRONG", secretAccessKey: "nope" }), { attempts: 5, retryDelayMs: 60_000 });
    const err = await store.check().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OffsiteError);
    expect((err as OffsiteError).permanent).toBe(true);
    expect((err as Error).message).toMatch(/refused the credentials.*InvalidAccessKeyId.*BACKUP_S3_ACCESS_KEY_ID/);
    expect((err as Error).message).not.toContain("nope");
  });

  it("names a missing bucket", async () => {
    const err = await createS3Store(settings({ bucket: "no-such-bucket" })).check().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/bucket no-such-bucket does not exist/);
  });

  it("reports a server that is not there as temporary, and works again once it is back", async () => {
    const store = createS3Store(settings(), { attempts: 2, retryDelayMs: 1 });
    await server.stop();
    try {
      const err = await store.check().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OffsiteError);
      expect((err as OffsiteError).permanent).toBe(false);
      expect((err as Error).message).toMatch(/Could not reach 127\.0\.0\.1:\d+ to list the bucket/);
    } finally {
      await server.start();
    }
    await expect(store.check()).resolves.toBeUndefined();
  });

});
