import fs from "node:fs/promises";
import { Decrypter, Encrypter, identityToRecipient } from "age-encryption";
import { InvalidBackupError } from "../errors.ts";

/**
 * Encryption at rest with age (age-encryption.org/v1) through `age-encryption`,
 * the reference TypeScript implementation: what it writes, Debian's `age -d`
 * reads, and the other way round. Streams in 64 KiB chunks, so a backup of any
 * size is encrypted or decrypted in bounded memory. Key material stays in
 * these closures: never logged, never listed, never part of an error message.
 */

/** The first bytes of every binary age file. */
const AGE_MAGIC = new TextEncoder().encode("age-encryption.org/v1\n");
/** The first bytes of an ASCII-armored one (`age -a`). */
const ARMOR_MAGIC = new TextEncoder().encode("-----BEGIN AGE ENCRYPTED FILE-----");

/** True when `firstBytes` start an age file (binary or armored). */
export function isAgeEncrypted(firstBytes: Uint8Array): boolean {
  const starts = (m: Uint8Array) => firstBytes.length >= m.length && m.every((b, i) => firstBytes[i] === b);
  return starts(AGE_MAGIC) || starts(ARMOR_MAGIC);
}

/** True when `firstBytes` start an ASCII-armored age file (which `age-encryption` does not stream). */
export function isArmoredAge(firstBytes: Uint8Array): boolean {
  return firstBytes.length >= ARMOR_MAGIC.length && ARMOR_MAGIC.every((b, i) => firstBytes[i] === b);
}

/**
 * Splits `BACKUP_AGE_RECIPIENTS` (commas, spaces or new lines between keys)
 * and checks each one is a recipient `age-encryption` can encrypt to. Returns
 * an error sentence (naming the bad entry's position, not the key) or the list.
 */
export function parseRecipients(text: string): { recipients: string[] } | { error: string } {
  const recipients = text.split(/[\s,]+/).filter(Boolean);
  if (recipients.length === 0) return { error: "expected one or more age public keys (age1…)" };
  for (const [i, r] of recipients.entries()) {
    try {
      if (!r.startsWith("age1")) throw new Error("not age1");
      new Encrypter().addRecipient(r);
    } catch {
      return { error: `entry ${i + 1} is not an age public key (expected age1… as printed by age-keygen -y)` };
    }
  }
  return { recipients };
}

/**
 * Reads an identity file as `age-keygen` writes it (comments, then
 * `AGE-SECRET-KEY-1…` lines) and checks every key. Throws an `Error` whose
 * message names the file, never its content.
 */
export async function loadIdentities(filePath: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(filePath, "utf8");
  } catch (err) {
    throw new Error(`cannot read the age identity file ${filePath} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const identities = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (identities.length === 0) throw new Error(`the age identity file ${filePath} holds no key (expected AGE-SECRET-KEY-1… lines)`);
  for (const [i, id] of identities.entries()) {
    try {
      if (!id.startsWith("AGE-SECRET-KEY-")) throw new Error("not a key");
      await identityToRecipient(id);
    } catch {
      throw new Error(`line ${i + 1} of the age identity file ${filePath} is not an age secret key (AGE-SECRET-KEY-1…)`);
    }
  }
  return identities;
}

/** Encrypts a byte stream to every recipient; the result streams as the input is read. */
export async function encryptStream(input: ReadableStream<Uint8Array>, recipients: readonly string[]): Promise<ReadableStream<Uint8Array>> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return await e.encrypt(input);
}

/**
 * Decrypts a byte stream with any of the identities. A file for other keys, or
 * a damaged or truncated one, fails with `InvalidBackupError` (the header when
 * the promise settles, the payload as the stream is read).
 */
export async function decryptStream(input: ReadableStream<Uint8Array>, identities: readonly string[]): Promise<ReadableStream<Uint8Array>> {
  if (identities.length === 0) {
    await input.cancel().catch(() => {});
    throw new InvalidBackupError(
      "the backup is encrypted with age, and no key to decrypt it is configured (set BACKUP_AGE_IDENTITY_FILE)",
    );
  }
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await d.decrypt(input);
  } catch (err) {
    await input.cancel().catch(() => {});
    const msg = err instanceof Error ? err.message : String(err);
    throw new InvalidBackupError(
      /no identity matched/i.test(msg)
        ? "the backup is encrypted with age for a different key than BACKUP_AGE_IDENTITY_FILE holds"
        : `the age encryption header is damaged (${msg})`,
      undefined,
      { cause: err },
    );
  }
  // Payload errors (a flipped bit, a cut-off file) surface while reading: give them our type.
  const reader = plain.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(
          new InvalidBackupError(`the age-encrypted data is damaged or truncated (${err instanceof Error ? err.message : String(err)})`, undefined, {
            cause: err,
          }),
        );
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
