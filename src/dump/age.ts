import fs from "node:fs/promises";

/**
 * age keys (age-encryption.org/v1) through `age-encryption`, the reference
 * TypeScript implementation: the recipients Lifeboat encrypts to and the
 * identities it decrypts with, checked at start. Key material is never
 * logged, never listed, never part of an error message. The streams
 * themselves are in `age-stream.ts`.
 *
 * `age-encryption` (and the noble crypto under it, ~0.9 MB of JavaScript) is
 * loaded only when keys are configured: a server without them idles ~5 MB lower.
 */

/**
 * Splits `BACKUP_AGE_RECIPIENTS` (commas, spaces or new lines between keys)
 * and checks each one is a recipient `age-encryption` can encrypt to. Returns
 * an error sentence (naming the bad entry's position, not the key) or the list.
 */
export async function parseRecipients(text: string): Promise<{ recipients: string[] } | { error: string }> {
  const recipients = text.split(/[\s,]+/).filter(Boolean);
  if (recipients.length === 0) return { error: "expected one or more age public keys (age1…)" };
  const { Encrypter } = await import("age-encryption");
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
  const { identityToRecipient } = await import("age-encryption");
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
