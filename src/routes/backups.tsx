import { createRoute, z, type RouteConfig } from "@hono/zod-openapi";
import type { Context, Handler } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { principalOf, requireAdmin, viewerOf } from "../auth/middleware.ts";
import { createBackupStorage } from "../storage/folder.ts";
import type { BackupEngine } from "../backups/engine.ts";
import type { Config } from "../config.ts";
import { BusyError } from "../errors.ts";
import { ADMIN_SECURITY, createDocumentedRoutes, errorResponses } from "../http/openapi.ts";
import { renderPage } from "../http/render.tsx";
import { withUpload, type UploadOptions } from "../http/upload.ts";
import { createRunLog, mergeLastRuns, type ScheduleStatus } from "../schedule/status.ts";
import {
  BACKUPS_CHANGED,
  BackupRow,
  BackupsContent,
  BackupsPage,
  BackupStatusCard,
  BackupTable,
  formatBytes,
  ImportResultView,
  PAGE,
  StoredUploadView,
  WAS_RUNNING_HEADER,
} from "../../templates/backups.tsx";
import { StatusMessage } from "../../templates/status.tsx";
import {
  BackupListSchema,
  BackupMetaSchema,
  BackupNameParamSchema,
  ImportResultSchema,
  ScheduleStatusSchema,
  UploadBodySchema,
} from "./backups-schemas.ts";

/** The engine verbs these routes call (src/backups/engine.ts); each handler calls one. */
export type BackupRoutesEngine = Pick<
  BackupEngine,
  | "createBackup"
  | "listBackups"
  | "openBackup"
  | "deleteBackup"
  | "setPinned"
  | "storeUpload"
  | "importBackup"
  | "importUpload"
  | "checkUploadStart"
  | "activity"
>;

export interface BackupRoutesOptions {
  engine: BackupRoutesEngine;
  /**
   * The scheduler's view: next run, last runs, what runs now. Without a
   * scheduler (an app built without one) the status says the schedule is off
   * and takes the last runs from the backup folder.
   */
  scheduleStatus?: () => Promise<ScheduleStatus>;
  auth: Auth;
  config: Pick<Config, "backupDir" | "maxUploadBytes">;
  assetVersion: string;
}

type BackupsContext = Context<AppEnv, string, any>;

const tags = ["backups"];
const security = ADMIN_SECURITY;
const nameParams = { params: BackupNameParamSchema };
const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const listRoute = createRoute({
  method: "get",
  path: "/api/backups",
  tags,
  security,
  summary: "List backups, newest first",
  responses: { 200: json(BackupListSchema, "The backups in the backup folder"), ...errorResponses(401, 403) },
});

const createBackupRoute = createRoute({
  method: "post",
  path: "/api/backups",
  tags,
  security,
  summary: "Take a backup now",
  description: "A consistent snapshot of the database, written atomically; trigger `manual`.",
  responses: {
    201: { ...json(BackupMetaSchema, "The new backup"), headers: z.object({ Location: z.string() }) },
    ...errorResponses(401, 403, 409),
  },
});

const statusRoute = createRoute({
  method: "get",
  path: "/api/backups/status",
  tags,
  security,
  summary: "What runs now, the last run of each kind, the next scheduled backup",
  responses: { 200: json(ScheduleStatusSchema, "Backup status"), ...errorResponses(401, 403) },
});

const uploadRoute = createRoute({
  method: "post",
  path: "/api/backups/upload",
  tags,
  security,
  summary: "Upload a dump and store it as a backup (not imported)",
  description:
    "The file is streamed to disk (never held in memory), limited by MAX_UPLOAD_BYTES, checked by its content " +
    "with the import's rules and stored with trigger `upload`.",
  request: { body: { required: true, content: { "multipart/form-data": { schema: UploadBodySchema } } } },
  responses: {
    201: { ...json(BackupMetaSchema, "The stored backup"), headers: z.object({ Location: z.string() }) },
    ...errorResponses(400, 401, 403, 409, 413, 422),
  },
});

const importUploadRoute = createRoute({
  method: "post",
  path: "/api/backups/import",
  tags,
  security,
  summary: "Upload a dump, store it and import it",
  description:
    "Replaces the database with the uploaded dump, all or nothing. A `pre-import` safety backup of the current " +
    "database is taken first; a refused file changes nothing.",
  request: { body: { required: true, content: { "multipart/form-data": { schema: UploadBodySchema } } } },
  responses: { 200: json(ImportResultSchema, "What was imported"), ...errorResponses(400, 401, 403, 409, 413, 422) },
});

