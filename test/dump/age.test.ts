import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { identityToRecipient } from "age-encryption";
import { loadIdentities, parseRecipients } from "../../src/dump/age.ts";
import { decryptStream, encryptStream, isAgeEncrypted } from "../../src/dump/age-stream.ts";
import { InvalidBackupError } from "../../src/errors.ts";
import { tempDir } from "../support/temp.ts";

const streamOf = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 100_000) c.enqueue(bytes.subarray(i, i + 100_000));
      c.close();
    },
  });

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A key pair made by Debian's age-keygen: the identity file and its public key. */
async function keygen(dir: string, name = "key.txt"): Promise<{ file: string; recipient: string }> {
  const file = path.join(dir, name);
  execFileSync("age-keygen", ["-o", file], { stdio: "pipe" });
  const recipient = execFileSync("age-keygen", ["-y", file]).toString().trim();
  return { file, recipient };
}

describe("age encryption, interoperable with the age CLI", () => {
  it("what we encrypt, `age -d -i key.txt` decrypts", async () => {
    const dir = await tempDir();
    const key = await keygen(dir);
    const plain = Buffer.from("-- Lifeboat backup\n".repeat(50_000));
    const enc = await readAll(await encryptStream(streamOf(plain), [key.recipient]));
    expect(isAgeEncrypted(enc)).toBe(true);
    expect(enc.includes(Buffer.from("Lifeboat backup"))).toBe(false);
    await fs.writeFile(path.join(dir, "b.sql.age"), enc);
    const out = execFileSync("age", ["-d", "-i", key.file, path.join(dir, "b.sql.age")], { maxBuffer: 64 * 1024 * 1024 });
    expect(out.equals(plain)).toBe(true);
  });

  it("what `age -r` encrypts, we decrypt with the identity file; the wrong key is refused", async () => {
    const dir = await tempDir();
    const key = await keygen(dir);
    const other = await keygen(dir, "other.txt");
    const plain = Buffer.from("PRAGMA foreign_keys=OFF;\n");
    await fs.writeFile(path.join(dir, "p.sql"), plain);
    execFileSync("age", ["-r", key.recipient, "-o", path.join(dir, "p.sql.age"), path.join(dir, "p.sql")]);
    const enc = await fs.readFile(path.join(dir, "p.sql.age"));
    const ids = await loadIdentities(key.file);
    expect((await readAll(await decryptStream(streamOf(enc), ids))).equals(plain)).toBe(true);
    const wrong = await decryptStream(streamOf(enc), await loadIdentities(other.file)).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(InvalidBackupError);
    expect((wrong as Error).message).toMatch(/different key/);
    const none = await decryptStream(streamOf(enc), []).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/BACKUP_AGE_IDENTITY_FILE/);
  });

  it("a damaged payload fails while reading with InvalidBackupError", async () => {
    const dir = await tempDir();
    const key = await keygen(dir);
    const enc = await readAll(await encryptStream(streamOf(Buffer.alloc(200_000, 65)), [key.recipient]));
    enc[enc.length - 10]! ^= 1;
    const plain = await decryptStream(streamOf(enc), await loadIdentities(key.file));
    await expect(readAll(plain)).rejects.toBeInstanceOf(InvalidBackupError);
  });

  it("checks recipients and identity files without echoing key material", async () => {
    const dir = await tempDir();
    const key = await keygen(dir);
    expect(await parseRecipients(`${key.recipient}, ${key.recipient}`)).toEqual({ recipients: [key.recipient, key.recipient] });
    const bad = await parseRecipients(`${key.recipient} age1notakey`);
    expect(bad).toEqual({ error: expect.stringMatching(/entry 2 is not an age public key/) });
    expect(JSON.stringify(bad)).not.toContain("age1notakey");
    expect(await Promise.all((await loadIdentities(key.file)).map((id) => identityToRecipient(id)))).toEqual([key.recipient]);
    const secret = (await fs.readFile(key.file, "utf8")).match(/AGE-SECRET-KEY-1\w+/)![0];
    await fs.writeFile(path.join(dir, "broken.txt"), secret.slice(0, -3) + "\n");
    const err = (await loadIdentities(path.join(dir, "broken.txt")).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/line 1 .* is not an age secret key/);
    expect(err.message).not.toContain(secret.slice(0, 20));
  });
});
