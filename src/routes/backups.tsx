import { createRoute, z, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { principalOf, requireAdmin, viewerOf } from "../auth/middleware.ts";
import type { BackupEngine, DeleteScope } from "../backups/engine.ts";
import { formatBytes } from "../bytes.ts";
import type { Config } from "../config.ts";
import { DEFAULT_PAGE_SIZE } from "../backups/list-query.ts";
import { ADMIN_SECURITY, createDocumentedRoutes, errorResponses, jsonBody, jsonOnly, jsonResponse } from "../http/openapi.ts";
import { renderPage } from "../http/render.tsx";
import { withUpload, type UploadOptions } from "../http/upload.ts";
import { validate } from "../http/validation.ts";
import type { ScheduleStatus } from "../schedule/status.ts";
import type { BackupListQuery } from "../backups/list-query.ts";
import {
  BACKUPS_CHANGED,
  BackupRow,
  BackupsContent,
  BackupsPage,
  BackupStatusCard,
  BackupRows,
  BackupTable,
  BulkDeleteMessage,
  ImportResultView,
  PAGE,
  PAGE_SIZE,
  PreviewView,
  StoredUploadView,
  WAS_RUNNING_HEADER,
} from "../../templates/backups.tsx";
import { StatusMessage } from "../../templates/status.tsx";
import {
  BackupListSchema,
  BackupMetaSchema,
  BackupNameParamSchema,
  BackupListQuerySchema,
  BackupPreviewSchema,
  BulkDeleteBodySchema,
  BulkDeleteFormSchema,
  BulkDeleteResultSchema,
  CancelImportSchema,
  DeleteScopeSchema,
  ImportResultSchema,
  ListedBackupSchema,
  ScheduleStatusSchema,
  UPLOAD_BODY,
  UPLOAD_BODY_COMPONENT,
  VerifyReportSchema,
} from "./backups-schemas.ts";

/** The engine verbs these routes call (src/backups/engine.ts); each handler calls one. */
type BackupRoutesEngine = Pick<
  BackupEngine,
  | "createBackup"
  | "listBackups"
  | "openBackup"
  | "deleteBackup"
  | "setPinned"
  | "storeUpload"
  | "importBackup"
  | "previewBackup"
  | "findBackups"
  | "deleteBackups"
  | "importUpload"
  | "checkUploadStart"
  | "uploadTempPath"
  | "uploadWriteFailure"
  | "checkIdle"
  | "activity"
  | "verifyBackup"
  | "cancelImport"
>;

export interface BackupRoutesOptions {
  engine: BackupRoutesEngine;
  /** The scheduler's view: next run, last runs, what runs now (see src/schedule/status.ts). */
  scheduleStatus: () => Promise<ScheduleStatus>;
  auth: Auth;
  config: Pick<Config, "maxUploadBytes" | "offsite">;
  assetVersion: string;
}

// The /api routes of this file, as the OpenAPI document shows them; each is
// served together with its page twin by `serve()` in backupRoutes.
const tags = ["backups"];
const security = ADMIN_SECURITY;
const nameParams = { params: BackupNameParamSchema };

const listRoute = createRoute({
  method: "get",
  path: "/api/backups",
  operationId: "listBackups",
  tags,
  security,
  summary: "List backups, newest first; filter, sort and page",
  description:
    "Without parameters: every backup once, newest first, with where its copies are (`location`: here, offsite, both). " +
    "With any of `trigger`, `location`, `sort`, `order`, `limit`, `cursor`: one " +
    "page (default 50) of the matching backups; the body is still an array, the paging is in the headers: " +
    "`X-Total-Count` and `X-Total-Bytes` (matching backups), `X-Next-Cursor` and `Link: <…>; rel=\"next\"` " +
    "(absent on the last page), `X-Free-Bytes` (room left on the backup disk). Served from an in-memory index of the folder " +
    "and a listing of the bucket reused for a few seconds; when the bucket cannot be listed, the local backups are listed " +
    "and the status says why.",
  request: { query: BackupListQuerySchema },
  responses: {
    200: {
      ...jsonResponse(BackupListSchema, "The backups (one page of them when paging)"),
      headers: z.object({
        "X-Total-Count": z.string().openapi({ description: "Backups matching the filter" }),
        "X-Total-Bytes": z.string().openapi({ description: "Their bytes on disk" }),
        "X-Next-Cursor": z.string().optional().openapi({ description: "Pass as `cursor` for the next page" }),
        Link: z.string().optional().openapi({ description: '`<…>; rel="next"` while there are more' }),
        "X-Free-Bytes": z.string().optional().openapi({ description: "Free space on the backup disk, when known" }),
      }),
    },
    ...errorResponses(400, 401, 403, 503),
  },
});

const bulkDeleteRoute = createRoute({
  method: "post",
  path: "/api/backups/delete",
  operationId: "deleteBackups",
  tags,
  security,
  summary: "Delete several backups",
  description:
    "Each backup is deleted or refused on its own (pinned, being imported, not there); the answer says which and why. " +
    "`from` says which copies go, as for a single delete (default: every copy).",
  middleware: [jsonOnly],
  request: { body: jsonBody(BulkDeleteBodySchema) },
  responses: { 200: jsonResponse(BulkDeleteResultSchema, "What was deleted and what was refused"), ...errorResponses(400, 401, 403) },
});

const createBackupRoute = createRoute({
  method: "post",
  path: "/api/backups",
  operationId: "createBackup",
  tags,
  security,
  summary: "Take a backup now",
  description: "A consistent snapshot of the database, written atomically; trigger `manual`.",
  responses: {
    201: { ...jsonResponse(BackupMetaSchema, "The new backup"), headers: z.object({ Location: z.string() }) },
    ...errorResponses(401, 403, 409, 503, 507),
  },
});

const statusRoute = createRoute({
  method: "get",
  path: "/api/backups/status",
  operationId: "getBackupStatus",
  tags,
  security,
  summary: "What runs now, the last run of each kind, the next scheduled backup",
  description: "The backup or import running now (if any), the last backup and import of this process, the last run of each automatic kind and the next scheduled backup.",
  responses: { 200: jsonResponse(ScheduleStatusSchema, "Backup status"), ...errorResponses(401, 403) },
});

const uploadRoute = createRoute({
  method: "post",
  path: "/api/backups/upload",
  operationId: "uploadBackup",
  tags,
  security,
  summary: "Upload a dump and store it as a backup (not imported)",
  description:
    "The file is streamed to disk (never held in memory), limited by MAX_UPLOAD_BYTES, checked by its content " +
    "with the import's rules and stored with trigger `upload`.",
  request: { body: UPLOAD_BODY },
  responses: {
    201: { ...jsonResponse(BackupMetaSchema, "The stored backup"), headers: z.object({ Location: z.string() }) },
    ...errorResponses(400, 401, 403, 409, 413, 422, 503, 507),
  },
});

const importUploadRoute = createRoute({
  method: "post",
  path: "/api/backups/import",
  operationId: "uploadAndImportBackup",
  tags,
  security,
  summary: "Upload a dump, store it and import it",
  description:
    "Replaces the database with the uploaded dump, all or nothing. A `pre-import` safety backup of the current " +
    "database is taken first; a refused file changes nothing.",
  request: { body: UPLOAD_BODY },
  responses: { 200: jsonResponse(ImportResultSchema, "What was imported"), ...errorResponses(400, 401, 403, 409, 413, 422, 503, 507) },
});

const downloadRoute = createRoute({
  method: "get",
  path: "/api/backups/{name}",
  operationId: "downloadBackup",
  tags,
  security,
  summary: "Download a backup",
  description:
    "Streams the file with `Content-Disposition: attachment` and the server's name. An off-site-only backup is streamed " +
    "from the bucket; the download then fails at its end if the bytes do not match the recorded SHA-256.",
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
        "application/octet-stream": { schema: z.string().openapi({ format: "binary", description: "An age-encrypted `.age` backup" }) },
      },
    },
    ...errorResponses(400, 401, 403, 404, 502),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/api/backups/{name}",
  operationId: "deleteBackup",
  tags,
  security,
  summary: "Delete a backup",
  description:
    "Removes the backup's copies: `from=all` (default) every copy, `from=here` only the one in the backup folder, " +
    "`from=offsite` only the one in the bucket. 404 when there is no copy where asked; a pinned backup, or the one " +
    "being restored, answers 409.",
  request: { ...nameParams, query: z.object({ from: DeleteScopeSchema.optional() }) },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 409, 502) },
});

