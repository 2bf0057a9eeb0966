import { InvalidBackupError } from "../errors.ts";
import { forwardStream } from "./forward-stream.ts";

/**
 * Encryption at rest with age (age-encryption.org/v1) through `age-encryption`,
 * the reference TypeScript implementation: what it writes, Debian's `age -d`
 * reads, and the other way round. Streams in 64 KiB chunks, so a backup of any
 * size is encrypted or decrypted in bounded memory. Key material stays in
 * these closures: never logged, never listed, never part of an error message.
 *
 * `age-encryption` (and the noble crypto under it) is loaded on first use, not
 * with this module: the backup workers import the dump reader and writer, and
 * loading it in each of them (a thread and the import process) costs about
 * 10 MB of memory apiece while most backups are not encrypted.
 */
const ageLibrary = () => import("age-encryption");

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

/** Encrypts a byte stream to every recipient; the result streams as the input is read. */
export async function encryptStream(input: ReadableStream<Uint8Array>, recipients: readonly string[]): Promise<ReadableStream<Uint8Array>> {
  const { Encrypter } = await ageLibrary();
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
  const { Decrypter } = await ageLibrary();
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
  return forwardStream(plain.getReader(), {
    highWaterMark: 1,
    mapError: (err) =>
      new InvalidBackupError(`the age-encrypted data is damaged or truncated (${err instanceof Error ? err.message : String(err)})`, undefined, {
        cause: err,
      }),
  });
}
