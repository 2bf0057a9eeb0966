import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { principalOf, requireAdmin, viewerOf } from "../auth/middleware.ts";
import { startSession } from "../auth/session.ts";
import { AppError, NotFoundError } from "../errors.ts";
import { showErrorsAs } from "../http/errors.tsx";
import {
  ADMIN_SECURITY,
  agree,
  createDocumentedRoutes,
  errorResponses,
  jsonBody,
  jsonOnly,
  jsonResponse,
  type Exact,
} from "../http/openapi.ts";
import { isHtmx, renderPage } from "../http/render.tsx";
import { validate } from "../http/validation.ts";
import type { UserChangeAction } from "../users/events.ts";
import type { AuditEntry, User, UserService } from "../users/service.ts";
import { createUserSchema, updateUserFormSchema, updateUserSchema, userIdSchema } from "../users/validation.ts";
import { StatusError, StatusMessage } from "../../templates/status.tsx";
import { AddUserForm, AuditList, UserRow, UsersPage } from "../../templates/users.tsx";

export interface UserRoutesOptions {
  auth: Auth;
  users: UserService;
  assetVersion: string;
}

/** Entries of the audit trail shown on the page. */
const PAGE_AUDIT_ENTRIES = 15;

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
  "user.sessions",
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

/** Query of `GET /api/audit`. */
const auditQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, { error: "must be a whole number from 1 to 1000" })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, { error: "must be a whole number from 1 to 1000" })
    // Documented as the integer it is; the query string carries it as text.
    .openapi({ type: "integer", minimum: 1, maximum: 1000, description: "How many entries (default 100)", example: 100 })
    .optional(),
});

// The /api routes of this file, as the OpenAPI document shows them.
const tags = ["accounts"];
const security = ADMIN_SECURITY;
/** `{id}`, documented as the integer it is; the path carries it as text, which userIdSchema checks and converts. */
const userParams = {
  params: z.object({
    id: userIdSchema.shape.id.openapi({
      param: { name: "id", in: "path" },
      type: "integer",
      minimum: 1,
      description: "A user's id (`id` in the user objects)",
      example: 2,
    }),
  }),
};

const listUsersRoute = createRoute({
  method: "get",
  path: "/api/users",
  operationId: "listUsers",
  tags,
  security,
  summary: "List users",
  description: "Every account with its role, status and creation time.",
  responses: { 200: jsonResponse(z.object({ users: z.array(UserSchema) }), "All users"), ...errorResponses(401, 403) },
});

const createUserRoute = createRoute({
  method: "post",
  path: "/api/users",
  operationId: "createUser",
  tags,
  security,
  summary: "Add a user",
  description: "Usernames are 3–64 of `A-Z a-z 0-9 . _ -`, not case-sensitive; passwords 12–256 characters, not only spaces, and not common or easily guessed (zxcvbn score 3 or more; 400 says why). A taken name answers 409.",
  middleware: [jsonOnly],
  request: { body: jsonBody(createUserSchema) },
  responses: { 201: jsonResponse(UserSchema, "The new user"), ...errorResponses(400, 401, 403, 409) },
});

const getUserRoute = createRoute({
  method: "get",
  path: "/api/users/{id}",
  operationId: "getUser",
  tags,
  security,
  summary: "One user",
  description: "One account by its id.",
  request: userParams,
  responses: { 200: jsonResponse(UserSchema, "The user"), ...errorResponses(400, 401, 403, 404) },
});

const updateUserRoute = createRoute({
  method: "patch",
  path: "/api/users/{id}",
  operationId: "updateUser",
  tags,
  security,
  summary: "Change a user's role, password or disabled flag",
  description: "The last enabled admin cannot be demoted or disabled (409).",
  middleware: [jsonOnly],
  request: { ...userParams, body: jsonBody(updateUserSchema) },
  responses: { 200: jsonResponse(UserSchema, "The changed user"), ...errorResponses(400, 401, 403, 404, 409) },
});