const importByNameRoute = createRoute({
  method: "post",
  path: "/api/backups/{name}/import",
  operationId: "importBackup",
  tags,
  security,
  summary: "Restore the database from a listed backup",
  description:
    "All or nothing, after a `pre-import` safety backup. The source backup stays in the list. An off-site-only backup is " +
    "downloaded into the backup folder first and its SHA-256 checked (422 when it differs; nothing is kept).",
  request: nameParams,
  responses: { 200: jsonResponse(ImportResultSchema, "What was imported"), ...errorResponses(400, 401, 403, 404, 409, 422, 502, 503, 507) },
});

const previewRoute = createRoute({
  method: "get",
  path: "/api/backups/{name}/preview",
  operationId: "previewBackup",
  tags,
  security,
  summary: "What restoring a backup would do (changes nothing)",
  description:
    "A dry run of the import into a scratch database: the backup's kind, its checksum against the one recorded, rows per " +
    "table next to the live database's, the admin accounts that would exist afterwards, or why the import would refuse it. " +
    "An off-site-only backup is downloaded for the dry run and removed again.",
  request: nameParams,
  responses: { 200: jsonResponse(BackupPreviewSchema, "The preview"), ...errorResponses(400, 401, 403, 404, 502) },
});

const verifyRoute = createRoute({
  method: "post",
  path: "/api/backups/{name}/verify",
  operationId: "verifyBackup",
  tags,
  security,
  summary: "Verify a backup: recorded sha256, the checking pass and a dry-run restore into a scratch database",
  description:
    "Changes nothing but the backup's recorded verification (result and time), which the list shows. A file that fails is answered 200 with `ok: false` and the reason. " +
    "An off-site-only backup is first downloaded into the backup folder (streamed; 422 and nothing kept when its bytes differ from the recorded SHA-256).",
  request: nameParams,
  responses: { 200: jsonResponse(VerifyReportSchema, "The verification's outcome"), ...errorResponses(400, 401, 403, 404, 422, 502) },
});

