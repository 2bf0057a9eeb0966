/**
 * Credentials inside text that may quote a URL: the database driver's errors
 * repeat `DATABASE_URL` whole (`Request cannot be constructed from a URL that
 * includes credentials: https://user:password@host/…`), and libSQL takes its
 * token as `?authToken=…`. Everything Lifeboat prints — log lines, start-up
 * failures, CLI output, readiness reasons, error messages — passes through here.
 */

/** `scheme://userinfo@`: the userinfo ends at the first `/`, `?`, `#` or line end, so a password with spaces is caught too. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\r\n]*@/gi;

/** Query parameters that carry a secret (libSQL's `authToken`, and the usual names elsewhere). */
const SECRET_PARAM =
  /([?&;](?:auth[-_]?token|access[-_]?token|token|jwt|password|passwd|pwd|secret|api[-_]?key|key|sig|signature|x-amz-signature|x-amz-credential)=)[^&#\s"'<>]*/gi;

/**
 * `text` with the userinfo of every URL and the value of every secret-named
 * query parameter replaced by `[redacted]`:
 * `libsql://u:p@db.example?authToken=abc` → `libsql://[redacted]@db.example?authToken=[redacted]`.
 */
export function redactCredentials(text: string): string {
  if (!text.includes("://") && !text.includes("=")) return text;
  return text.replace(USERINFO, "$1[redacted]@").replace(SECRET_PARAM, "$1[redacted]");
}