const deleteUserRoute = createRoute({
  method: "delete",
  path: "/api/users/{id}",
  operationId: "deleteUser",
  tags,
  security,
  summary: "Delete a user",
  description: "The last enabled admin cannot be deleted (409).",
  request: userParams,
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 409) },
});

const revokeSessionsRoute = createRoute({
  method: "post",
  path: "/api/users/{id}/revoke-sessions",
  operationId: "revokeUserSessions",
  tags,
  security,
  summary: "Sign a user out everywhere: end all their sessions and API tokens",
  description:
    "Every browser session and API token the user holds is refused from then on, by every instance; they can sign in again. Audited as `user.sessions`.",
  request: userParams,
  responses: { 200: jsonResponse(UserSchema, "The user, now signed out everywhere"), ...errorResponses(400, 401, 403, 404) },
});

const auditRoute = createRoute({
  method: "get",
  path: "/api/audit",
  operationId: "listAuditEntries",
  tags,
  security,
  summary: "The audit trail of user changes, newest first",
  description: "Who changed which account how, and when; `limit` entries (default 100).",
  request: { query: auditQuerySchema },
  responses: {
    200: jsonResponse(z.object({ entries: z.array(AuditEntrySchema) }), "Audit entries"),
    ...errorResponses(400, 401, 403),
  },
});

/**
 * Admin user management with two faces over the same verbs: JSON under
 * /api/users and the htmx page /admin/users. Every route requires an admin.
 */
