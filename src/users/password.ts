import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters; stored with every hash so they can be raised later. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

/**
 * The production cost of new hashes, OWASP's recommendation for scrypt
 * (N=2^17, r=8, p=1): about 0.4 s and 128 MiB per hash on a small server, on
 * Node and Deno alike. The app takes another cost only through its options
 * (tests use a low one), never from the environment.
 * @internal exported for the test that checks the production default.
 */
export const CURRENT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ ln: 17, r: 8, p: 1 });

/** Bounds of a readable stored hash; a cost outside them could never be verified. */
const LN_MIN = 10;
const LN_MAX = 22;

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Hashes computed at once; each holds 128·N·r bytes (128 MiB), so a burst of logins stays bounded. */
const MAX_CONCURRENT = 2;

// Format: $scrypt$ln=17,r=8,p=1$<salt base64>$<hash base64> (a PHC-style string).
const HASH_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function withinBounds(params: ScryptParams): boolean {
  return (
    Number.isInteger(params.ln) && params.ln >= LN_MIN && params.ln <= LN_MAX &&
    Number.isInteger(params.r) && params.r >= 1 && params.r <= 99 &&
    Number.isInteger(params.p) && params.p >= 1 && params.p <= 99
  );
}

let running = 0;
const waiting: (() => void)[] = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // Node refuses by default above 32 MiB; leave headroom over the 128·N·r·p needed.
  const maxmem = 128 * N * params.r * params.p + 32 * 1024 * 1024;
  return withSlot(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        // The callback form runs on the thread pool: the event loop stays free.
        scrypt(password.normalize("NFC"), salt, length, { N, r: params.r, p: params.p, maxmem }, (err, key) =>
          err ? reject(err) : resolve(key),
        );
      }),
  );
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | null {
  const m = HASH_RE.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (!withinBounds(params)) return null;
  return { params, salt: Buffer.from(m[4]!, "base64"), hash: Buffer.from(m[5]!, "base64") };
}

/** Hashing and checking of passwords at one cost. */
export interface PasswordHasher {
  /** The cost new hashes get. */
  readonly cost: Readonly<ScryptParams>;
  /** Hashes a password with a fresh random salt; returns the self-describing string to store. */
  hash(password: string): Promise<string>;
  /**
   * True when `password` matches `stored`, compared in constant time. Only a
   * hash at this hasher's own cost is usable: a stored hash naming another
   * cost (e.g. ln=18, p=8 — 23 s per sign-in) never matches, like an
   * unreadable one, and costs one hash at the own cost.
   */
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * Spends the same time as checking a password against a hash made at `cost`.
   * Used when the username does not exist, so response times do not reveal
   * which names do.
   */
  burn(password: string): Promise<void>;
}

/**
 * A hasher whose new hashes cost `cost` (production: `CURRENT_SCRYPT`). Throws
 * `RangeError` for a cost outside the stored format's bounds (ln 10–22, r and
 * p 1–99), whose hashes could never be read back.
 */
export function createPasswordHasher(cost: ScryptParams = CURRENT_SCRYPT): PasswordHasher {
  if (!withinBounds(cost)) {
    throw new RangeError(
      `scrypt cost ln=${cost.ln},r=${cost.r},p=${cost.p} is out of bounds (ln ${LN_MIN}–${LN_MAX}, r and p 1–99)`,
    );
  }
  const params = Object.freeze({ ln: cost.ln, r: cost.r, p: cost.p });
  const burn = async (password: string) => {
    await derive(password, randomBytes(SALT_LENGTH), params, KEY_LENGTH);
  };
  return {
    cost: params,
    async hash(password) {
      const salt = randomBytes(SALT_LENGTH);
      const hash = await derive(password, salt, params, KEY_LENGTH);
      return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
    },
    async verify(password, stored) {
      const parsed = parse(stored);
      if (!parsed || parsed.hash.length === 0 || !isLifeboatHash(stored, params)) {
        await burn(password);
        return false;
      }
      const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
      return timingSafeEqual(candidate, parsed.hash);
    },
    burn,
  };
}

/** A random password for a generated account: 24 URL-safe characters (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

/**
 * True when `stored` is a hash exactly as Lifeboat writes it at cost `params`:
 * the one format, these cost parameters, a 16-byte salt and a 32-byte key. Any
 * other string is unusable (a hash naming its own cost could make every
 * sign-in for that name cost seconds), and an import refuses it.
 */
export function isLifeboatHash(stored: string, params: Readonly<ScryptParams>): boolean {
  const parsed = parse(stored);
  return (
    parsed !== null &&
    parsed.params.ln === params.ln &&
    parsed.params.r === params.r &&
    parsed.params.p === params.p &&
    parsed.salt.length === SALT_LENGTH &&
    parsed.hash.length === KEY_LENGTH
  );
}
