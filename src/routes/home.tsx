import { Hono } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { landingPathFor, optionalAuth, requireAdmin, viewerOf } from "../auth/middleware.ts";
import { checkReadiness, type ReadinessCheck } from "../health.ts";
import { HomePage } from "../../templates/home.tsx";

export interface HomeRoutesOptions {
  readinessChecks: ReadinessCheck[];
  version: string;
  assetVersion: string;
  auth: Auth;
}

/**
 * `/` sends each visitor where they belong: admins to the backups, users to
 * their account, everyone else to the sign-in page. `/admin` is the admins'
 * overview of the service's health.
 */
export function homeRoutes(opts: HomeRoutesOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get("/", optionalAuth(opts.auth), (c) => {
    const viewer = viewerOf(c);
    c.header("Cache-Control", "no-store");
    return c.redirect(viewer ? landingPathFor(viewer.role) : "/login", 303);
  });
  routes.get("/admin", requireAdmin(opts.auth), async (c) => {
    const readiness = await checkReadiness(opts.readinessChecks);
    c.header("Cache-Control", "no-store");
    return c.html(
      <HomePage version={opts.version} readiness={readiness} viewer={viewerOf(c)} assetVersion={opts.assetVersion} />,
    );
  });
  return routes;
}