const cancelImportRoute = createRoute({
  method: "post",
  path: "/api/backups/import/cancel",
  operationId: "cancelImport",
  tags,
  security,
  summary: "Stop the running import (its checking pass included) and roll it back",
  description:
    "Answers once the import has stopped: rolled back, its safety backup removed, the job lock released. The import's own request gets 409 `import_cancelled`. 409 `not_running` when no import runs.",
  responses: { 200: jsonResponse(CancelImportSchema, "The import was stopped"), ...errorResponses(401, 403, 409) },
});

const pinRoute = createRoute({
  method: "post",
  path: "/api/backups/{name}/pin",
  operationId: "pinBackup",
  tags,
  security,
  summary: "Pin a backup: retention never removes it",
  description:
    "Pinned backups are never removed by retention (here or off-site) and do not count toward its limits; they cannot be " +
    "deleted until unpinned. Both copies are pinned.",
  request: nameParams,
  responses: { 200: jsonResponse(ListedBackupSchema, "The pinned backup"), ...errorResponses(400, 401, 403, 404, 502) },
});

const unpinRoute = createRoute({
  method: "delete",
  path: "/api/backups/{name}/pin",
  operationId: "unpinBackup",
  tags,
  security,
  summary: "Unpin a backup",
  description: "Retention may remove the backup again once it is no longer among the ones kept.",
  request: nameParams,
  responses: { 200: jsonResponse(ListedBackupSchema, "The unpinned backup"), ...errorResponses(400, 401, 403, 404, 502) },
});

/**
 * What an action is served with on both faces: the API route's validation (so
 * `c.req.valid` is typed by its schemas) without its JSON response typing,
 * because the same handler renders the page's fragments too. The JSON bodies
 * are the engine's own types, which backups-schemas.ts proves equal to the
 * documented schemas, so the document cannot drift from what is sent.
 */
