import { OpenAPIHono, z, type RouteConfig } from "@hono/zod-openapi";
import type { Env } from "hono";
import { SESSION_COOKIE } from "../auth/session.ts";
import { validationErrorFrom } from "../users/validation.ts";

/** The error body every /api route answers with (see src/http/errors.tsx). */
export const ErrorBodySchema = z
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
};

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS & number;

/** `responses` entries for the error statuses a route can answer, all with the shared error body. */
export function errorResponses(...statuses: number[]): RouteConfig["responses"] {
  const out: RouteConfig["responses"] = {};
  for (const status of statuses) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error",
      content: { "application/json": { schema: ErrorBodySchema } },
    };
  }
  return out;
}

/** Names of the security schemes in the document. */
export const BEARER_AUTH = "bearerAuth";
export const SESSION_AUTH = "sessionCookie";

/** `security` of a route open to admins, by token or by session. */
export const ADMIN_SECURITY: NonNullable<RouteConfig["security"]> = [{ [BEARER_AUTH]: [] }, { [SESSION_AUTH]: [] }];

/**
 * A sub-app for documented routes. Its validation failures throw
 * `ValidationError`, so they reach the one error mapper (400 with a message
 * naming each field) like every other error.
 */
export function createDocumentedRoutes<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationErrorFrom(result.error);
    },
  });
}

export interface ApiDocumentOptions {
  version: string;
  /** Routers whose registries hold the documented routes (merged in order). */
  sources: OpenAPIHono<never>[] | OpenAPIHono<any>[];
}

/** The OpenAPI 3.1 object (as JSON-ready data). */
export type ApiDocument = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/**
 * Builds the OpenAPI document from the zod schemas the routes validate with:
 * the sources' registries are merged into one throwaway router (never served),
 * the security schemes are added, and the generator does the rest.
 */
export function buildApiDocument(options: ApiDocumentOptions): ApiDocument {
  const hub = new OpenAPIHono();
  for (const source of options.sources) hub.route("/", source as OpenAPIHono);
  hub.openAPIRegistry.registerComponent("securitySchemes", BEARER_AUTH, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A token from POST /api/auth/login (or, with JWKS_URL, from your identity provider).",
  });
  hub.openAPIRegistry.registerComponent("securitySchemes", SESSION_AUTH, {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: "The browser session set by the /login page (HttpOnly, SameSite=Strict).",
  });
  return hub.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Lifeboat API",
      version: options.version,
      description:
        "Backs up and restores the app's libSQL/SQLite database. Every error answers " +
        '`{"error":{"code","message","requestId"}}` with a fitting status.',
    },
    tags: [
      { name: "backups", description: "Create, list, download, upload, import, delete and pin backups" },
      { name: "accounts", description: "Log in and manage users" },
      { name: "schedule", description: "Automatic backups" },
      { name: "docs", description: "This document and its readable page" },
    ],
  });
}
