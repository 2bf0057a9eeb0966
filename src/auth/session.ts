import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ActiveUser } from "../users/service.ts";
import { SESSION_COOKIE } from "../http/env.ts";
import type { Auth, CookiePolicy } from "./auth.ts";

/** True when the browser reached us over https (directly, or through a trusted proxy). */
function isHttpsRequest(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  if (!trustProxy) return false;
  const proto = c.req.header("X-Forwarded-Proto")?.split(",")[0]?.trim().toLowerCase();
  return proto === "https";
}

function secure(c: Context, policy: CookiePolicy): boolean {
  return policy.cookieSecure === "true" || (policy.cookieSecure === "auto" && isHttpsRequest(c, policy.trustProxy));
}

/**
 * Sets the session cookie: HttpOnly (no script can read it), SameSite=Strict
 * (never sent on cross-site requests), Path=/, Secure per the policy, and
 * lasting as long as the token inside it.
 */
function writeSessionCookie(c: Context, token: string, maxAgeSeconds: number, policy: CookiePolicy): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    secure: secure(c, policy),
    // Max-Age rather than Expires: a browser with a wrong clock still keeps it for the right time.
    maxAge: maxAgeSeconds,
  });
}

/** Tells the browser to drop the session cookie. */
export function clearSessionCookie(c: Context, policy: CookiePolicy): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: secure(c, policy) });
}

/** The session cookie's value, if the browser sent one. */
export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE) || undefined;
}

/** Signs a fresh session for `active` and sets it as this browser's cookie (after login, or after a password change). */
export async function startSession(
  c: Context,
  auth: Pick<Auth, "issueSession" | "sessionTtlSeconds" | "cookiePolicy">,
  active: ActiveUser,
): Promise<void> {
  const session = await auth.issueSession(active);
  writeSessionCookie(c, session.token, auth.sessionTtlSeconds, auth.cookiePolicy);
}