export function userRoutes(opts: UserRoutesOptions) {
  const { users } = opts;
  const routes = createDocumentedRoutes<AppEnv>();
  const admin = requireAdmin(opts.auth);
  for (const path of ["/api/users", "/api/users/*", "/api/audit", "/admin/users", "/admin/users/*"]) {
    routes.use(path, admin);
  }
  const actor = (c: Context<AppEnv>) => principalOf(c).username;

  // JSON API
  routes.openapi(listUsersRoute, async (c) => c.json({ users: await users.listUsers() }, 200));

  routes.openapi(createUserRoute, async (c) => {
    const user = await users.createUser(actor(c), c.req.valid("json"));
    c.header("Location", `/api/users/${user.id}`);
    return c.json(user, 201);
  });

  routes.openapi(getUserRoute, async (c) => c.json(await users.getUser(c.req.valid("param").id), 200));

  routes.openapi(updateUserRoute, async (c) =>
    c.json(await users.updateUser(actor(c), c.req.valid("param").id, c.req.valid("json")), 200),
  );

  routes.openapi(deleteUserRoute, async (c) => {
    await users.deleteUser(actor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  routes.openapi(revokeSessionsRoute, async (c) => c.json(await users.endSessions(actor(c), c.req.valid("param").id), 200));

  routes.openapi(auditRoute, async (c) =>
    c.json({ entries: await users.listAudit({ limit: c.req.valid("query").limit ?? 100 }) }, 200),
  );

  // htmx page
  routes.get("/admin/users", async (c) => {
    const viewer = viewerOf(c)!;
    const list = await users.listUsers();
    const audit = isHtmx(c) ? [] : await users.listAudit({ limit: PAGE_AUDIT_ENTRIES });
    return renderPage(
      c,
      () => <UsersPage users={list} audit={audit} viewer={viewer} assetVersion={opts.assetVersion} />,
      () => (
        <>
          {list.map((u) => (
            <UserRow user={u} viewer={viewer} />
          ))}
        </>
      ),
    );
  });

  routes.post("/admin/users", validate("form", createUserSchema), async (c) => {
    const user = await users.createUser(actor(c), c.req.valid("form"));
    // Without JavaScript the form posts normally: show the page again.
    if (!isHtmx(c)) return c.redirect("/admin/users", 303);
    return changeFragment(c, <UserRow user={user} viewer={viewerOf(c)!} />, `Added ${user.username} (${user.role}).`, {
      resetAddForm: true,
    });
  });

  routes.patch("/admin/users/:id", validate("param", userIdSchema), validate("form", updateUserFormSchema), async (c) => {
    const id = c.req.valid("param").id;
    const change = c.req.valid("form");
    // Refused (e.g. the last admin): put the row back as it really is, and say why.
    showErrorsAs(c, async ({ message }, cause) => {
      if (!(cause instanceof AppError) || cause instanceof NotFoundError) return null;
      const current = await users.getUser(id);
      return (
        <>
          <UserRow user={current} viewer={viewerOf(c)!} />
          <template>
            <StatusError message={message} />
          </template>
        </>
      );
    });
    const user = await users.updateUser(actor(c), id, change);
    const me = principalOf(c);
    if (change.password !== undefined && me.via === "session" && me.userId === user.id) {
      // An admin who resets their own password keeps this browser signed in (all others end).
      const active = await users.findActiveUser(user.id);
      if (active) await startSession(c, opts.auth, active);
    }
    return changeFragment(c, <UserRow user={user} viewer={viewerOf(c)!} />, describeChange(user, change));
  });

  routes.post("/admin/users/:id/revoke-sessions", validate("param", userIdSchema), async (c) => {
    const user = await users.endSessions(actor(c), c.req.valid("param").id);
    const me = principalOf(c);
    let message = `Signed ${user.username} out everywhere: their sessions and API tokens no longer work.`;
    if (me.via === "session" && me.userId === user.id) {
      // Like resetting their own password: this browser stays signed in, every other one is out.
      const active = await users.findActiveUser(user.id);
      if (active) await startSession(c, opts.auth, active);
      message = "You were signed out everywhere else: your other sessions and API tokens no longer work.";
    }
    if (!isHtmx(c)) return c.redirect("/admin/users", 303);
    return changeFragment(c, <UserRow user={user} viewer={viewerOf(c)!} />, message);
  });

  routes.delete("/admin/users/:id", validate("param", userIdSchema), async (c) => {
    const user = await users.deleteUser(actor(c), c.req.valid("param").id);
    // The empty main content replaces (removes) the row.
    // deno-lint-ignore jsx-no-useless-fragment -- the empty element is the point: the swap removes the row
    return changeFragment(c, <></>, `Deleted ${user.username}.`);
  });

  /**
   * The changed row plus, out of band, the status message, the audit list and
   * maybe a fresh add form. The out-of-band parts sit in a `<template>`: after a
   * `<tr>` the HTML parser is in table mode, where a `<form>` would lose its
   * children; htmx takes oob elements out of templates.
   */
  async function changeFragment(
    c: Context<AppEnv>,
    main: ReturnType<typeof UserRow>,
    message: string,
    options: { resetAddForm?: boolean } = {},
  ) {
    const audit = await users.listAudit({ limit: PAGE_AUDIT_ENTRIES });
    c.header("Cache-Control", "no-store");
    return c.html(
      <>
        {main}
        <template>
          <StatusMessage message={message} />
          <AuditList entries={audit} oob />
          {options.resetAddForm && <AddUserForm oob />}
        </template>
      </>,
    );
  }

  return routes;
}

function describeChange(user: User, change: { role?: string; password?: string; disabled?: boolean }): string {
  const parts: string[] = [];
  if (change.role !== undefined) parts.push(`role is ${user.role}`);
  if (change.password !== undefined) parts.push("password was reset");
  if (change.disabled !== undefined) parts.push(user.disabled ? "is disabled" : "is enabled");
  return `${user.username}: ${parts.join(", ")}.`;
}

// Compile-time proof that the response schemas match the service's types, both ways.
agree<Exact<z.infer<typeof UserSchema>, User>>();
agree<Exact<z.infer<typeof AuditEntrySchema>, AuditEntry>>();
agree<Exact<UserChangeAction, (typeof USER_CHANGE_ACTIONS)[number]>>();
