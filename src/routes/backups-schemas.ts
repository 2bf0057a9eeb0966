import { z } from "@hono/zod-openapi";
import { isSafeBackupName, SAFE_NAME_RE } from "../storage/names.ts";
import {
  BACKUP_LOCATIONS,
  BACKUP_TRIGGERS,
  type BackupMeta,
  type BackupPreview,
  type EngineActivity,
  type ImportResult,
  type ListedBackup,
} from "../backups/types.ts";
import { agree, limitQuery, type Exact } from "../http/openapi.ts";
import type { ScheduleStatus } from "../schedule/status.ts";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../backups/list-query.ts";

/**
 * The zod schemas of the backups API: the routes validate with them and the
 * OpenAPI document is generated from them. The `Exact` checks at the end keep
 * them equal to the engine's and the scheduler's TypeScript types, so the
 * document cannot drift from what the handlers send.
 */

const isoDateTime = (description: string) =>
  z.string().openapi({ format: "date-time", description, example: "2026-11-26T00:00:00.000Z" });

const BackupTriggerSchema = z.enum(BACKUP_TRIGGERS).openapi("BackupTrigger", {
  description: "Why a backup was taken",
});

const BackupVerificationSchema = z
  .object({
    ok: z.boolean().openapi({ description: "False when the file failed: changed sha256, refused content, or a failed dry-run restore" }),
    at: isoDateTime("When the verification ran"),
    message: z.string().nullable().openapi({ description: "Why it failed; null when it passed" }),
  })
  .openapi("BackupVerification");

export const BackupMetaSchema = z
  .object({
    name: z.string().openapi({
      description: "Server-generated file name; use it in the other routes",
      example: "lifeboat-20261126-000000-manual.sql",
    }),
    createdAt: isoDateTime("When the backup was taken (ISO 8601 with offset)"),
    size: z.number().int().openapi({ description: "Bytes on disk", example: 52431 }),
    trigger: z.union([BackupTriggerSchema, z.literal("unknown")]).openapi({
      description: "`unknown` for a file dropped into the backup folder by hand",
    }),
    actor: z.string().nullable().openapi({ description: "Who caused it (a username, `scheduler`, `cli`)", example: "admin" }),
    sha256: z.string().nullable().openapi({ description: "Hex SHA-256 of the file as stored; null when not yet known" }),
    compressed: z.boolean().openapi({ description: "True for `.sql.gz` (and `.sql.gz.age`) files" }),
    encrypted: z.boolean().openapi({ description: "True for age-encrypted `.age` files" }),
    rowCounts: z.record(z.string(), z.number().int()).nullable().openapi({ description: "Rows per table at the time of the dump" }),
    pinned: z.boolean().openapi({ description: "Pinned backups are never removed by retention" }),
    periodKey: z.string().nullable().optional().openapi({ description: "Scheduled period this backup belongs to" }),
    offsiteAt: z.string().nullable().optional().openapi({ format: "date-time", description: "When this copy was confirmed in the off-site bucket" }),
    restoreProblems: z
      .array(z.string())
      .optional()
      .openapi({
        description:
          "Present when Lifeboat could not restore this backup (found when it was written), e.g. a CHECK constraint calling a function only the application registers",
      }),
    kind: z.enum(["lifeboat", "plain"]).nullable().optional().openapi({
      description:
        "`lifeboat`: restoring it replaces Lifeboat's accounts, audit trail and schedule state too; `plain`: only the application's tables are replaced and Lifeboat's current accounts are kept; null until known (verify tells)",
    }),
    verification: BackupVerificationSchema.nullable().optional().openapi({ description: "The last verification; null when never verified" }),
  })
  .openapi("Backup");

