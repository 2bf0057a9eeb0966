import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { principalOf, requireAdmin, viewerOf } from "../auth/middleware.ts";
import { startSession } from "../auth/session.ts";
import { AppError, NotFoundError } from "../errors.ts";
import { describeError } from "../http/errors.tsx";
import { isHtmx, renderPage } from "../http/render.tsx";
import { validate } from "../http/validation.ts";
import type { User, UserService } from "../users/service.ts";
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

/** Query of `GET /api/audit` (also used by the OpenAPI document). */
export const auditQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, { error: "must be a whole number from 1 to 1000" })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, { error: "must be a whole number from 1 to 1000" })
    .optional(),
});

/**
 * Admin user management with two faces over the same verbs: JSON under
 * /api/users and the htmx page /admin/users. Every route requires an admin.
 */
export function userRoutes(opts: UserRoutesOptions): Hono<AppEnv> {
  const { users } = opts;
  const routes = new Hono<AppEnv>();
  const admin = requireAdmin(opts.auth);
  for (const path of ["/api/users", "/api/users/*", "/api/audit", "/admin/users", "/admin/users/*"]) {
    routes.use(path, admin);
  }
  const actor = (c: Context<AppEnv>) => principalOf(c).username;

  // JSON API
  routes.get("/api/users", async (c) => c.json({ users: await users.listUsers() }));

  routes.post("/api/users", validate("json", createUserSchema), async (c) => {
    const user = await users.createUser(actor(c), c.req.valid("json"));
    c.header("Location", `/api/users/${user.id}`);
    return c.json(user, 201);
  });

  routes.get("/api/users/:id", validate("param", userIdSchema), async (c) => c.json(await users.getUser(c.req.valid("param").id)));

  routes.patch("/api/users/:id", validate("param", userIdSchema), validate("json", updateUserSchema), async (c) =>
    c.json(await users.updateUser(actor(c), c.req.valid("param").id, c.req.valid("json"))),
  );

  routes.delete("/api/users/:id", validate("param", userIdSchema), async (c) => {
    await users.deleteUser(actor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  routes.get("/api/audit", validate("query", auditQuerySchema), async (c) =>
    c.json({ entries: await users.listAudit({ limit: c.req.valid("query").limit ?? 100 }) }),
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
    let user: User;
    try {
      user = await users.updateUser(actor(c), id, change);
    } catch (err) {
      // Refused (e.g. the last admin): put the row back as it really is, and say why.
      if (!(err instanceof AppError) || err instanceof NotFoundError) throw err;
      const current = await users.getUser(id);
      const { status, message } = describeError(err);
      c.header("Cache-Control", "no-store");
      return c.html(
        <>
          <UserRow user={current} viewer={viewerOf(c)!} />
          <template>
            <StatusError message={message} />
          </template>
        </>,
        status,
      );
    }
    const me = principalOf(c);
    if (change.password !== undefined && me.via === "session" && me.userId === user.id) {
      // An admin who resets their own password keeps this browser signed in (all others end).
      const active = await users.findActiveUser(user.id);
      if (active) await startSession(c, opts.auth, active);
    }
    return changeFragment(c, <UserRow user={user} viewer={viewerOf(c)!} />, describeChange(user, change));
  });

  routes.delete("/admin/users/:id", validate("param", userIdSchema), async (c) => {
    const user = await users.deleteUser(actor(c), c.req.valid("param").id);
    // The empty main content replaces (removes) the row.
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
