import type { Client } from "@libsql/client";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Clock } from "./clock.ts";
import type { Principal } from "./auth/principal.ts";
import type { Config } from "./config.ts";
import type { WriteGate } from "./db/write-gate.ts";
import { backupDirCheck, databaseCheck, type ReadinessCheck } from "./health.ts";
import { createErrorHandler, notFoundHandler } from "./http/errors.tsx";
import { requestLogger } from "./http/request-logger.ts";
import { createStaticAssets } from "./http/static.ts";
import type { Logger } from "./logger.ts";
import { VERSION } from "./paths.ts";
import { healthRoutes } from "./routes/health.ts";
import { homeRoutes } from "./routes/home.tsx";

/** Everything the HTTP app needs, built by the runtime entry (or a test) and passed in. */
export interface AppDeps {
  config: Config;
  db: Client;
  logger: Logger;
  clock: Clock;
  /** Every in-process database write queues here (see write-gate.ts). */
  writeGate: WriteGate;
  /** Extra readiness checks beyond the database and the backup folder. */
  readinessChecks?: ReadinessCheck[];
}

/** Variables routes can read from the context. */
export type AppEnv = {
  Variables: {
    requestId: string;
    /** Set by the auth middleware once the request is authenticated. */
    principal?: Principal;
  };
};

/** Security headers for every response, with a CSP that still lets htmx work (no inline script or style). */
const SECURITY_HEADERS = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
  referrerPolicy: "same-origin",
  crossOriginEmbedderPolicy: false,
  permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
});

/**
 * Builds the Hono app from its dependencies. Never listens and starts no timers:
 * the runtime entries (`main-node.ts`, `main-deno.ts`) and tests call `app.fetch`.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const assets = createStaticAssets();
  const readinessChecks = [
    databaseCheck(deps.db),
    backupDirCheck(deps.config.backupDir),
    ...(deps.readinessChecks ?? []),
  ];

  app.use(requestId({ headerName: "X-Request-Id" }));
  app.use(requestLogger(deps.logger));
  app.use(SECURITY_HEADERS);

  app.route("/", assets.routes);
  app.route("/", healthRoutes({ readinessChecks, version: VERSION }));
  app.route("/", homeRoutes({ readinessChecks, version: VERSION, assetVersion: assets.version }));

  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(deps.logger));
  return app;
}
