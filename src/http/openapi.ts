import { OpenAPIHono, z, type RouteConfig } from "@hono/zod-openapi";
import type { Env, MiddlewareHandler } from "hono";
import { ValidationError, validationErrorFrom } from "../errors.ts";
import { SESSION_COOKIE } from "./env.ts";

/** The error body every /api route answers with (see src/http/errors.tsx). */
const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: "Stable machine-readable code", example: "busy" }),
      message: z.string().openapi({
        description: "Readable explanation, safe to show to a person",
        example: "Another backup or import is running; try again when it has finished.",
      }),
      requestId: z.string().optional().openapi({ description: "Also in the X-Request-Id header and the server log" }),
    }),
  })
  .openapi("Error");

/** What each error status means across the API; a route lists the ones it can answer. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input: a parameter or the body fails validation (the message names the field)",
  401: "Not signed in: no token or session cookie, or an invalid or expired one",
  403: "Signed in without the admin role, or a cross-site form post",
  404: "Not found (e.g. no backup of that name in the listing)",
  409: "Busy: another backup or import is running",
  413: "The upload is larger than MAX_UPLOAD_BYTES",
  422: "The file is not a dump Lifeboat can restore; the message names the line and the reason",
  429: "Too many attempts; retry after the number of seconds in Retry-After",
  500: "Unexpected server error; the message carries the request id, the details are in the server log",
  502: "The off-site storage (the S3 bucket) failed or refused; the message says why (it holds no secret)",
  503: "`backup_folder_unavailable`: the backup folder is missing and cannot be created again (the message names it), or it vanished while a file was written (created again: retry)",
  507: "`insufficient_storage`: no room on the backup folder's disk; the message names the free space and what was needed when known. Nothing was stored",
};

/**
 * `responses` entries for the error statuses a route can answer, all with the
 * shared error body. 500 is added to every route: any of them can fail.
 */
export function errorResponses(...statuses: number[]): RouteConfig["responses"] {
  const out: RouteConfig["responses"] = {};
  for (const status of [...statuses, 500]) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error",
      content: { "application/json": { schema: ErrorBodySchema } },
    };
  }
  return out;
}

/** A JSON response of `schema` (a `responses` entry). */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/**
 * A required JSON request body of `schema`. Pair it with the `jsonOnly`
 * middleware so a body of another type gets a 400 that says what to send.
 */
/**
 * A `limit` query parameter: a whole number from 1 to `max`, read from the
 * query string, with the same messages on every route that pages.
 */
export function limitQuery(max: number, description: string) {
  return z.coerce
    .number()
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(max, { error: `must be at most ${max}` })
    .optional()
    .openapi({ description });
}

export function jsonBody<S extends z.ZodType>(schema: S) {
  return { required: true, content: { "application/json": { schema } } };
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Route middleware for a JSON body: anything but `Content-Type: application/json`
 * is refused with a 400 that says so (the validator would otherwise list every
 * field as missing, and the generic media-type gate would answer a bare 415).
 */
export const jsonOnly: MiddlewareHandler = async function jsonOnly(c, next) {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
  if (!JSON_TYPE.test(type)) throw new ValidationError("Send the request body as JSON with Content-Type: application/json.");
  await next();
};

/** Names of the security schemes in the document. */
const BEARER_AUTH = "bearerAuth";
const SESSION_AUTH = "sessionCookie";

/** `security` of a route anyone may call, without a token (login, this document). */
export const PUBLIC: NonNullable<RouteConfig["security"]> = [];

/** `security` of a route open to admins (or, with `x-role: any`, to anyone signed in), by token or by session. */
export const ADMIN_SECURITY: NonNullable<RouteConfig["security"]> = [{ [BEARER_AUTH]: [] }, { [SESSION_AUTH]: [] }];

/**
 * A router for documented routes: `router.openapi(createRoute(…), handler)`
 * validates with the route's zod schemas and adds the route to the router's
 * registry, which `app.route()` merges into the app's. Validation failures
 * throw `ValidationError`, so they reach the one error mapper (400 with a
 * message naming each field) like every other error.
 */
export function createDocumentedRoutes<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationErrorFrom(result.error);
    },
  });
}

/** The OpenAPI 3.1 object (as JSON-ready data). */
export type ApiDocument = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/**
 * Adds the shared security schemes (admin token, session cookie) to a router's
 * registry; routes with a scheme of their own (the cron secret) register it
 * beside the route.
 */
export function registerSecuritySchemes<E extends Env>(routes: OpenAPIHono<E>): void {
  routes.openAPIRegistry.registerComponent("securitySchemes", BEARER_AUTH, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A token from POST /api/auth/login (or, with JWKS_URL, from your identity provider).",
  });
  routes.openAPIRegistry.registerComponent("securitySchemes", SESSION_AUTH, {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: "The browser session set by the /login page (HttpOnly, SameSite=Strict).",
  });
}

/**
 * Builds the OpenAPI document of `app` from the routes it serves: every route
 * registered with `openapi()` (and not hidden) on a router mounted into it,
 * with the zod schemas it validates with.
 */
export function buildApiDocument(app: Pick<OpenAPIHono, "getOpenAPI31Document">, version: string): ApiDocument {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Lifeboat API",
      version,
      license: { name: "MIT", url: "https://opensource.org/license/mit" },
      description:
        "Backs up and restores the app's libSQL/SQLite database. Every error answers " +
        '`{"error":{"code","message","requestId"}}` with a fitting status.',
    },
    // Relative: the API is served by the Lifeboat that serves this document, wherever it is mounted.
    servers: [{ url: "/", description: "This Lifeboat" }],
    tags: [
      { name: "backups", description: "Create, list, download, upload, import, delete and pin backups" },
      { name: "accounts", description: "Log in and manage users" },
      { name: "schedule", description: "Automatic backups" },
      { name: "docs", description: "This document and its readable page" },
    ],
  });
}

/** `true` when A and B are the same type, each assignable to the other. */
export type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * A compile-time proof, nothing at run time: `agree<Exact<z.infer<typeof S>, T>>()`
 * stops the build when a documented schema drifts from the type a handler sends.
 */
export const agree = <T extends true>(): T | undefined => undefined;