const OffsiteCopyStateSchema = z
  .object({
    state: z.enum(["waiting", "uploading", "failed"]),
    attempts: z.number().int(),
    error: z.string().nullable(),
    nextAttemptAt: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("OffsiteCopyState", { description: "A backup on its way off-site" });

export const ListedBackupSchema = BackupMetaSchema.extend({
  location: z.enum(BACKUP_LOCATIONS).openapi({
    description: "Where the copies are: `here` (the backup folder), `offsite` (the S3 bucket) or `both`",
  }),
  offsite: OffsiteCopyStateSchema.nullable().openapi({
    description: "With off-site storage on: the upload state of a backup that is not off-site yet; null otherwise",
  }),
}).openapi("ListedBackup");

export const BackupListSchema = z.array(ListedBackupSchema).openapi("BackupList", { description: "Each backup once, newest first" });

export const ImportResultSchema = z
  .object({
    source: z.string().openapi({ description: "The backup that was restored (for an upload, the stored copy)" }),
    safetyBackup: z.string().openapi({ description: "The `pre-import` backup taken just before; restore it to undo" }),
    tables: z.number().int().openapi({ description: "Tables restored" }),
    rows: z.number().int().openapi({ description: "Rows restored" }),
    durationMs: z.number().openapi({ description: "How long the import took, safety backup included" }),
    migrated: z.array(z.number().int()).openapi({ description: "Lifeboat migrations applied after an import from an older version" }),
  })
  .openapi("ImportResult");

/** The list's query: all optional; without any, `GET /api/backups` lists every backup as before. */
export const BackupListQuerySchema = z.object({
  trigger: z
    .enum([...BACKUP_TRIGGERS, "unknown"])
    .optional()
    .openapi({ description: "Only backups with this trigger (`unknown`: files added by hand)" }),
  location: z
    .enum(BACKUP_LOCATIONS)
    .optional()
    .openapi({ description: "Only backups that are `here` only (not off-site yet), `offsite` only, or in `both` places" }),
  sort: z.enum(["time", "size"]).optional().openapi({ description: "Sort by creation time (default) or size" }),
  order: z.enum(["desc", "asc"]).optional().openapi({ description: "`desc` (default): newest or largest first" }),
  limit: limitQuery(MAX_PAGE_SIZE, `Backups per page (default ${DEFAULT_PAGE_SIZE} when paging, at most ${MAX_PAGE_SIZE})`),
  cursor: z.string().max(1000).optional().openapi({ description: "`X-Next-Cursor` of the previous page" }),
});

/** Which copies a delete removes. */
export const DeleteScopeSchema = z.enum(["here", "offsite", "all"]).openapi({
  description: "Which copies to remove: `all` (default) every copy, `here` only the one in the backup folder, `offsite` only the one in the bucket",
});

/** Several backups to delete after one confirmation. */
export const BulkDeleteBodySchema = z
  .object({
    names: z
      .array(z.string().regex(SAFE_NAME_RE, { error: "is not a backup name" }))
      .min(1, { error: "must name at least one backup" })
      .max(1000, { error: "must name at most 1000 backups" }),
    from: DeleteScopeSchema.optional(),
  })
  .openapi("BulkDelete");

/**
 * The page's bulk-delete form: its ticked `names` checkboxes (one arrives as a
 * string, several as an array, none as nothing), then the API body's checks.
 */
export const BulkDeleteFormSchema = z
  .object({
    names: z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string())),
    from: z.string().optional(),
  })
  .refine((form) => form.names.length > 0, { error: "Select at least one backup to delete." })
  .pipe(BulkDeleteBodySchema);

export const BulkDeleteResultSchema = z
  .object({
    deleted: z.array(z.string()),
    refused: z.array(z.object({ name: z.string(), reason: z.string() })).openapi({ description: "Each with the reason (pinned, not found …)" }),
  })
  .openapi("BulkDeleteResult");

