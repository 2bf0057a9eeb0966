import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { ConfigError, type Config } from "../config.ts";
import type { Logger } from "../logger.ts";

/** File in DATA_DIR that keeps a generated signing key across restarts. */
const SECRET_FILE = "jwt-secret";

const MIN_BYTES = 32;

/**
 * The HS256 key for API tokens and sessions: `JWT_SECRET` when set, otherwise
 * the key in `DATA_DIR/jwt-secret`, generated (48 random bytes) and written with
 * mode 0600 on first start so tokens and sessions survive restarts.
 * Throws `ConfigError` when the stored key is shorter than 32 bytes.
 */
export async function loadJwtSecret(config: Pick<Config, "jwt" | "dataDir">, logger: Logger): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  if (config.jwt.secret !== undefined) return encoder.encode(config.jwt.secret);

  const file = path.join(config.dataDir, SECRET_FILE);
  let stored = await readSecretFile(file);
  if (stored === null) {
    const fresh = randomBytes(48).toString("base64url");
    try {
      // `wx`: if another instance wrote it first, use theirs rather than overwrite.
      await fs.writeFile(file, fresh + "\n", { mode: 0o600, flag: "wx" });
      logger.info("generated a signing key for tokens and sessions (set JWT_SECRET to choose your own)", { file });
      stored = fresh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      stored = await readSecretFile(file);
    }
  }
  if (stored === null || encoder.encode(stored).byteLength < MIN_BYTES) {
    throw new ConfigError([
      {
        variable: "JWT_SECRET",
        message: `unset, and ${file} holds fewer than ${MIN_BYTES} bytes; delete that file to generate a new key, or set JWT_SECRET`,
      },
    ]);
  }
  return encoder.encode(stored);
}

async function readSecretFile(file: string): Promise<string | null> {
  let handle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const stat = await handle.stat();
    // Someone loosened the permissions: tighten them again, the key signs admin sessions.
    if ((stat.mode & 0o077) !== 0) await handle.chmod(0o600);
    return (await handle.readFile("utf8")).trim();
  } finally {
    await handle.close();
  }
}
