import { Hono } from "hono";
import { checkReadiness, type ReadinessCheck } from "../health.ts";
import { HomePage } from "../../templates/home.tsx";

export interface HomeRoutesOptions {
  readinessChecks: ReadinessCheck[];
  version: string;
  assetVersion: string;
}

export function homeRoutes(opts: HomeRoutesOptions): Hono {
  const routes = new Hono();
  routes.get("/", async (c) => {
    const readiness = await checkReadiness(opts.readinessChecks);
    c.header("Cache-Control", "no-store");
    return c.html(<HomePage version={opts.version} readiness={readiness} assetVersion={opts.assetVersion} />);
  });
  return routes;
}