export const BackupPreviewSchema = z
  .object({
    backup: ListedBackupSchema.openapi({ description: "The backup, with where its copies are (an off-site-only one is downloaded for the dry run)" }),
    kind: z.enum(["lifeboat", "plain"]).openapi({
      description: "`lifeboat`: the application's data and Lifeboat's own tables (accounts, audit); `plain`: the application's data only",
    }),
    checksum: z.object({
      state: z.enum(["matches", "differs", "not-recorded", "unreadable"]).openapi({
        description: "The file's SHA-256 now against the one recorded when the backup was taken",
      }),
      recorded: z.string().nullable(),
      actual: z.string().nullable(),
    }),
    restorable: z.boolean().openapi({ description: "False when an import would refuse this backup" }),
    problem: z.string().nullable().openapi({ description: "Why the import would refuse it (the import's own words)" }),
    tablesKnown: z.boolean().openapi({ description: "False when the file could not be read far enough to know its tables" }),
    tables: z
      .array(
        z.object({
          name: z.string(),
          backupRows: z.number().int().nullable().openapi({ description: "Rows after a restore; null when the backup lacks the table" }),
          liveRows: z.number().int().nullable().openapi({ description: "Rows now; null when the live database lacks the table" }),
        }),
      )
      .openapi({ description: "Every table of the backup or the live database, by name" }),
    admins: z.object({
      after: z.array(z.string()).nullable().openapi({ description: "Enabled admin accounts after a restore; null when not known" }),
      now: z.array(z.string()).openapi({ description: "Enabled admin accounts now" }),
    }),
    migrations: z.array(z.number().int()).openapi({ description: "Lifeboat migrations a restore would apply" }),
    durationMs: z.number().openapi({ description: "How long the dry run took" }),
  })
  .openapi("BackupPreview");

const EngineActivitySchema = z
  .object({
    kind: z.enum(["backup", "import"]),
    trigger: BackupTriggerSchema.optional(),
    startedAt: isoDateTime("When it started"),
    actor: z.string().nullable(),
  })
  .openapi("EngineActivity", { description: "What the engine is doing right now" });

const LastRunSchema = z
  .object({
    at: isoDateTime("When the run finished"),
    durationMs: z.number().nullable().openapi({ description: "Null when only the file is known" }),
    size: z.number().int().nullable(),
    name: z.string().nullable().openapi({ description: "The backup's name; null for a failure" }),
    error: z.string().nullable().openapi({ description: "Why it failed; null for a success" }),
    periodKey: z.string().nullable().optional(),
  })
  .openapi("LastRun");

const lastRunsShape = Object.fromEntries(BACKUP_TRIGGERS.map((t) => [t, LastRunSchema.nullable()])) as Record<
  (typeof BACKUP_TRIGGERS)[number],
  z.ZodNullable<typeof LastRunSchema>
>;

export const ScheduleStatusSchema = z
  .object({
    schedule: z.string().nullable().openapi({ description: "BACKUP_SCHEDULE, or null when it is off", example: "0 0 * * *" }),
    timezone: z.string().openapi({ example: "UTC" }),
    nextRun: z.string().nullable().openapi({ format: "date-time", description: "Next scheduled backup; null when off" }),
    nextPeriodKey: z.string().nullable(),
    lastRuns: z.object(lastRunsShape).openapi({ description: "The last run of each kind, null when none is known" }),
    running: EngineActivitySchema.nullable(),
    pendingChange: z
      .object({
        since: isoDateTime("First change not yet in a backup"),
        dueAt: isoDateTime("When its change backup will be taken"),
        changes: z.number().int(),
      })
      .nullable()
      .openapi({ description: "A change backup waiting for its quiet window" }),
    instance: z.string().openapi({ description: "This instance's id" }),
    offsite: z
      .object({
        location: z.string().openapi({ description: "Bucket and prefix, e.g. `s3://backups/lifeboat/`", example: "s3://backups/lifeboat/" }),
        reachable: z.boolean().openapi({ description: "False when the last call to the bucket failed" }),
        error: z.string().nullable().openapi({ description: "Why the bucket is unavailable (e.g. refused credentials)" }),
        lastContactAt: z.string().nullable().openapi({ format: "date-time" }),
        pending: z.array(
          z.object({
            name: z.string(),
            state: z.enum(["waiting", "uploading", "failed"]),
            attempts: z.number().int(),
            error: z.string().nullable(),
            nextAttemptAt: z.string().nullable().openapi({ format: "date-time" }),
          }),
        ).openapi({ description: "Backups not off-site yet, oldest first" }),
        lastUpload: z
          .object({ name: z.string(), at: z.string().openapi({ format: "date-time" }), ok: z.boolean(), error: z.string().nullable() })
          .nullable(),
      })
      .nullable()
      .openapi({ description: "Off-site copies (BACKUP_S3_BUCKET); null when off" }),
  })
  .openapi("BackupStatus");

