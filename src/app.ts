import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Client } from "@libsql/client";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Clock } from "./clock.ts";
import type { Auth } from "./auth/auth.ts";
import { csrfProtection } from "./auth/csrf.ts";
import type { EventBus } from "./events.ts";
import type { UserChangeEvent } from "./users/events.ts";
import type { UserService } from "./users/service.ts";
import type { BackupEngine } from "./backups/engine.ts";
import type { Config } from "./config.ts";
import type { WriteGate } from "./db/write-gate.ts";
import { backupDirCheck, databaseCheck, type ReadinessCheck } from "./health.ts";
import type { AppEnv } from "./http/env.ts";
import { createErrorHandler, notFoundHandler } from "./http/errors.tsx";
import { buildApiDocument, createDocumentedRoutes } from "./http/openapi.ts";
import { requestLogger } from "./http/request-logger.ts";
import { createStaticAssets } from "./http/static.ts";
import type { Logger } from "./logger.ts";
import { VERSION } from "./paths.ts";
import { healthRoutes } from "./routes/health.ts";
import { homeRoutes } from "./routes/home.tsx";
import { authRoutes } from "./routes/auth.tsx";
import { userRoutes } from "./routes/users.tsx";
import { apiDocsRoutes } from "./routes/api-docs.tsx";
import { backupRoutes } from "./routes/backups.tsx";
import { cronRoutes } from "./routes/cron.ts";
import { runRoutes } from "./routes/runs.tsx";
import type { Scheduler } from "./schedule/scheduler.ts";
import { statusWithoutScheduler } from "./schedule/status.ts";
import type { Metrics } from "./metrics.ts";
import { metricsRoutes } from "./routes/metrics.ts";

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
  /** The user database (accounts, passwords, audit trail). */
  users: UserService;
  /** Who a request comes from: tokens, sessions, login rate limit, client address. */
  auth: Auth;
  /** One event per committed change of the user database (the scheduler subscribes). */
  events: EventBus<UserChangeEvent>;
  /** The backup engine (src/backups/engine.ts): the verbs the backup routes call. */
  backups: BackupEngine;
  /**
   * Automatic backups (src/schedule/scheduler.ts): `scheduleStatus()` for the
   * status route, `triggerScheduled()` for POST /api/cron/backup. Built and
   * started by bootLifeboat; without it the cron route answers 404.
   */
  scheduler?: Scheduler;
  /** Prometheus registry (src/metrics.ts); with it, requests are counted and `GET /metrics` serves it. */
  metrics?: Metrics;
}

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
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  // Every router mounted here adds its documented routes to the app's registry:
  // the OpenAPI document is built from what the app really serves.
  const app = createDocumentedRoutes<AppEnv>();
  const assets = createStaticAssets();
  const readinessChecks = [
    databaseCheck(deps.db),
    backupDirCheck(deps.config.backupDir),
    ...(deps.readinessChecks ?? []),
  ];

  app.use(requestId({ headerName: "X-Request-Id" }));
  app.use(requestLogger(deps.logger));
  const metrics = deps.metrics && metricsRoutes({ metrics: deps.metrics, metricsToken: deps.config.metricsToken, auth: deps.auth });
  if (metrics) app.use(metrics.countRequests);
  app.use(SECURITY_HEADERS);
  // The cron trigger accepts only the Authorization header, never a cookie, so a
  // cross-site form cannot ride on it; registered before the CSRF guard so a bare
  // `curl -X POST` gets its own answer (404 disabled / 401) instead of a CSRF 403.
  if (deps.scheduler) {
    app.route("/", cronRoutes({ scheduler: deps.scheduler, cronSecret: deps.config.cronSecret, auth: deps.auth }));
  }
  // Cross-site form posts are refused before any route runs (see auth/csrf.ts).
  app.use(csrfProtection({ trustProxy: deps.config.trustProxy }));

  app.route("/", assets.routes);
  app.route("/", healthRoutes({ readinessChecks, version: VERSION }));
  if (metrics) app.route("/", metrics.routes);
  app.route("/", homeRoutes({ readinessChecks, version: VERSION, assetVersion: assets.version, auth: deps.auth }));
  app.route("/", authRoutes({ auth: deps.auth, assetVersion: assets.version }));
  app.route("/", userRoutes({ auth: deps.auth, users: deps.users, assetVersion: assets.version }));
  // Backups: /api/backups (JSON) and /admin/backups (htmx), one handler per action.
  app.route(
    "/",
    backupRoutes({
      engine: deps.backups,
      scheduleStatus: deps.scheduler
        ? () => deps.scheduler!.scheduleStatus()
        : () => statusWithoutScheduler(deps.backups),
      auth: deps.auth,
      config: deps.config,
      assetVersion: assets.version,
    }),
  );
  // The run history: /api/runs (JSON) and /admin/runs (page), one handler.
  app.route("/", runRoutes({ engine: deps.backups, auth: deps.auth, assetVersion: assets.version }));
  // The OpenAPI document and the readable reference, generated from the routes mounted above.
  app.route(
    "/",
    apiDocsRoutes({ auth: deps.auth, assetVersion: assets.version, document: () => buildApiDocument(app, VERSION) }),
  );

  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(deps.logger));
  return app;
}
