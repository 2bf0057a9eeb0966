import { createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { bearerToken, landingPathFor, optionalAuth, principalOf, requireAuth, safeNextPath, viewerOf } from "../auth/middleware.ts";
import { clearSessionCookie, readSessionCookie, startSession } from "../auth/session.ts";
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from "../errors.ts";
import { showErrorsAs } from "../http/errors.tsx";
import { ADMIN_SECURITY, createDocumentedRoutes, errorResponses, jsonBody, jsonOnly, jsonResponse, PUBLIC } from "../http/openapi.ts";
import { isHtmx } from "../http/render.tsx";
import { validate } from "../http/validation.ts";
import {
  CHANGE_PASSWORD_LABELS,
  changePasswordFormSchema,
  changePasswordSchema,
  loginSchema,
  relabelError,
} from "../users/validation.ts";
import { AccountPage, ChangePasswordForm } from "../../templates/account.tsx";
import { LoginPage } from "../../templates/login.tsx";
import { StatusMessage } from "../../templates/status.tsx";

export interface AuthRoutesOptions {
  auth: Auth;
  assetVersion: string;
}

const loginFormSchema = loginSchema.extend({ next: z.string().max(2048).optional() });

const TokenSchema = z
  .object({
    token: z.string().openapi({ description: "Send as `Authorization: Bearer <token>`" }),
    expiresAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Token");

const MeSchema = z
  .object({
    id: z.number().int().optional().openapi({ description: "Absent for an identity from an external provider" }),
    username: z.string(),
    role: z.enum(["admin", "user"]),
    via: z.enum(["session", "token", "external-token"]),
  })
  .openapi("Me");

// The /api routes of this file, as the OpenAPI document shows them. `x-role: any`:
// open to every signed-in user, not only admins.
const tags = ["accounts"];

const loginRoute = createRoute({
  method: "post",
  path: "/api/auth/login",
  operationId: "login",
  tags,
  security: PUBLIC,
  summary: "Log in: exchange a username and password for an API token",
  description: "Rate-limited per client and username. Wrong credentials get one generic 401.",
  middleware: [jsonOnly],
  request: { body: jsonBody(loginSchema) },
  responses: { 200: jsonResponse(TokenSchema, "A token and its expiry"), ...errorResponses(400, 401, 429) },
});

const meRoute = createRoute({
  method: "get",
  path: "/api/auth/me",
  operationId: "getMe",
  tags,
  security: ADMIN_SECURITY,
  "x-role": "any",
  summary: "Who the token or session belongs to",
  description: "The signed-in account's username and role, from a token or the browser session.",
  responses: { 200: jsonResponse(MeSchema, "The signed-in identity"), ...errorResponses(401) },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/api/auth/logout",
  operationId: "logout",
  tags,
  security: ADMIN_SECURITY,
  "x-role": "any",
  summary: "Sign out: end this token (or this browser session) on the server",
  description:
    "The token sent (or, from a browser, its session cookie) is refused from then on, by every instance. Tokens from an external identity provider cannot be ended here (403).",
  responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
});

const changePasswordRoute = createRoute({
  method: "post",
  path: "/api/account/password",
  operationId: "changeOwnPassword",
  tags,
  security: ADMIN_SECURITY,
  "x-role": "any",
  summary: "Change your own password",
  description: "The password rule applies (400 says why). Tokens and sessions issued before stop working.",
  request: { body: jsonBody(changePasswordSchema) },
  responses: { 204: { description: "Changed" }, ...errorResponses(400, 401, 403, 429) },
});

/**
 * Signing in and out, for scripts (`POST /api/auth/login` → token) and browsers
 * (`/login` → session cookie), and a user's own account (`/account`,
 * `POST /api/account/password`).
 */
export function authRoutes(opts: AuthRoutesOptions) {
  const { auth } = opts;
  const routes = createDocumentedRoutes<AppEnv>();
  const signedIn = requireAuth(auth);

  routes.openapi(loginRoute, async (c) => {
    const { username, password } = c.req.valid("json");
    const active = await auth.login(username, password, auth.clientAddress(c));
    const { token, expiresAt } = await auth.issueApiToken(active);
    c.header("Cache-Control", "no-store");
    return c.json({ token, expiresAt: expiresAt.toISOString() }, 200);
  });

  routes.openapi({ ...meRoute, middleware: [signedIn] }, (c) => {
    const p = principalOf(c);
    c.header("Cache-Control", "no-store");
    return c.json(
      { ...(p.userId !== undefined ? { id: p.userId } : {}), username: p.username, role: p.role, via: p.via },
      200,
    );
  });

  routes.openapi({ ...logoutRoute, middleware: [signedIn] }, async (c) => {
    const p = principalOf(c);
    if (p.via === "external-token") {
      throw new ForbiddenError("This token comes from your identity provider; Lifeboat cannot end it. It stops working when it expires.");
    }
    const bearer = bearerToken(c);
    if (bearer !== undefined) await auth.signOut(bearer, "api");
    else {
      await auth.signOut(readSessionCookie(c)!, "session");
      clearSessionCookie(c, auth.cookiePolicy);
    }
    c.header("Cache-Control", "no-store");
    return c.body(null, 204);
  });

  routes.openapi({ ...changePasswordRoute, middleware: [signedIn, jsonOnly] }, async (c) => {
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
    // htmx shows the error inside the form (HX-Error-Target); a plain form post gets the page again.
    showErrorsAs(c, ({ message }, cause) =>
      isHtmx(c) || !(cause instanceof UnauthorizedError || cause instanceof TooManyRequestsError) ? null : (
        <LoginPage next={safeNextPath(next)} username={username} error={message} assetVersion={opts.assetVersion} />
      ),
    );
    const active = await auth.login(username, password, auth.clientAddress(c));
    await startSession(c, auth, active);
    const destination = safeNextPath(next) ?? landingPathFor(active.user.role);
    if (isHtmx(c)) {
      c.header("HX-Redirect", destination);
      return c.body(null, 204);
    }
    return c.redirect(destination, 303);
  });

  routes.post("/logout", async (c) => {
    // Ended on the server first: a copy of the cookie (another tab, a stolen one) stops working too.
    // If that write fails the error is shown and the cookie kept, so signing out can be retried.
    const session = readSessionCookie(c);
    if (session) await auth.signOut(session, "session");
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

  routes.post("/account", signedIn, validate("form", changePasswordFormSchema, { labels: CHANGE_PASSWORD_LABELS }), async (c) => {
    const p = principalOf(c);
    const { currentPassword, newPassword } = c.req.valid("form");
    const active = await auth
      .changeOwnPassword(p, { currentPassword, newPassword }, auth.clientAddress(c))
      .catch((err: unknown) => Promise.reject(relabelError(err, CHANGE_PASSWORD_LABELS)));
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
