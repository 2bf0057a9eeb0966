import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { identify } from "../auth/middleware.ts";
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from "../errors.ts";
import type { Scheduler } from "../schedule/scheduler.ts";

export interface CronRoutesOptions {
  scheduler: Pick<Scheduler, "triggerScheduled">;
  /** CRON_SECRET; when unset, only admin tokens are accepted and a bare request gets 404. */
  cronSecret: string | undefined;
  auth: Auth;
}

export const CronQuerySchema = z.object({
  force: z
    .enum(["true", "false", "1", "0"], { error: "force must be true or false" })
    .optional()
    .transform((v) => v === "true" || v === "1"),
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

/** Who may trigger: the CRON_SECRET bearer (actor `cron`) or an admin token (actor = username). */
async function cronActor(c: Context<AppEnv>, opts: CronRoutesOptions): Promise<string> {
  const header = c.req.header("Authorization");
  if (header === undefined) {
    if (!opts.cronSecret) {
      // Disabled unless someone proves who they are: the route does not advertise itself.
      throw new NotFoundError("No such page or route: POST /api/cron/backup");
    }
    throw new UnauthorizedError("Send Authorization: Bearer <CRON_SECRET> or an admin token.");
  }
  const m = BEARER_RE.exec(header);
  if (m && opts.cronSecret && secretMatches(m[1]!, opts.cronSecret)) return "cron";
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
  return principal.username;
}

/**
 * `POST /api/cron/backup`: the external trigger for platforms with their own
 * cron. 201 with the new scheduled backup, or 200 with the one this period
 * already has (`created: false`); `?force=true` makes a new one anyway.
 */
export function cronRoutes(opts: CronRoutesOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.post("/api/cron/backup", async (c) => {
    // Authorize before looking at the input: strangers learn nothing about it.
    const actor = await cronActor(c, opts);
    const query = CronQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new ValidationError(query.error.issues.map((i) => i.message).join("; "), "force");
    const result = await opts.scheduler.triggerScheduled({ actor, force: query.data.force });
    c.header("Cache-Control", "no-store");
    return c.json({ ...result.backup, created: result.created, periodKey: result.periodKey }, result.created ? 201 : 200);
  });
  return routes;
}
