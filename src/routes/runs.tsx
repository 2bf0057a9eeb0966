import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import type { Auth } from "../auth/auth.ts";
import { requireAdmin, viewerOf } from "../auth/middleware.ts";
import type { BackupEngine } from "../backups/engine.ts";
import { DEFAULT_RUNS_SHOWN, type RunRecord } from "../backups/run-history.ts";
import { BACKUP_TRIGGERS } from "../backups/types.ts";
import type { AppEnv } from "../http/env.ts";
import { ADMIN_SECURITY, agree, createDocumentedRoutes, errorResponses, jsonResponse, limitQuery, type Exact } from "../http/openapi.ts";
import { renderPage } from "../http/render.tsx";
import { validate } from "../http/validation.ts";
import { RUNS_PAGE, RunsContent, RunsPage } from "../../templates/runs.tsx";

export interface RunRoutesOptions {
  engine: Pick<BackupEngine, "listRuns">;
  auth: Auth;
  assetVersion: string;
}

const MAX_RUNS_SHOWN = 1000;

const RunRecordSchema = z
  .object({
    kind: z.enum(["backup", "import"]),
    trigger: z.enum(BACKUP_TRIGGERS).nullable().openapi({ description: "What started a backup; null for an import" }),
    actor: z.string().nullable().openapi({ description: "Who started it; null for the scheduler's own runs" }),
    ok: z.boolean(),
    startedAt: z.string().openapi({ format: "date-time" }),
    finishedAt: z.string().openapi({ format: "date-time" }),
    durationMs: z.number(),
    backup: z.string().nullable().openapi({ description: "The backup written, or the one an import restored" }),
    size: z.number().nullable().openapi({ description: "Bytes of the backup written (backups only)" }),
    safetyBackup: z.string().nullable().openapi({ description: "An import's pre-import safety backup" }),
    tables: z.number().nullable(),
    rows: z.number().nullable(),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .openapi({ description: "Why it failed: the error's code and a message for people" }),
  })
  .openapi("Run");

const RunQuerySchema = z.object({
  kind: z.enum(["backup", "import"]).optional().openapi({ description: "Only backups or only imports" }),
  result: z.enum(["ok", "failed"]).optional().openapi({ description: "Only runs that succeeded, or only failures" }),
  trigger: z.enum(BACKUP_TRIGGERS).optional().openapi({ description: "Only backups with this trigger" }),
  limit: limitQuery(MAX_RUNS_SHOWN, `How many, newest first (default ${DEFAULT_RUNS_SHOWN})`),
});

const listRunsRoute = createRoute({
  method: "get",
  path: "/api/runs",
  operationId: "listRuns",
  tags: ["backups"],
  security: ADMIN_SECURITY,
  summary: "The run history: finished backups and imports, newest first",
  description:
    "Every backup (all triggers) and every import this instance ran, with result, duration, size and, for a failure, " +
    "the error. Kept beside the database (the newest 1000 at least), so it survives restarts and restores. " +
    "`X-Total-Count` is how many runs the history holds in all.",
  request: { query: RunQuerySchema },
  responses: {
    200: {
      ...jsonResponse(z.array(RunRecordSchema), "The runs"),
      headers: z.object({ "X-Total-Count": z.string().openapi({ description: "Runs the history holds (before the filter)" }) }),
    },
    ...errorResponses(400, 401, 403),
  },
});

/**
 * The run history: `GET /api/runs` (JSON) and its page `/admin/runs` (full
 * page, or the table fragment for htmx) — one handler, admin only.
 */
export function runRoutes(opts: RunRoutesOptions) {
  const routes = createDocumentedRoutes<AppEnv>();
  const admin = requireAdmin(opts.auth);
  routes.use("/api/runs", admin);
  routes.use(RUNS_PAGE, admin);

  const list: RouteHandler<typeof listRunsRoute, AppEnv> = async (c) => {
    const query = c.req.valid("query");
    const { runs, kept } = await opts.engine.listRuns(query);
    c.header("X-Total-Count", String(kept));
    c.header("Cache-Control", "no-store");
    return c.json(runs, 200);
  };
  routes.openapi(listRunsRoute, list);

  // The page validates with the same schema; a bad filter is a 400 page like any other.
  routes.get(RUNS_PAGE, validate("query", RunQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const { runs, kept } = await opts.engine.listRuns(query);
    const view = { runs, kept, query };
    return renderPage(
      c,
      () => <RunsPage {...view} viewer={viewerOf(c)!} assetVersion={opts.assetVersion} />,
      () => <RunsContent {...view} />,
    );
  });

  return routes;
}

// Compile-time proof that the documented schema and the history's records agree, both ways.
agree<Exact<z.infer<typeof RunRecordSchema>, RunRecord>>();