const downloadRoute = createRoute({
  method: "get",
  path: "/api/backups/{name}",
  tags,
  security,
  summary: "Download a backup",
  description: "Streams the file with `Content-Disposition: attachment` and the server's name.",
  request: nameParams,
  responses: {
    200: {
      description: "The backup file",
      headers: z.object({
        "Content-Disposition": z.string().openapi({ description: 'attachment; filename="<name>"' }),
        "Content-Length": z.string(),
        "Cache-Control": z.string().openapi({ description: "no-store" }),
      }),
      content: {
        "application/sql": { schema: z.string().openapi({ format: "binary" }) },
        "application/gzip": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/api/backups/{name}",
  tags,
  security,
  summary: "Delete a backup",
  request: nameParams,
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 409) },
});

const importByNameRoute = createRoute({
  method: "post",
  path: "/api/backups/{name}/import",
  tags,
  security,
  summary: "Restore the database from a listed backup",
  description:
    "All or nothing, after a `pre-import` safety backup. The source backup stays in the list.",
  request: nameParams,
  responses: { 200: json(ImportResultSchema, "What was imported"), ...errorResponses(400, 401, 403, 404, 409, 422) },
});

const pinRoute = createRoute({
  method: "post",
  path: "/api/backups/{name}/pin",
  tags,
  security,
  summary: "Pin a backup: retention never removes it",
  request: nameParams,
  responses: { 200: json(BackupMetaSchema, "The pinned backup"), ...errorResponses(400, 401, 403, 404) },
});

const unpinRoute = createRoute({
  method: "delete",
  path: "/api/backups/{name}/pin",
  tags,
  security,
  summary: "Unpin a backup",
  request: nameParams,
  responses: { 200: json(BackupMetaSchema, "The unpinned backup"), ...errorResponses(400, 401, 403, 404) },
});

/** True for the JSON face (/api/*); the page face (/admin/backups/*) answers with fragments. */
function isApi(c: BackupsContext): boolean {
  return c.req.path.startsWith("/api/");
}

function nameOf(c: BackupsContext): string {
  return (c.req.valid as (target: "param") => { name: string })("param").name;
}

function actorOf(c: BackupsContext): string {
  return principalOf(c).username;
}

/** Tells the page's table and status card to refresh themselves. */
function announceChange(c: BackupsContext): void {
  c.header("HX-Trigger", BACKUPS_CHANGED);
}

/**
 * The backups routes, two faces over one handler per action: JSON under
 * /api/backups (documented in the OpenAPI document) and htmx fragments under
 * /admin/backups. Each handler validates (zod, from the route), calls ONE
 * engine verb and renders the result for the face the request came in on.
 * Admin only, everywhere.
 */
export function backupRoutes(opts: BackupRoutesOptions) {
  const { engine } = opts;
  const uploadTemp = createBackupStorage(opts.config.backupDir);
  const routes = createDocumentedRoutes<AppEnv>();
  const admin = requireAdmin(opts.auth);
  for (const path of ["/api/backups", "/api/backups/*", PAGE, `${PAGE}/*`]) {
    routes.use(path, admin);
    // Backup names, sizes and files are nobody's cache's business.
    routes.use(path, async function noStore(c, next) {
      await next();
      if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
    });
  }
  const busy = () => engine.activity() !== null;
  const scheduleStatus =
    opts.scheduleStatus ??
    (async (): Promise<ScheduleStatus> => ({
      schedule: null,
      timezone: "UTC",
      nextRun: null,
      nextPeriodKey: null,
      lastRuns: mergeLastRuns({ runLog: createRunLog(), backups: await engine.listBackups(), latestScheduledRun: null }),
      running: engine.activity(),
      pendingChange: null,
      instance: "",
    }));
  const uploadOptions: UploadOptions = {
    dir: opts.config.backupDir,
    maxBytes: opts.config.maxUploadBytes,
    // The engine's temp names: never listed, and removed at start once this process is gone.
    tempPath: () => uploadTemp.tempPath(".upload"),
    // Refuse what is neither SQL text nor gzip after its first bytes; the full check is the engine's.
    checkStart: (firstBytes) => engine.checkUploadStart(firstBytes),
  };

  /** One handler per action, shared by both faces. */
  const handlers = {
    async list(c: BackupsContext) {
      const backups = await engine.listBackups();
      if (isApi(c)) return c.json(backups, 200);
      return c.html(<BackupTable backups={backups} busy={busy()} />);
    },

    async create(c: BackupsContext) {
      const backup = await engine.createBackup({ trigger: "manual", actor: actorOf(c) });
      if (isApi(c)) {
        c.header("Location", `/api/backups/${encodeURIComponent(backup.name)}`);
        return c.json(backup, 201);
      }
      announceChange(c);
      return c.html(<StatusMessage message={`Backup ${backup.name} taken (${formatBytes(backup.size)}).`} />, 201);
    },

    async status(c: BackupsContext) {
      const status = await scheduleStatus();
      if (isApi(c)) return c.json(status, 200);
      // The card polls only while something runs (and says so in a header); when a poll
      // finds the engine idle again, the table refreshes too: the run that ended changed it.
      if (status.running === null && c.req.header(WAS_RUNNING_HEADER) === "true") announceChange(c);
      return c.html(<BackupStatusCard status={status} />);
    },

    async upload(c: BackupsContext) {
      const backup = await withUpload(c.req.raw, uploadOptions, (file) => engine.storeUpload(file.path, { actor: actorOf(c) }));
      if (isApi(c)) {
        c.header("Location", `/api/backups/${encodeURIComponent(backup.name)}`);
        return c.json(backup, 201);
      }
      announceChange(c);
      return c.html(<StoredUploadView backup={backup} />, 201);
    },

    async importUpload(c: BackupsContext) {
      // The engine would refuse after the upload; say so before a large file travels for nothing.
      const running = engine.activity();
      if (running) throw new BusyError(`${running.kind === "import" ? "An import" : "A backup"} is running; try again when it has finished.`);
      const result = await withUpload(c.req.raw, uploadOptions, (file) => engine.importUpload(file.path, { actor: actorOf(c) }));
      if (isApi(c)) return c.json(result, 200);
      announceChange(c);
      return c.html(<ImportResultView result={result} />);
    },

    async download(c: BackupsContext) {
      const { meta, stream } = await engine.openBackup(nameOf(c));
      c.header("Content-Type", meta.compressed ? "application/gzip" : "application/sql");
      c.header("Content-Length", String(meta.size));
      // The name is the server's own (a safe pattern), so it needs no quoting beyond this.
      c.header("Content-Disposition", `attachment; filename="${meta.name}"`);
      c.header("Cache-Control", "no-store");
      c.header("X-Content-Type-Options", "nosniff");
      return c.body(stream, 200);
    },

    async remove(c: BackupsContext) {
      const name = nameOf(c);
      await engine.deleteBackup(name);
      if (isApi(c)) return c.body(null, 204);
      announceChange(c);
      // 200 with no row: htmx swaps the row away (a 204 would swap nothing).
      return c.html(<StatusMessage message={`Backup ${name} deleted.`} />, 200);
    },

    async pin(c: BackupsContext) {
      const backup = await engine.setPinned(nameOf(c), true);
      if (isApi(c)) return c.json(backup, 200);
      return c.html(
        <>
          <BackupRow backup={backup} busy={busy()} />
          <StatusMessage message={`Backup ${backup.name} pinned: retention will keep it.`} />
        </>,
      );
    },

    async unpin(c: BackupsContext) {
      const backup = await engine.setPinned(nameOf(c), false);
      if (isApi(c)) return c.json(backup, 200);
      return c.html(
        <>
          <BackupRow backup={backup} busy={busy()} />
          <StatusMessage message={`Backup ${backup.name} unpinned.`} />
        </>,
      );
    },

    async importByName(c: BackupsContext) {
      const result = await engine.importBackup(nameOf(c), { actor: actorOf(c) });
      if (isApi(c)) return c.json(result, 200);
      announceChange(c);
      return c.html(<ImportResultView result={result} />);
    },
  } satisfies Record<string, (c: BackupsContext) => Promise<Response>>;

  /**
   * Registers `handler` for the documented API route and, when `pagePath` is
   * given, for the page's twin route with the same validation (hidden from the
   * document). `streamedBody`: the body is documented but not parsed by a
   * validator (uploads are streamed by the handler).
   */
  function mount(route: RouteConfig, pagePath: string | null, handler: Handler<AppEnv>, streamedBody = false): void {
    const validated: RouteConfig = streamedBody ? { ...route, request: { ...route.request, body: undefined } } : route;
    if (streamedBody) {
      routes.openAPIRegistry.registerPath(route);
      routes.openapi({ ...validated, hide: true }, handler as never);
    } else {
      routes.openapi(route, handler as never);
    }
    if (pagePath) routes.openapi({ ...validated, path: pagePath, hide: true }, handler as never);
  }

  // Static paths before `{name}` ones: the first matching handler answers.
  mount(listRoute, `${PAGE}/table`, handlers.list);
  mount(createBackupRoute, PAGE, handlers.create);
  mount(statusRoute, `${PAGE}/status`, handlers.status);
  mount(uploadRoute, `${PAGE}/upload`, handlers.upload, true);
  mount(importUploadRoute, `${PAGE}/import`, handlers.importUpload, true);
  mount(downloadRoute, `${PAGE}/{name}/download`, handlers.download);
  mount(deleteRoute, `${PAGE}/{name}`, handlers.remove);
  mount(importByNameRoute, `${PAGE}/{name}/import`, handlers.importByName);
  mount(pinRoute, `${PAGE}/{name}/pin`, handlers.pin);
  mount(unpinRoute, `${PAGE}/{name}/pin`, handlers.unpin);

  // The page itself: what the list and status handlers show, in the layout.
  routes.get(PAGE, async (c) => {
    const [backups, status] = await Promise.all([engine.listBackups(), scheduleStatus()]);
    const props = { backups, status, maxUploadBytes: opts.config.maxUploadBytes };
    return renderPage(
      c,
      () => <BackupsPage {...props} viewer={viewerOf(c)!} assetVersion={opts.assetVersion} />,
      () => <BackupsContent {...props} />,
    );
  });

  return routes;
}
