import { createHash, timingSafeEqual } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { identify } from "../auth/middleware.ts";
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from "../errors.ts";
import { ADMIN_SECURITY, createDocumentedRoutes, errorResponses, jsonResponse } from "../http/openapi.ts";
import type { Scheduler } from "../schedule/scheduler.ts";
import { BackupMetaSchema } from "./backups-schemas.ts";

export interface CronRoutesOptions {
  scheduler: Pick<Scheduler, "triggerScheduled">;
  /** CRON_SECRET; when unset, only admin tokens are accepted and a bare request gets 404. */
  cronSecret: string | undefined;
  auth: Auth;
}

const CronQuerySchema = z.object({
  force: z
    .enum(["true", "false", "1", "0"], { error: "force must be true or false" })
    .optional()
    .transform((v) => v === "true" || v === "1"),
});

const CronResultSchema = BackupMetaSchema.extend({
  created: z.boolean().openapi({ description: "False when this period already had its backup" }),
  periodKey: z.string().openapi({ description: "The scheduled period", example: "2026-11-27T00:00" }),
}).openapi("CronBackup");

const CRON_SECRET_AUTH = "cronSecret";

const cronBackupRoute = createRoute({
  method: "post",
  path: "/api/cron/backup",
  operationId: "triggerScheduledBackup",
  tags: ["schedule"],
  security: [{ [CRON_SECRET_AUTH]: [] }, ...ADMIN_SECURITY],
  summary: "External trigger: take this period's scheduled backup",
  description:
    "For platforms that run their own cron. Once per scheduled period: a second call in the same period answers " +
    "200 with the existing backup; `force=true` makes a new one anyway. 404 when CRON_SECRET is unset and no " +
    "credentials are sent.",
  request: { query: CronQuerySchema },
  responses: {
    201: jsonResponse(CronResultSchema, "A new scheduled backup"),
    200: jsonResponse(CronResultSchema, "This period's existing backup"),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Compares in constant time. Hashing first gives both sides the same length,
 * so neither the content nor the length of the secret leaks through timing.
 */
function secretMatches(presented: string, secret: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b);
}

/**
 * Lets through the CRON_SECRET bearer or an admin token (which sets
 * `principal`). Runs before the query is validated: strangers learn nothing
 * about the input.
 */
function cronAuthorization(opts: CronRoutesOptions): MiddlewareHandler<AppEnv> {
  return async function authorizeCron(c, next) {
    const header = c.req.header("Authorization");
    if (header === undefined) {
      if (!opts.cronSecret) {
        // Disabled unless someone proves who they are: the route does not advertise itself.
        throw new NotFoundError("No such page or route: POST /api/cron/backup");
      }
      throw new UnauthorizedError("Send Authorization: Bearer <CRON_SECRET> or an admin token.");
    }
    const m = BEARER_RE.exec(header);
    if (m && opts.cronSecret && secretMatches(m[1]!, opts.cronSecret)) return next();
    let principal;
    try {
      principal = await identify(c, opts.auth);
    } catch (err) {
      if (err instanceof UnauthorizedError) {
        throw new UnauthorizedError("Wrong CRON_SECRET or invalid token.");
      }
      throw err;
    }
    if (!principal) throw new UnauthorizedError("Wrong CRON_SECRET or invalid token.");
    if (principal.role !== "admin") throw new ForbiddenError("This needs CRON_SECRET or an admin account.");
    await next();
  };
}

/**
 * `POST /api/cron/backup`: the external trigger for platforms with their own
 * cron. 201 with the new scheduled backup, or 200 with the one this period
 * already has (`created: false`); `?force=true` makes a new one anyway.
 */
export function cronRoutes(opts: CronRoutesOptions) {
  const routes = createDocumentedRoutes<AppEnv>();
  routes.openAPIRegistry.registerComponent("securitySchemes", CRON_SECRET_AUTH, {
    type: "http",
    scheme: "bearer",
    description: "CRON_SECRET, for platforms that run their own cron",
  });
  routes.openapi(
    { ...cronBackupRoute, middleware: cronAuthorization(opts) },
    async (c) => {
      const { force } = c.req.valid("query");
      // An admin token left its principal; the cron secret is the only way in without one.
      const actor = c.get("principal")?.username ?? "cron";
      const result = await opts.scheduler.triggerScheduled({ actor, force });
      c.header("Cache-Control", "no-store");
      return c.json({ ...result.backup, created: result.created, periodKey: result.periodKey }, result.created ? 201 : 200);
    },
    // This route's message has always named the parameter in its own words ("force must be true or false").
    (result) => {
      if (!result.success) throw new ValidationError(result.error.issues.map((i) => i.message).join("; "), "force");
      return undefined;
    },
  );
  return routes;
}
