import type { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { ValidationError } from "../errors.ts";

/**
 * The rule for a new password, on top of its length (passwordSchema): zxcvbn's
 * estimate must reach score 3, i.e. at least 10^8 guesses. That refuses every
 * entry of zxcvbn's list of about 49,000 common passwords (and their l33t,
 * reversed, capitalised or digit-suffixed variants), keyboard walks, repeats,
 * sequences, dates, and passwords built from the username or "lifeboat".
 */
const MIN_SCORE = 3;

/**
 * zxcvbn looks at no more than this many characters: its matching grows fast
 * with length (a 256-character l33t password costs ~1.7 s of blocked event
 * loop), and a weak start makes a weak password whatever follows. With the cap
 * and l33t substitutions at most 16, the worst case measured here is ~90 ms.
 */
const MAX_CHECKED_LENGTH = 64;
const L33T_MAX_SUBSTITUTIONS = 16;

/** Why zxcvbn found a password weak, by its feedback key (it ships keys, not text, without a language pack). */
const WARNINGS: Readonly<Record<string, string>> = {
  straightRow: "it is a straight row of keys on the keyboard",
  keyPattern: "it is a short keyboard pattern",
  simpleRepeat: "it repeats one character",
  extendedRepeat: "it repeats a short pattern",
  sequences: "it is a common sequence like abc or 123",
  recentYears: "it is mostly a recent year",
  dates: "it is mostly a date",
  topTen: "it is one of the ten most used passwords",
  topHundred: "it is one of the hundred most used passwords",
  common: "it is a commonly used password",
  similarToCommon: "it is too similar to a commonly used password",
  wordByItself: "a single word is easy to guess",
  namesByThemselves: "single names are easy to guess",
  commonNames: "common names are easy to guess",
  userInputs: "it is built from the username or the word Lifeboat",
};

let loading: Promise<ZxcvbnFactory> | undefined;

/**
 * zxcvbn with the common-password and diceware lists, loaded on first use and
 * then kept: ~150 ms and ~25 MB once per process, and nothing at start-up for a
 * server that never sets a password. The English pack (names, Wikipedia words)
 * is left out on purpose: it costs 1.8 s, 70 MB and up to 10× slower checks
 * for little gain over the password list.
 */
function checker(): Promise<ZxcvbnFactory> {
  loading ??= (async () => {
    const [{ ZxcvbnFactory }, common] = await Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]);
    return new ZxcvbnFactory({
      dictionary: common.dictionary,
      graphs: common.adjacencyGraphs,
      maxLength: MAX_CHECKED_LENGTH,
      l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
    });
  })();
  loading.catch(() => {
    loading = undefined; // a failed load is retried by the next caller rather than remembered
  });
  return loading;
}

/**
 * Why `password` is too easy to guess, or null when it passes the rule
 * (zxcvbn score ≥ 3). `related` are words an attacker would try first for
 * this account (its username); "lifeboat" always counts.
 */
export async function weakPasswordReason(password: string, related: readonly string[] = []): Promise<string | null> {
  const zxcvbn = await checker();
  const result = zxcvbn.check(password, ["lifeboat", ...related.filter(Boolean)]);
  if (result.score >= MIN_SCORE) return null;
  const why = (result.feedback.warning && WARNINGS[result.feedback.warning]) || `it would be guessed within about 10^${Math.max(0, Math.floor(result.guessesLog10))} tries`;
  return `is too easy to guess: ${why}. Use a passphrase of four or more unrelated words, or a password manager's random password`;
}

/**
 * Throws `ValidationError` on `field` ("password: is too easy to guess: …")
 * when `password` fails the strength rule; see `weakPasswordReason`.
 */
export async function assertStrongPassword(password: string, field: string, related: readonly string[] = []): Promise<void> {
  const reason = await weakPasswordReason(password, related);
  if (reason) throw new ValidationError(`${field}: ${reason}`, field);
}
