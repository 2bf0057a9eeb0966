import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.ts";
import { ADMIN_SECURITY, createDocumentedRoutes, errorResponses } from "../http/openapi.ts";
import type { UserChangeAction } from "../users/events.ts";
import type { AuditEntry, User } from "../users/service.ts";
import {
  changePasswordSchema,
  createUserSchema,
  loginSchema,
  updateUserSchema,
  userIdSchema,
} from "../users/validation.ts";
import { CronQuerySchema } from "./cron.ts";
import { auditQuerySchema } from "./users.tsx";
import { BackupMetaSchema } from "./backups-schemas.ts";

/**
 * The OpenAPI entries of the routes written with plain Hono and `validate()`
 * (accounts: src/routes/auth.tsx, src/routes/users.tsx; the cron trigger:
 * src/routes/cron.ts). Their request schemas are the very zod schemas those
 * routes validate with, imported; their response schemas mirror the services'
 * types and are checked against them at compile time. A test compares the
 * document with the routes the app really serves, so a new route cannot be
 * left out.
 */

const CRON_SECRET_AUTH = "cronSecret";

const UserSchema = z
  .object({
    id: z.number().int(),
    username: z.string().openapi({ example: "alice" }),
    role: z.enum(["admin", "user"]),
    disabled: z.boolean(),
    createdAt: z.string().openapi({ format: "date-time" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("User");

const USER_CHANGE_ACTIONS = [
  "user.create",
  "user.update",
  "user.role",
  "user.password",
  "user.disable",
  "user.enable",
  "user.delete",
] as const satisfies readonly UserChangeAction[];

const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string().openapi({ format: "date-time" }),
    actor: z.string(),
    action: z.enum(USER_CHANGE_ACTIONS),
    target: z.object({ id: z.number().int(), username: z.string() }),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEntry");

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

const CronResultSchema = BackupMetaSchema.extend({
  created: z.boolean().openapi({ description: "False when this period already had its backup" }),
  periodKey: z.string().openapi({ description: "The scheduled period", example: "2026-11-27T00:00" }),
}).openapi("CronBackup");

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const jsonBody = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { "application/json": { schema } },
});
const userParams = { params: userIdSchema };

export interface OtherApiRoutesOptions {
  /** The cron trigger is served only when the app has a scheduler. */
  cron: boolean;
}

/** Paths only (no handlers): merged into the document by `buildApiDocument`. */
export function otherApiRoutesForDocs(options: OtherApiRoutesOptions): OpenAPIHono<AppEnv> {
  const docs = createDocumentedRoutes<AppEnv>();
  const r = docs.openAPIRegistry;

  r.registerPath(
    createRoute({
      method: "post",
      path: "/api/auth/login",
      tags: ["accounts"],
      summary: "Log in: exchange a username and password for an API token",
      description: "Rate-limited per client and username. Wrong credentials get one generic 401.",
      request: { body: jsonBody(loginSchema) },
      responses: { 200: json(TokenSchema, "A token and its expiry"), ...errorResponses(400, 401, 429) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "get",
      path: "/api/auth/me",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      "x-role": "any",
      summary: "Who the token or session belongs to",
      responses: { 200: json(MeSchema, "The signed-in identity"), ...errorResponses(401) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "post",
      path: "/api/account/password",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      "x-role": "any",
      summary: "Change your own password",
      description: "Tokens and sessions issued before stop working.",
      request: { body: jsonBody(changePasswordSchema) },
      responses: { 204: { description: "Changed" }, ...errorResponses(400, 401, 403, 429) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "get",
      path: "/api/users",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      summary: "List users",
      responses: { 200: json(z.object({ users: z.array(UserSchema) }), "All users"), ...errorResponses(401, 403) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "post",
      path: "/api/users",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      summary: "Add a user",
      request: { body: jsonBody(createUserSchema) },
      responses: { 201: json(UserSchema, "The new user"), ...errorResponses(400, 401, 403, 409) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "get",
      path: "/api/users/{id}",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      summary: "One user",
      request: userParams,
      responses: { 200: json(UserSchema, "The user"), ...errorResponses(400, 401, 403, 404) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "patch",
      path: "/api/users/{id}",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      summary: "Change a user's role, password or disabled flag",
      description: "The last enabled admin cannot be demoted or disabled (409).",
      request: { ...userParams, body: jsonBody(updateUserSchema) },
      responses: { 200: json(UserSchema, "The changed user"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "delete",
      path: "/api/users/{id}",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      summary: "Delete a user",
      description: "The last enabled admin cannot be deleted (409).",
      request: userParams,
      responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 409) },
    }),
  );
  r.registerPath(
    createRoute({
      method: "get",
      path: "/api/audit",
      tags: ["accounts"],
      security: ADMIN_SECURITY,
      summary: "The audit trail of user changes, newest first",
      request: { query: auditQuerySchema },
      responses: { 200: json(z.object({ entries: z.array(AuditEntrySchema) }), "Audit entries"), ...errorResponses(400, 401, 403) },
    }),
  );
  if (!options.cron) return docs;
  r.registerComponent("securitySchemes", CRON_SECRET_AUTH, {
    type: "http",
    scheme: "bearer",
    description: "CRON_SECRET, for platforms that run their own cron",
  });
  r.registerPath(
    createRoute({
      method: "post",
      path: "/api/cron/backup",
      tags: ["schedule"],
      security: [{ [CRON_SECRET_AUTH]: [] }, ...ADMIN_SECURITY],
      summary: "External trigger: take this period's scheduled backup",
      description:
        "For platforms that run their own cron. Once per scheduled period: a second call in the same period answers " +
        "200 with the existing backup; `force=true` makes a new one anyway. 404 when CRON_SECRET is unset and no " +
        "credentials are sent.",
      request: { query: CronQuerySchema },
      responses: {
        201: json(CronResultSchema, "A new scheduled backup"),
        200: json(CronResultSchema, "This period's existing backup"),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
  );
  return docs;
}

// Compile-time proof that the response schemas match the services' types, both ways.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Exact<z.infer<typeof UserSchema>, User>>();
agree<Exact<z.infer<typeof AuditEntrySchema>, AuditEntry>>();
agree<Exact<UserChangeAction, (typeof USER_CHANGE_ACTIONS)[number]>>();
