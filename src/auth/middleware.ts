import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/env.ts";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import { isHtmx, wantsJson } from "../http/render.tsx";
import type { Auth } from "./auth.ts";
import type { Principal, Role } from "../principal.ts";
import { clearSessionCookie, readSessionCookie } from "./session.ts";

const BEARER_RE = /^Bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i;

/**
 * Works out who sent the request and stores it as `c.get("principal")`: a
 * Bearer token first, else the session cookie (other Authorization schemes are ignored). A malformed or invalid Bearer
 * token is a 401 (`UnauthorizedError`); a bad session cookie is dropped and the
 * request treated as signed out. Returns null when nobody is signed in.
 */
export async function identify(c: Context<AppEnv>, auth: Auth): Promise<Principal | null> {
  const known = c.get("principal");
  if (known) return known;
  const bearer = bearerToken(c);
  if (bearer !== undefined) {
    const principal = await auth.verifyBearer(bearer);
    c.set("principal", principal);
    return principal;
  }
  const session = readSessionCookie(c);
  if (session) {
    const principal = await auth.verifySession(session);
    if (principal) {
      c.set("principal", principal);
      return principal;
    }
    clearSessionCookie(c, auth.cookiePolicy);
  }
  return null;
}

/**
 * The token of an `Authorization: Bearer` header, or undefined without one.
 * Other schemes (e.g. Basic from a proxy's own login in front of Lifeboat) are
 * not ours and count as none; a malformed Bearer header is a 401.
 */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header("Authorization");
  if (header === undefined || !/^Bearer(\s|$)/i.test(header)) return undefined;
  const m = BEARER_RE.exec(header);
  if (!m) throw new UnauthorizedError('Send the token as "Authorization: Bearer <token>".');
  return m[1]!;
}

/**
 * Sets `principal` when someone is signed in and lets everyone through (pages
 * such as /login and / that look different for signed-in visitors).
 */
export function optionalAuth(auth: Auth): MiddlewareHandler<AppEnv> {
  return async function optionalAuthentication(c, next) {
    await identify(c, auth);
    await next();
  };
}

/**
 * Lets only signed-in requests through (any role), with `principal` set.
 * Signed out: /api/* and JSON clients get 401; htmx gets 401 with
 * `HX-Redirect` to the login page; a browser is redirected (303) to
 * `/login?next=<this page>`.
 */
export function requireAuth(auth: Auth): MiddlewareHandler<AppEnv> {
  return requireRole(auth, null);
}

/**
 * Like `requireAuth`, and then refuses (403 `ForbiddenError`) anyone who is not
 * an admin. Use on every admin route, JSON and page alike.
 */
export function requireAdmin(auth: Auth): MiddlewareHandler<AppEnv> {
  return requireRole(auth, "admin");
}

function requireRole(auth: Auth, role: Role | null): MiddlewareHandler<AppEnv> {
  return async function requireSignedIn(c, next) {
    const principal = await identify(c, auth);
    if (!principal) return signInRequired(c);
    if (role && principal.role !== role) {
      throw new ForbiddenError(role === "admin" ? "This needs an admin account." : "You do not have permission to do this.");
    }
    await next();
  };
}

function signInRequired(c: Context<AppEnv>): Response {
  if (wantsJson(c)) {
    throw new UnauthorizedError(
      "Sign in first: send Authorization: Bearer <token> (from POST /api/auth/login) or a session cookie.",
    );
  }
  const back = returnPath(c);
  const location = back && back !== "/" ? `/login?next=${encodeURIComponent(back)}` : "/login";
  c.header("Cache-Control", "no-store");
  if (isHtmx(c)) {
    // htmx follows HX-Redirect whatever the status; the page the user was on comes back after login.
    c.header("HX-Redirect", location);
    return c.body(null, 401);
  }
  return c.redirect(location, 303);
}

/** Where to return after signing in: this page for a GET, the page htmx was on for htmx. */
function returnPath(c: Context): string | undefined {
  if (isHtmx(c)) {
    const current = c.req.header("HX-Current-URL");
    if (!current) return undefined;
    try {
      const url = new URL(current);
      if (url.origin !== new URL(c.req.url).origin) return undefined;
      return safeNextPath(url.pathname + url.search);
    } catch {
      return undefined;
    }
  }
  if (c.req.method !== "GET") return undefined;
  const url = new URL(c.req.url);
  return safeNextPath(url.pathname + url.search);
}

/**
 * `value` when it is a path on this site (starts with one `/`, no backslash, no
 * control characters), else undefined: `next=//evil.example` must never redirect away.
 */
export function safeNextPath(value: string | undefined | null): string | undefined {
  if (!value || value.length > 2048) return undefined;
  if (!value.startsWith("/") || value.startsWith("//")) return undefined;
  // deno-lint-ignore no-control-regex -- control characters are exactly what this refuses
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return undefined;
  return value;
}

/** The signed-in principal; throws `UnauthorizedError` when a route forgot `requireAuth`. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw new UnauthorizedError();
  return principal;
}

/** What a page template needs to know about the visitor (the layout's `viewer`). */
export function viewerOf(c: Context<AppEnv>): { username: string; role: Role } | null {
  const p = c.get("principal");
  return p ? { username: p.username, role: p.role } : null;
}

/** Where a signed-in visitor starts: admins at the backups, users at their account. */
export function landingPathFor(role: Role): string {
  return role === "admin" ? "/admin/backups" : "/account";
}