export const VerifyReportSchema = z
  .object({
    ok: z.boolean().openapi({ description: "True when the file passed: recorded sha256, the checking pass and a dry-run restore" }),
    message: z.string().nullable().openapi({ description: "Why it failed (e.g. `line 12: …` or the two sha256 values); null when it passed" }),
    backup: BackupMetaSchema,
    kind: z.enum(["lifeboat", "plain"]).nullable().openapi({ description: "Which kind of dump the file is; null when it failed" }),
    tables: z.number().int().nullable().openapi({ description: "Tables a restore would give" }),
    rows: z.number().int().nullable().openapi({ description: "Rows a restore would give" }),
    migrated: z.array(z.number().int()).nullable().openapi({ description: "Lifeboat migrations a restore would apply" }),
    durationMs: z.number().nullable(),
  })
  .openapi("VerifyReport");

export const CancelImportSchema = z
  .object({
    cancelled: z.literal(true),
    message: z.string().openapi({ example: "The running import was stopped and rolled back; the database is unchanged." }),
  })
  .openapi("CancelledImport");

/**
 * Names the routes accept: the engine's own safe pattern (no separators, no
 * leading dot, `.sql` or `.sql.gz`, either with `.age`). A name that passes is then looked up in
 * the listing by the engine (404 when absent); nothing else is ever opened.
 */
export const BackupNameParamSchema = z.object({
  name: z
    .string()
    .regex(SAFE_NAME_RE, { error: "is not a backup name (letters, digits, '.', '_' or '-', ending in .sql, .sql.gz, .sql.age or .sql.gz.age)" })
    .refine(isSafeBackupName, { error: "is not a backup name ('..' is not allowed)" })
    .openapi({
      param: { name: "name", in: "path" },
      description: "A backup's name as listed by GET /api/backups",
      example: "lifeboat-20261126-000000-manual.sql",
    }),
});

/**
 * The multipart body of the upload routes, as a plain OpenAPI schema rather
 * than zod: a zod body would be handed to a validator that reads the whole
 * file into memory. src/http/upload.ts streams and checks it instead.
 * Registered as the `BackupUpload` component by the backups routes.
 */
export const UPLOAD_BODY_COMPONENT = {
  name: "BackupUpload",
  schema: {
    type: "object" as const,
    properties: {
      file: {
        type: "string" as const,
        format: "binary",
        description:
          "A `.sql` or `.sql.gz` dump, or one of these encrypted with age (binary, not `-a` armored; needs BACKUP_AGE_IDENTITY_FILE), checked by its content (not its name or type); at most MAX_UPLOAD_BYTES",
      },
    },
    required: ["file"],
  },
};

/** `request.body` of the upload routes. */
export const UPLOAD_BODY = {
  required: true,
  content: { "multipart/form-data": { schema: { $ref: `#/components/schemas/${UPLOAD_BODY_COMPONENT.name}` } } },
};

// Compile-time proof that the schemas and the domain types agree, both ways.
agree<Exact<z.infer<typeof BackupMetaSchema>, BackupMeta>>();
agree<Exact<z.infer<typeof ListedBackupSchema>, ListedBackup>>();
agree<Exact<z.infer<typeof ImportResultSchema>, ImportResult>>();
agree<Exact<z.infer<typeof BackupPreviewSchema>, BackupPreview>>();
agree<Exact<z.infer<typeof EngineActivitySchema>, EngineActivity>>();
agree<Exact<z.infer<typeof ScheduleStatusSchema>, ScheduleStatus>>();
