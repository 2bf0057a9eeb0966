import { createHash, timingSafeEqual } from "node:crypto";
import { prometheus } from "@hono/prometheus";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { identify } from "../auth/middleware.ts";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";

export interface MetricsRoutesOptions {
  metrics: Metrics;
  /** METRICS_TOKEN; without it only admin tokens may scrape. */
  metricsToken: string | undefined;
  auth: Auth;
}

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Constant-time comparison; hashing first hides the secret's length too. */
function tokenMatches(presented: string, secret: string): boolean {
  return timingSafeEqual(createHash("sha256").update(presented).digest(), createHash("sha256").update(secret).digest());
}

/** The scraper: `Authorization: Bearer <METRICS_TOKEN>`, or an admin's token or session. */
async function authorizeScrape(c: Context<AppEnv>, opts: MetricsRoutesOptions): Promise<void> {
  const m = BEARER_RE.exec(c.req.header("Authorization") ?? "");
  if (m && opts.metricsToken && tokenMatches(m[1]!, opts.metricsToken)) return;
  let principal;
  try {
    principal = await identify(c, opts.auth);
  } catch (err) {
    if (err instanceof UnauthorizedError) throw new UnauthorizedError("Wrong METRICS_TOKEN or invalid token.");
    throw err;
  }
  if (!principal) {
    c.header("WWW-Authenticate", 'Bearer realm="lifeboat metrics"');
    throw new UnauthorizedError("Send Authorization: Bearer <METRICS_TOKEN> or an admin token.");
  }
  if (principal.role !== "admin") throw new ForbiddenError("Metrics need METRICS_TOKEN or an admin account.");
}

/**
 * Prometheus: `countRequests` (Hono's Prometheus middleware, on Lifeboat's
 * registry) counts and times every request by method, route pattern and
 * status; `GET /metrics` serves the registry in the text exposition format.
 */
export function metricsRoutes(opts: MetricsRoutesOptions): { countRequests: MiddlewareHandler; routes: Hono<AppEnv> } {
  const { registerMetrics } = prometheus({ registry: opts.metrics.registry, prefix: "lifeboat_" });
  const routes = new Hono<AppEnv>();
  routes.get("/metrics", async (c) => {
    await authorizeScrape(c, opts);
    const body = await opts.metrics.registry.metrics();
    return c.body(body, 200, { "Content-Type": opts.metrics.registry.contentType, "Cache-Control": "no-store" });
  });
  return { countRequests: registerMetrics, routes };
}
