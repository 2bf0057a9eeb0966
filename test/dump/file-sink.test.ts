import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createFileSink } from "../../src/dump/file-sink.ts";
import { tempDir } from "../support/temp.ts";

/** Pieces of every size a dump writer hands over: single bytes, pages, and more than a 256 KiB slab at once. */
function pieces(): Uint8Array[] {
  const sizes = [1, 2, 60_000, 262_144, 262_143, 1, 700_000, 3, 5_000_000, 17, 64 * 1024];
  return sizes.map((n) => randomBytes(n));
}

describe("createFileSink", () => {
  it("a plain file holds every byte in order, though the caller reuses its buffer as soon as each write returns", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "plain.sql");
    const sink = await createFileSink(file, { gzip: false });
    expect(sink.copies).toBe(true);
    const all = pieces();
    for (const piece of all) {
      const scratch = Buffer.from(piece);
      await sink.write(scratch);
      scratch.fill(0x58); // a writer that copies may reuse or drop what it handed over
    }
    expect(await sink.finish()).toEqual({ size: all.reduce((n, p) => n + p.byteLength, 0) });
    expect(Buffer.compare(await fs.readFile(file), Buffer.concat(all))).toBe(0);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it("a gzip file keeps the caller's buffers (it does not copy) and inflates to the same bytes", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "dump.sql.gz");
    const sink = await createFileSink(file, { gzip: true });
    expect(sink.copies).toBe(false);
    const all = pieces();
    for (const piece of all) await sink.write(piece);
    const { size } = await sink.finish();
    const stored = await fs.readFile(file);
    expect(size).toBe(stored.byteLength);
    expect(Buffer.compare(gunzipSync(stored), Buffer.concat(all))).toBe(0);
  });

  it("refuses a file that exists and leaves it as it was; abort removes what it wrote", async () => {
    const dir = await tempDir();
    const taken = path.join(dir, "taken.sql");
    await fs.writeFile(taken, "keep me");
    await expect(createFileSink(taken, { gzip: false })).rejects.toMatchObject({ code: "EEXIST" });
    expect(await fs.readFile(taken, "utf8")).toBe("keep me");
    const partial = path.join(dir, "partial.sql");
    const sink = await createFileSink(partial, { gzip: false });
    await sink.write(randomBytes(600_000));
    await sink.abort();
    await expect(fs.stat(partial)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
