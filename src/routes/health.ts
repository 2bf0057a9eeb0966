import { Hono } from "hono";
import { stopwatch } from "../clock.ts";
import { checkReadiness, type ReadinessCheck } from "../health.ts";

export interface HealthRoutesOptions {
  readinessChecks: ReadinessCheck[];
  version: string;
}

/** `/healthz`: the process answers. `/readyz`: it can do its job (503 with reasons otherwise). */
export function healthRoutes(opts: HealthRoutesOptions): Hono {
  const routes = new Hono();
  const uptime = stopwatch();
  routes.get("/healthz", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({
      status: "ok",
      version: opts.version,
      uptimeSeconds: Math.round(uptime() / 1000),
    });
  });
  routes.get("/readyz", async (c) => {
    c.header("Cache-Control", "no-store");
    const readiness = await checkReadiness(opts.readinessChecks);
    return c.json(readiness, readiness.status === "unready" ? 503 : 200);
  });
  return routes;
}
