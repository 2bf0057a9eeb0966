import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidBackupError, PayloadTooLargeError, ValidationError } from "../../src/errors.ts";
import { receiveUpload, UPLOAD_TEMP_PREFIX, withUpload } from "../../src/http/upload.ts";
import { BOUNDARY, chunkedStream, MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { expectSameBytes } from "../support/bytes.ts";
import { tempDir } from "../support/temp.ts";

/** A request with a multipart body streamed in chunks and no Content-Length. */
function chunkedRequest(body: Uint8Array, counter?: { pulled: number }): Request {
  return new Request("http://lifeboat.test/upload", {
    method: "POST",
    headers: { "Content-Type": MULTIPART_TYPE },
    body: chunkedStream(body, counter),
    duplex: "half",
  } as RequestInit);
}
const multipart = (content: Uint8Array) => multipartBody(content);

const sql = (n: number) => new TextEncoder().encode("-- dump\n" + "INSERT INTO t VALUES(1);\n".repeat(n));
const leftovers = async (dir: string) => (await fs.readdir(dir)).filter((f) => f.startsWith("."));

describe("receiveUpload", () => {
  it("streams the file part to a dot-named temp file in the folder, byte for byte", async () => {
    const dir = await tempDir();
    const content = sql(20_000); // ~500 KB, many chunks
    const form = new FormData();
    form.append("note", "ignored");
    form.append("file", new Blob([content]), "my.sql");
    const req = new Request("http://lifeboat.test/upload", { method: "POST", body: form });
    const up = await receiveUpload(req, { dir, maxBytes: 10 * 1024 * 1024 });
    expect(path.dirname(up.path)).toBe(dir);
    expect(path.basename(up.path).startsWith(UPLOAD_TEMP_PREFIX)).toBe(true);
    expect(up.size).toBe(content.length);
    expect(up.clientName).toBe("my.sql");
    expectSameBytes(await fs.readFile(up.path), content);
  });

  it("refuses a body that is not multipart, and one without a `file` field (400, no temp file)", async () => {
    const dir = await tempDir();
    const json = new Request("http://x/", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } });
    await expect(receiveUpload(json, { dir, maxBytes: 4096 })).rejects.toBeInstanceOf(ValidationError);
    const form = new FormData();
    form.append("other", new Blob([sql(1)]), "a.sql");
    const wrong = new Request("http://x/", { method: "POST", body: form });
    await expect(receiveUpload(wrong, { dir, maxBytes: 4096 })).rejects.toThrow(/no file in the field "file"/);
    const broken = new Request("http://x/", {
      method: "POST",
      body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc`,
      headers: { "Content-Type": `multipart/form-data; boundary=${BOUNDARY}` },
    });
    await expect(receiveUpload(broken, { dir, maxBytes: 4096 })).rejects.toBeInstanceOf(ValidationError);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it("refuses a too-large Content-Length before reading the body (413)", async () => {
    const dir = await tempDir();
    const counter = { pulled: 0 };
    const req = chunkedRequest(multipart(sql(100_000)), counter); // ~40 chunks
    req.headers.set("Content-Length", String(50 * 1024 * 1024));
    const err = await receiveUpload(req, { dir, maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(counter.pulled).toBeLessThanOrEqual(2); // the stream's own initial pulls at most; the body is not read
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it("counts bytes of a chunked body and stops at the limit (413, temp file removed)", async () => {
    const dir = await tempDir();
    const err = await receiveUpload(chunkedRequest(multipart(sql(200_000))), { dir, maxBytes: 1024 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(await leftovers(dir)).toEqual([]);
  });

  it("accepts a file of exactly the limit", async () => {
    const dir = await tempDir();
    const content = new Uint8Array(8192).fill(0x41);
    const up = await receiveUpload(chunkedRequest(multipart(content)), { dir, maxBytes: 8192 });
    expect(up.size).toBe(8192);
    const over = await receiveUpload(chunkedRequest(multipart(new Uint8Array(8193).fill(0x41))), { dir, maxBytes: 8192 }).catch(
      (e: unknown) => e,
    );
    expect(over).toBeInstanceOf(PayloadTooLargeError);
    expect((await leftovers(dir)).length).toBe(1); // only the accepted one
  });

  it("hands the first bytes to checkStart and removes the temp file when it refuses", async () => {
    const dir = await tempDir();
    const seen: number[] = [];
    const checkStart = (first: Uint8Array) => {
      seen.push(first.length);
      if (first[0] !== 0x2d) throw new InvalidBackupError("not a dump");
    };
    const ok = await receiveUpload(chunkedRequest(multipart(sql(1000))), { dir, maxBytes: 1 << 20, checkStart });
    expect(seen).toEqual([512]);
    await fs.rm(ok.path);
    const junk = new Uint8Array(300_000).fill(0xff);
    await expect(receiveUpload(chunkedRequest(multipart(junk)), { dir, maxBytes: 1 << 20, checkStart })).rejects.toThrow(
      "not a dump",
    );
    const tiny = new TextEncoder().encode("-- x\n");
    const small = await receiveUpload(chunkedRequest(multipart(tiny)), { dir, maxBytes: 1 << 20, checkStart });
    expect(seen.at(-1)).toBe(tiny.length);
    await fs.rm(small.path);
    await expect(receiveUpload(chunkedRequest(multipart(new Uint8Array(0))), { dir, maxBytes: 1 << 20 })).rejects.toThrow(
      /empty/,
    );
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe("withUpload", () => {
  it("removes the temp file after use, also when use throws", async () => {
    const dir = await tempDir();
    let seenPath = "";
    const size = await withUpload(chunkedRequest(multipart(sql(10))), { dir, maxBytes: 1 << 20 }, async (up) => {
      seenPath = up.path;
      await fs.access(up.path);
      return up.size;
    });
    expect(size).toBeGreaterThan(0);
    await expect(fs.access(seenPath)).rejects.toThrow();
    await expect(
      withUpload(chunkedRequest(multipart(sql(10))), { dir, maxBytes: 1 << 20 }, async () => {
        throw new Error("engine said no");
      }),
    ).rejects.toThrow("engine said no");
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
