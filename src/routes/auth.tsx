import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { landingPathFor, optionalAuth, principalOf, requireAuth, safeNextPath, viewerOf } from "../auth/middleware.ts";
import { clearSessionCookie, startSession } from "../auth/session.ts";
import { TooManyRequestsError, UnauthorizedError } from "../errors.ts";
import { describeError } from "../http/errors.tsx";
import { isHtmx } from "../http/render.tsx";
import { validate } from "../http/validation.ts";
import type { ActiveUser } from "../users/service.ts";
import { changePasswordFormSchema, changePasswordSchema, loginSchema } from "../users/validation.ts";
import { AccountPage, ChangePasswordForm } from "../../templates/account.tsx";
import { LoginPage } from "../../templates/login.tsx";
import { StatusMessage } from "../../templates/status.tsx";

export interface AuthRoutesOptions {
  auth: Auth;
  assetVersion: string;
}

const loginFormSchema = loginSchema.extend({ next: z.string().max(2048).optional() });

/**
 * Signing in and out, for scripts (`POST /api/auth/login` → token) and browsers
 * (`/login` → session cookie), and a user's own account (`/account`,
 * `POST /api/account/password`).
 */
export function authRoutes(opts: AuthRoutesOptions): Hono<AppEnv> {
  const { auth } = opts;
  const routes = new Hono<AppEnv>();
  const signedIn = requireAuth(auth);

  routes.post("/api/auth/login", validate("json", loginSchema), async (c) => {
    const { username, password } = c.req.valid("json");
    const active = await auth.login(username, password, auth.clientAddress(c));
    const { token, expiresAt } = await auth.issueApiToken(active);
    c.header("Cache-Control", "no-store");
    return c.json({ token, expiresAt: expiresAt.toISOString() });
  });

  routes.get("/api/auth/me", signedIn, (c) => {
    const p = principalOf(c);
    c.header("Cache-Control", "no-store");
    return c.json({ ...(p.userId !== undefined ? { id: p.userId } : {}), username: p.username, role: p.role, via: p.via });
  });

  routes.post("/api/account/password", signedIn, validate("json", changePasswordSchema), async (c) => {
    await auth.changeOwnPassword(principalOf(c), c.req.valid("json"), auth.clientAddress(c));
    return c.body(null, 204);
  });

  routes.get("/login", optionalAuth(auth), (c) => {
    const next = safeNextPath(c.req.query("next"));
    const viewer = viewerOf(c);
    if (viewer) return c.redirect(next ?? landingPathFor(viewer.role), 303);
    c.header("Cache-Control", "no-store");
    return c.html(<LoginPage next={next} assetVersion={opts.assetVersion} />);
  });

  routes.post("/login", validate("form", loginFormSchema), async (c) => {
    const { username, password, next } = c.req.valid("form");
    let active: ActiveUser;
    try {
      active = await auth.login(username, password, auth.clientAddress(c));
    } catch (err) {
      // htmx shows the error inside the form (HX-Error-Target); a plain form post gets the page again.
      if (isHtmx(c) || !(err instanceof UnauthorizedError || err instanceof TooManyRequestsError)) throw err;
      const { status, message } = describeError(err);
      if (err instanceof TooManyRequestsError) c.header("Retry-After", String(err.retryAfterSeconds));
      c.header("Cache-Control", "no-store");
      return c.html(
        <LoginPage next={safeNextPath(next)} username={username} error={message} assetVersion={opts.assetVersion} />,
        status,
      );
    }
    await startSession(c, auth, active);
    const destination = safeNextPath(next) ?? landingPathFor(active.user.role);
    if (isHtmx(c)) {
      c.header("HX-Redirect", destination);
      return c.body(null, 204);
    }
    return c.redirect(destination, 303);
  });

  routes.post("/logout", (c) => {
    clearSessionCookie(c, auth.cookiePolicy);
    c.header("Cache-Control", "no-store");
    if (isHtmx(c)) {
      c.header("HX-Redirect", "/login");
      return c.body(null, 204);
    }
    return c.redirect("/login", 303);
  });

  routes.get("/account", signedIn, (c) => {
    const p = principalOf(c);
    c.header("Cache-Control", "no-store");
    return c.html(<AccountPage viewer={p} localAccount={p.userId !== undefined} assetVersion={opts.assetVersion} />);
  });

  routes.post("/account", signedIn, validate("form", changePasswordFormSchema), async (c) => {
    const p = principalOf(c);
    const { currentPassword, newPassword } = c.req.valid("form");
    const active = await auth.changeOwnPassword(p, { currentPassword, newPassword }, auth.clientAddress(c));
    // The change voided every earlier session, this browser's too: give it a fresh one.
    if (p.via === "session") await startSession(c, auth, active);
    c.header("Cache-Control", "no-store");
    const message = "Your password was changed. Other browsers and API tokens signed in as you must sign in again.";
    if (isHtmx(c)) {
      return c.html(
        <>
          <StatusMessage message={message} />
          <ChangePasswordForm oob />
        </>,
      );
    }
    return c.html(<AccountPage viewer={p} localAccount notice={message} assetVersion={opts.assetVersion} />);
  });

  return routes;
}