type Faces<R extends RouteConfig> = Omit<R, "responses" | "path" | "hide"> & {
  path: string;
  responses: typeof FACE_RESPONSES;
  hide: true;
};
const FACE_RESPONSES = { 200: { description: "JSON on /api, an htmx fragment on /admin" } };
type FaceHandler<R extends RouteConfig> = RouteHandler<Faces<R>, AppEnv>;

/** True for the JSON face (/api/*); the page face (/admin/backups/*) answers with fragments. */
function isApi(c: Context<AppEnv>): boolean {
  return c.req.path.startsWith("/api/");
}

function actorOf(c: Context<AppEnv>): string {
  return principalOf(c).username;
}

/** The filter and sort of a list query, as strings (for the `Link` of the next page). */
function filterOf(query: BackupListQuery): Record<string, string> {
  const filter: Record<string, string> = {};
  if (query.trigger !== undefined) filter.trigger = query.trigger;
  if (query.location !== undefined) filter.location = query.location;
  if (query.sort !== undefined) filter.sort = query.sort;
  if (query.order !== undefined) filter.order = query.order;
  return filter;
}

/** Tells the page's table and status card to refresh themselves. */
function announceChange(c: Context<AppEnv>): void {
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
  /** Off-site storage is on: the page says where each backup's copies are. */
  const where = opts.config.offsite !== null;
  const { scheduleStatus } = opts;
  const uploadOptions: UploadOptions = {
    maxBytes: opts.config.maxUploadBytes,
    tempPath: () => engine.uploadTempPath(),
    // Refuse what is neither SQL text nor gzip after its first bytes; the full check is the engine's.
    checkStart: (firstBytes) => engine.checkUploadStart(firstBytes),
    writeFailed: (err, declaredBytes) => engine.uploadWriteFailure(err, declaredBytes),
  };

  /** One handler per action, shared by both faces; each is typed by its API route. */
  const list: FaceHandler<typeof listRoute> = async (c) => {
    const query = c.req.valid("query");
    const paging = Object.values(query).some((v) => v !== undefined);
    // Without parameters the API lists everything, as it always has; the page shows a page at a time.
    const limit = query.limit ?? (isApi(c) ? (paging ? DEFAULT_PAGE_SIZE : Number.MAX_SAFE_INTEGER) : PAGE_SIZE);
    const page = await engine.findBackups({ ...query, limit });
    c.header("X-Total-Count", String(page.total));
    c.header("X-Total-Bytes", String(page.totalBytes));
    if (page.usage.freeBytes !== null) c.header("X-Free-Bytes", String(page.usage.freeBytes));
    if (page.nextCursor) {
      c.header("X-Next-Cursor", page.nextCursor);
      const next = new URLSearchParams({ ...filterOf(query), limit: String(limit), cursor: page.nextCursor });
      c.header("Link", `<${c.req.path}?${next}>; rel="next"`);
    }
    if (isApi(c)) return c.json(page.items, 200);
    const view = { trigger: query.trigger, location: query.location, sort: query.sort, order: query.order };
    // "Load more" asks with a cursor: only the next rows (and the next "load more").
    if (query.cursor) {
      return c.html(<BackupRows page={page} busy={busy()} view={view} shown={Number(c.req.query("shown") ?? 0)} where={where} />);
    }
    return c.html(<BackupTable page={page} busy={busy()} view={view} where={where} />);
  };

  // Bulk delete: the API takes JSON; the page's form sends its ticked checkboxes (checked
  // by the same schema, see BulkDeleteFormSchema). One engine verb, one message.
  const bulkDelete: RouteHandler<typeof bulkDeleteRoute, AppEnv> = async (c) => {
    const { names, from } = c.req.valid("json");
    return c.json(await engine.deleteBackups(names, from ? { from } : {}), 200);
  };

  const create: FaceHandler<typeof createBackupRoute> = async (c) => {
    const backup = await engine.createBackup({ trigger: "manual", actor: actorOf(c) });
    if (isApi(c)) {
      c.header("Location", `/api/backups/${encodeURIComponent(backup.name)}`);
      return c.json(backup, 201);
    }
    announceChange(c);
    return c.html(<StatusMessage message={`Backup ${backup.name} taken (${formatBytes(backup.size, "decimal")}).`} />, 201);
  };

  const status: FaceHandler<typeof statusRoute> = async (c) => {
    const status = await scheduleStatus();
    if (isApi(c)) return c.json(status, 200);
    // The card polls only while something runs (and says so in a header); when a poll
    // finds the engine idle again, the table refreshes too: the run that ended changed it.
    if (status.running === null && c.req.header(WAS_RUNNING_HEADER) === "true") announceChange(c);
    return c.html(<BackupStatusCard status={status} />);
  };

  const upload: FaceHandler<typeof uploadRoute> = async (c) => {
    const backup = await withUpload(c.req.raw, uploadOptions, (file) => engine.storeUpload(file.path, { actor: actorOf(c) }));
    if (isApi(c)) {
      c.header("Location", `/api/backups/${encodeURIComponent(backup.name)}`);
      return c.json(backup, 201);
    }
    // "Store and import" on the page: the stored copy is previewed, and imported once confirmed there.
    const thenPreview = c.req.query("then") === "preview";
    if (thenPreview) c.header("HX-Trigger", JSON.stringify({ [BACKUPS_CHANGED]: null, "open-preview": { name: backup.name } }));
    else announceChange(c);
    return c.html(<StoredUploadView backup={backup} thenPreview={thenPreview} />, 201);
  };

  const importUpload: FaceHandler<typeof importUploadRoute> = async (c) => {
    // The engine would refuse after the upload; say so before a large file travels for nothing.
    engine.checkIdle();
    const result = await withUpload(c.req.raw, uploadOptions, (file) => engine.importUpload(file.path, { actor: actorOf(c) }));
    if (isApi(c)) return c.json(result, 200);
    announceChange(c);
    return c.html(<ImportResultView result={result} />);
  };

  const download: FaceHandler<typeof downloadRoute> = async (c) => {
    const { meta, stream } = await engine.openBackup(c.req.valid("param").name);
    c.header("Content-Type", meta.encrypted ? "application/octet-stream" : meta.compressed ? "application/gzip" : "application/sql");
    c.header("Content-Length", String(meta.size));
    // The name is the server's own (a safe pattern), so it needs no quoting beyond this.
    c.header("Content-Disposition", `attachment; filename="${meta.name}"`);
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    return c.body(stream, 200);
  };

  const remove: FaceHandler<typeof deleteRoute> = async (c) => {
    const { name } = c.req.valid("param");
    const from: DeleteScope = c.req.valid("query").from ?? "all";
    const { removed } = await engine.deleteBackup(name, { from });
    if (isApi(c)) return c.body(null, 204);
    announceChange(c);
    const where = removed.length === 2 ? " (here and off-site)" : removed[0] === "offsite" ? " (off-site)" : "";
    // 200 with no row: htmx swaps the row away (a 204 would swap nothing).
    return c.html(<StatusMessage message={`Backup ${name} deleted${where}.`} />, 200);
  };

  const preview: FaceHandler<typeof previewRoute> = async (c) => {
    const preview = await engine.previewBackup(c.req.valid("param").name);
    if (isApi(c)) return c.json(preview, 200);
    return c.html(<PreviewView preview={preview} purpose={c.req.query("purpose") === "undo" ? "undo" : "restore"} />);
  };

  const pin: FaceHandler<typeof pinRoute> = async (c) => {
    const backup = await engine.setPinned(c.req.valid("param").name, true);
    if (isApi(c)) return c.json(backup, 200);
    return c.html(
      <>
        <BackupRow backup={backup} busy={busy()} where={where} />
        <StatusMessage message={`Backup ${backup.name} pinned: retention will keep it.`} />
      </>,
    );
  };

  const unpin: FaceHandler<typeof unpinRoute> = async (c) => {
    const backup = await engine.setPinned(c.req.valid("param").name, false);
    if (isApi(c)) return c.json(backup, 200);
    return c.html(
      <>
        <BackupRow backup={backup} busy={busy()} where={where} />
        <StatusMessage message={`Backup ${backup.name} unpinned.`} />
      </>,
    );
  };

  const verify: FaceHandler<typeof verifyRoute> = async (c) => {
    const report = await engine.verifyBackup(c.req.valid("param").name);
    if (isApi(c)) {
      const r = report.result;
      return c.json(
        {
          ok: report.ok,
          message: report.message,
          backup: report.backup,
          kind: r?.content.kind ?? null,
          tables: r?.tables ?? null,
          rows: r?.rows ?? null,
          migrated: r?.migrated ?? null,
          durationMs: r?.durationMs ?? null,
        },
        200,
      );
    }
    const b = report.backup;
    return c.html(
      <>
        <BackupRow backup={b} busy={busy()} />
        <StatusMessage
          message={
            report.ok
              ? `${b.name} verified: it restores cleanly (${report.result!.tables} tables, ${report.result!.rows} rows; ${report.result!.content.kind === "plain" ? "application tables only, Lifeboat's accounts would be kept" : "with Lifeboat's accounts"}).`
              : `${b.name} failed verification: ${report.message}`
          }
        />
      </>,
      200,
    );
  };

  const cancelImport: FaceHandler<typeof cancelImportRoute> = async (c) => {
    await engine.cancelImport(actorOf(c));
    const message = "The running import was stopped and rolled back; the database is unchanged.";
    if (isApi(c)) return c.json({ cancelled: true as const, message }, 200);
    announceChange(c);
    return c.html(<StatusMessage message={message} />, 200);
  };

  const importByName: FaceHandler<typeof importByNameRoute> = async (c) => {
    const result = await engine.importBackup(c.req.valid("param").name, { actor: actorOf(c) });
    if (isApi(c)) return c.json(result, 200);
    announceChange(c);
    return c.html(<ImportResultView result={result} />);
  };

  /**
   * Serves one action on both faces with `handler`: the API route, documented
   * as declared, and its page twin at `pagePath` (hidden), with the same
   * validation.
   */
  function serve<R extends RouteConfig>(route: R, pagePath: string, handler: FaceHandler<R>): void {
    routes.openAPIRegistry.registerPath(route);
    const { responses: _documented, path: _apiPath, hide: _hide, ...rest } = route;
    for (const path of [route.path, pagePath]) {
      const face: Faces<R> = { ...rest, path, responses: FACE_RESPONSES, hide: true };
      routes.openapi(face, handler);
    }
  }

  routes.openAPIRegistry.registerComponent("schemas", UPLOAD_BODY_COMPONENT.name, UPLOAD_BODY_COMPONENT.schema);
  // Static paths before `{name}` ones: the first matching handler answers.
  serve(listRoute, `${PAGE}/table`, list);
  routes.openapi(bulkDeleteRoute, bulkDelete);
  routes.post(`${PAGE}/delete`, validate("form", BulkDeleteFormSchema), async (c) => {
    const { names, from } = c.req.valid("form");
    const result = await engine.deleteBackups(names, from ? { from } : {});
    announceChange(c);
    return c.html(<BulkDeleteMessage result={result} />);
  });
  serve(createBackupRoute, PAGE, create);
  serve(statusRoute, `${PAGE}/status`, status);
  serve(uploadRoute, `${PAGE}/upload`, upload);
  serve(importUploadRoute, `${PAGE}/import`, importUpload);
  serve(cancelImportRoute, `${PAGE}/import/cancel`, cancelImport);
  serve(downloadRoute, `${PAGE}/{name}/download`, download);
  serve(deleteRoute, `${PAGE}/{name}`, remove);
  serve(importByNameRoute, `${PAGE}/{name}/import`, importByName);
  serve(previewRoute, `${PAGE}/{name}/preview`, preview);
  serve(verifyRoute, `${PAGE}/{name}/verify`, verify);
  serve(pinRoute, `${PAGE}/{name}/pin`, pin);
  serve(unpinRoute, `${PAGE}/{name}/pin`, unpin);

  // The page itself: what the list and status handlers show, in the layout.
  routes.get(PAGE, async (c) => {
    const [page, status] = await Promise.all([engine.findBackups({ limit: PAGE_SIZE }), scheduleStatus()]);
    const props = { page, status, maxUploadBytes: opts.config.maxUploadBytes };
    return renderPage(
      c,
      () => <BackupsPage {...props} viewer={viewerOf(c)!} assetVersion={opts.assetVersion} />,
      () => <BackupsContent {...props} />,
    );
  });

  return routes;
}
