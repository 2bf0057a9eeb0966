import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { ForbiddenError } from "../errors.ts";
import { SESSION_COOKIE } from "../http/env.ts";

export interface CsrfProtectionOptions {
  /** With TRUST_PROXY, the origin the proxy reports (X-Forwarded-Proto/Host) also counts as ours. */
  trustProxy: boolean;
}

/**
 * Refuses cross-site form posts (403 `ForbiddenError`, nothing runs) with Hono's
 * `csrf` middleware: a state-changing request with a form or text body must
 * come from our own origin (`Origin`) or say `Sec-Fetch-Site: same-origin`.
 * JSON bodies cannot be sent cross-site without a CORS preflight, which Lifeboat
 * never grants. A request without a session cookie that carries a Bearer token,
 * or that goes to the API, has no ambient credential for a forger to ride on, so
 * it passes: `curl -F file=@backup.sql` with a token works, and a bare
 * `curl -X POST /api/backups` gets the 401 it deserves rather than a 403.
 */
export function csrfProtection(options: CsrfProtectionOptions): MiddlewareHandler {
  const check = csrf({
    origin: (origin, c) => origin === new URL(c.req.url).origin || (options.trustProxy && origin === forwardedOrigin(c)),
  });
  const noop = async () => {};
  return async function csrfGuard(c, next) {
    const noAmbientCredential =
      getCookie(c, SESSION_COOKIE) === undefined &&
      (/^Bearer\s/i.test(c.req.header("Authorization") ?? "") || c.req.path.startsWith("/api/"));
    if (!noAmbientCredential) {
      try {
        await check(c, noop);
      } catch (err) {
        if (err instanceof HTTPException && err.status === 403) {
          throw new ForbiddenError(
            "Cross-site request refused: this form can only be sent from Lifeboat's own pages.",
          );
        }
        throw err;
      }
    }
    await next();
  };
}

function forwardedOrigin(c: Context): string | undefined {
  const proto = c.req.header("X-Forwarded-Proto")?.split(",")[0]?.trim();
  const host = c.req.header("X-Forwarded-Host")?.split(",")[0]?.trim() ?? c.req.header("Host");
  return proto && host ? `${proto}://${host}` : undefined;
}
