import path from "node:path";
import { Cron } from "croner";
import { z } from "zod";
import { parseRecipients } from "./dump/age.ts";

/** Raised when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      "Invalid configuration:\n" +
        issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

const emptyToUndefined = (v: unknown) =>
  typeof v === "string" && v.trim() === "" ? undefined : v;

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const intFromEnv = (def: number, min: number, max: number) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return def;
        const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
        if (!Number.isSafeInteger(n) || n < min || n > max) {
          ctx.addIssue({
            code: "custom",
            message: `expected a whole number between ${min} and ${max}, got "${v}"`,
          });
          return z.NEVER;
        }
        return n;
      }),
  );

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Byte sizes: a plain number of bytes, or with a unit (`512MiB`, `2GB`). */
const bytesFromEnv = (def: number) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return def;
        const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
        const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
        if (!m || unit === undefined) {
          ctx.addIssue({
            code: "custom",
            message: "expected a size in bytes, e.g. 1073741824 or 1GiB or 500MB",
          });
          return z.NEVER;
        }
        const n = Math.floor(Number(m[1]) * unit);
        if (n < 1024) {
          ctx.addIssue({ code: "custom", message: "must be at least 1024 bytes" });
          return z.NEVER;
        }
        return n;
      }),
  );

const boolFromEnv = (def: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(["true", "false", "1", "0", "yes", "no"], {
        error: "expected true or false",
      })
      .optional()
      .transform((v) => (v === undefined ? def : ["true", "1", "yes"].includes(v))),
  );

const DATABASE_URL_RE = /^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/;

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  PORT: intFromEnv(3000, 1, 65535),
  HOST: z.preprocess(emptyToUndefined, z.string().default("0.0.0.0")),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default("./data")),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(DATABASE_URL_RE, "expected a file:, libsql://, http(s):// or ws(s):// URL")
      .optional(),
  ),
  DATABASE_AUTH_TOKEN: optionalString,
  DATABASE_JOURNAL_MODE: z.preprocess(
    (v) => (typeof v === "string" ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z
      .enum(["wal", "delete"], { error: "expected wal or delete" })
      .optional(),
  ),
  BACKUP_DIR: optionalString,
  JWT_SECRET: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((s) => new TextEncoder().encode(s).byteLength >= 32, {
        message: "must be at least 32 bytes long (use e.g. `openssl rand -base64 48`)",
      })
      .optional(),
  ),
  JWT_ISSUER: z.preprocess(emptyToUndefined, z.string().default("lifeboat")),
  JWT_AUDIENCE: z.preprocess(emptyToUndefined, z.string().default("lifeboat")),
  JWT_TTL_SECONDS: intFromEnv(3600, 60, 60 * 60 * 24 * 30),
  JWKS_URL: z.preprocess(emptyToUndefined, z.url({ error: "expected an http(s) URL" }).optional()),
  JWT_ROLE_CLAIM: z.preprocess(emptyToUndefined, z.string().default("role")),
  SESSION_TTL_SECONDS: intFromEnv(8 * 3600, 60, 60 * 60 * 24 * 30),
  COOKIE_SECURE: z.preprocess(
    emptyToUndefined,
    z.enum(["auto", "true", "false"], { error: "expected auto, true or false" }).default("auto"),
  ),
  TRUST_PROXY: boolFromEnv(false),
  ADMIN_USERNAME: optionalString,
  // Only an empty value means "unset": spaces alone are a mistake to report, not a reason to generate one.
  ADMIN_PASSWORD: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  CRON_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(16, "must be at least 16 characters long").optional(),
  ),
  BACKUP_SCHEDULE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default("0 0 * * *")
      .refine(
        (s) => {
          if (s === "off") return true;
          try {
            new Cron(s, { paused: true });
            return true;
          } catch {
            return false;
          }
        },
        { message: "expected a cron expression such as `0 0 * * *`, or `off`" },
      ),
  ),
  BACKUP_TIMEZONE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default("UTC")
      .refine(isValidTimeZone, { message: "expected an IANA time zone such as UTC or Europe/Berlin" }),
  ),
  BACKUP_COMPRESSION: z.preprocess(
    emptyToUndefined,
    z.enum(["none", "gzip"], { error: "expected none or gzip" }).default("none"),
  ),
  BACKUP_KEEP_SCHEDULED: intFromEnv(14, 1, 100_000),
  BACKUP_KEEP_CHANGE: intFromEnv(20, 1, 100_000),
  BACKUP_KEEP_OTHER_DAYS: intFromEnv(30, 1, 100_000),
  BACKUP_WEBHOOK_URL: z.preprocess(
    emptyToUndefined,
    z.url({ error: "expected an http(s) URL" }).optional(),
  ),
  BACKUP_S3_BUCKET: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name (3–63 lowercase letters, digits, '.' or '-')")
      .optional(),
  ),
  BACKUP_S3_PREFIX: optionalString,
  BACKUP_S3_REGION: optionalString,
  BACKUP_S3_ENDPOINT: z.preprocess(emptyToUndefined, z.url({ error: "expected an http(s) URL, e.g. https://s3.example.com" }).optional()),
  BACKUP_S3_FORCE_PATH_STYLE: boolFromEnv(false),
  BACKUP_S3_ACCESS_KEY_ID: optionalString,
  BACKUP_S3_SECRET_ACCESS_KEY: optionalString,
  BACKUP_S3_PART_SIZE: bytesFromEnv(8 * 1024 ** 2),
  BACKUP_S3_KEEP_SCHEDULED: z.preprocess(emptyToUndefined, z.string().optional()),
  BACKUP_S3_KEEP_CHANGE: z.preprocess(emptyToUndefined, z.string().optional()),
  BACKUP_S3_KEEP_OTHER_DAYS: z.preprocess(emptyToUndefined, z.string().optional()),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  AWS_REGION: optionalString,
  AWS_DEFAULT_REGION: optionalString,
  AWS_ENDPOINT_URL_S3: z.preprocess(emptyToUndefined, z.url({ error: "expected an http(s) URL" }).optional()),
  AWS_ENDPOINT_URL: z.preprocess(emptyToUndefined, z.url({ error: "expected an http(s) URL" }).optional()),
  BACKUP_AGE_RECIPIENTS: optionalString,
  BACKUP_AGE_IDENTITY_FILE: optionalString,
  MAX_UPLOAD_BYTES: bytesFromEnv(1024 ** 3),
  // Under `docker stop`'s default 10 s before SIGKILL, with room to close the database.
  SHUTDOWN_GRACE_SECONDS: intFromEnv(8, 1, 3600),
  METRICS_TOKEN: z.preprocess(
    emptyToUndefined,
    z.string().min(16, "must be at least 16 characters long").optional(),
  ),
  MAX_IMPORT_BYTES: bytesFromEnv(4 * 1024 ** 3),
  MAX_STATEMENT_BYTES: bytesFromEnv(32 * 1024 ** 2),
  IMPORT_TIMEOUT_SECONDS: intFromEnv(1800, 1, 7 * 24 * 3600),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z
      .enum(["debug", "info", "warn", "error", "silent"], {
        error: "expected debug, info, warn, error or silent",
      })
      .default("info"),
  ),
});

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** The parsed, validated configuration. Built once at start and passed down. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  databaseAuthToken: string | undefined;
  /** True when the database is a local file this process can open directly. */
  databaseIsLocal: boolean;
  /** Absolute path of the database file when `databaseIsLocal`. */
  databasePath: string | undefined;
  /**
   * Journal mode to set on a local database at start (`wal`, or `delete` to
   * leave WAL for a rollback journal; both are kept in the file); undefined
   * leaves an existing database as it is (a new one gets WAL).
   */
  databaseJournalMode: "wal" | "delete" | undefined;
  backupDir: string;
  jwt: {
    secret: string | undefined;
    issuer: string;
    audience: string;
    ttlSeconds: number;
    jwksUrl: string | undefined;
    roleClaim: string;
  };
  session: { ttlSeconds: number; cookieSecure: "auto" | "true" | "false" };
  trustProxy: boolean;
  admin: { username: string | undefined; password: string | undefined };
  cronSecret: string | undefined;
  backup: {
    /** Cron expression, or `null` when the in-process timer is off. */
    schedule: string | null;
    timezone: string;
    compression: "none" | "gzip";
    keepScheduled: number;
    keepChange: number;
    keepOtherDays: number;
    webhookUrl: string | undefined;
    /** An import (checking pass included) still running after this long is stopped and rolled back. */
    importTimeoutSeconds: number;
    /** Most bytes of SQL text (after decompression) an import reads. */
    maxImportBytes: number;
    /** Largest single statement (or comment) an import reads. */
    maxStatementBytes: number;
  };
  /** Off-site copies in an S3-compatible bucket; null when BACKUP_S3_BUCKET is unset. */
  offsite: OffsiteConfig | null;
  /** age encryption at rest: recipients to write for, identity file to read with. */
  encryption: {
    /** Public keys (`age1…`); empty: backups are written in plain text. */
    recipients: string[];
    /** Path of the identity file (read at start); undefined: encrypted backups cannot be verified or imported. */
    identityFile: string | undefined;
  };
  maxUploadBytes: number;
  /** How long a graceful stop may take before the process exits anyway. */
  shutdownGraceMs: number;
  /** Bearer secret for `GET /metrics` (an admin token works too). */
  metricsToken: string | undefined;
  logLevel: LogLevel;
}

/** Where off-site copies go and how long they stay. Holds the secret key: never log it whole. */
interface OffsiteConfig {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  partBytes: number;
  keepScheduled: number;
  keepChange: number;
  keepOtherDays: number;
}

/** Names of every environment variable Lifeboat reads (documented in the README). */
/**
 * Names of every environment variable Lifeboat reads (documented in the README).
 * @internal exported for the test that checks the README's table against it.
 */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

/**
 * Parses the environment once. Throws `ConfigError` naming each bad variable
 * and what it expects; never reads `process.env` itself so tests can pass a map.
 * Async because checking BACKUP_AGE_RECIPIENTS loads `age-encryption`, which
 * only then is loaded at all (see `parseRecipients`).
 */
export async function loadConfig(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): Promise<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        variable: String(i.path[0] ?? "environment"),
        message: i.message,
      })),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.DATA_DIR);
  const databaseUrl = e.DATABASE_URL ?? `file:${path.join(dataDir, "app.db")}`;
  const databaseIsLocal = databaseUrl.startsWith("file:");
  let databasePath: string | undefined;
  if (databaseIsLocal) {
    const raw = decodeURIComponent(databaseUrl.slice("file:".length).replace(/^\/\/(?=\/)/, ""));
    const withoutQuery = raw.split("?")[0]!;
    if (withoutQuery === "" || withoutQuery === ":memory:") {
      throw new ConfigError([
        { variable: "DATABASE_URL", message: "a file: URL must name a database file" },
      ]);
    }
    databasePath = path.resolve(cwd, withoutQuery);
  }
  const issues: { variable: string; message: string }[] = [];
  if (e.ADMIN_PASSWORD !== undefined && e.ADMIN_PASSWORD.trim() === "") {
    issues.push({ variable: "ADMIN_PASSWORD", message: "must not be only spaces (leave it empty to have a password generated)" });
  } else if (e.ADMIN_PASSWORD !== undefined && e.ADMIN_PASSWORD.length < 12) {
    issues.push({ variable: "ADMIN_PASSWORD", message: "must be at least 12 characters long" });
  }
  if (e.ADMIN_PASSWORD !== undefined && e.ADMIN_USERNAME === undefined) {
    issues.push({ variable: "ADMIN_USERNAME", message: "is required when ADMIN_PASSWORD is set" });
  }
  const keepOffsite = (variable: "BACKUP_S3_KEEP_SCHEDULED" | "BACKUP_S3_KEEP_CHANGE" | "BACKUP_S3_KEEP_OTHER_DAYS", def: number) => {
    const v = e[variable];
    if (v === undefined) return def;
    const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > 100_000) {
      issues.push({ variable, message: `expected a whole number between 1 and 100000, got "${v}"` });
      return def;
    }
    return n;
  };
  let offsite: OffsiteConfig | null = null;
  if (e.BACKUP_S3_BUCKET) {
    const accessKeyId = e.BACKUP_S3_ACCESS_KEY_ID ?? e.AWS_ACCESS_KEY_ID;
    const secretAccessKey = e.BACKUP_S3_SECRET_ACCESS_KEY ?? e.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId) issues.push({ variable: "BACKUP_S3_ACCESS_KEY_ID", message: "is required with BACKUP_S3_BUCKET (or set AWS_ACCESS_KEY_ID)" });
    if (!secretAccessKey) {
      issues.push({ variable: "BACKUP_S3_SECRET_ACCESS_KEY", message: "is required with BACKUP_S3_BUCKET (or set AWS_SECRET_ACCESS_KEY)" });
    }
    offsite = {
      bucket: e.BACKUP_S3_BUCKET,
      prefix: e.BACKUP_S3_PREFIX ?? "",
      region: e.BACKUP_S3_REGION ?? e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? "us-east-1",
      endpoint: e.BACKUP_S3_ENDPOINT ?? e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
      forcePathStyle: e.BACKUP_S3_FORCE_PATH_STYLE,
      accessKeyId: accessKeyId ?? "",
      secretAccessKey: secretAccessKey ?? "",
      sessionToken: e.BACKUP_S3_ACCESS_KEY_ID ? undefined : e.AWS_SESSION_TOKEN,
      partBytes: e.BACKUP_S3_PART_SIZE,
      keepScheduled: keepOffsite("BACKUP_S3_KEEP_SCHEDULED", e.BACKUP_KEEP_SCHEDULED),
      keepChange: keepOffsite("BACKUP_S3_KEEP_CHANGE", e.BACKUP_KEEP_CHANGE),
      keepOtherDays: keepOffsite("BACKUP_S3_KEEP_OTHER_DAYS", e.BACKUP_KEEP_OTHER_DAYS),
    };
    if (offsite.partBytes < 5 * 1024 ** 2 || offsite.partBytes > 5 * 1024 ** 3) {
      issues.push({ variable: "BACKUP_S3_PART_SIZE", message: "must be between 5MiB and 5GiB (S3's limits for one part)" });
    }
  }
  let recipients: string[] = [];
  if (e.BACKUP_AGE_RECIPIENTS !== undefined) {
    const r = await parseRecipients(e.BACKUP_AGE_RECIPIENTS);
    if ("error" in r) issues.push({ variable: "BACKUP_AGE_RECIPIENTS", message: r.error });
    else recipients = r.recipients;
  }
  if (issues.length) throw new ConfigError(issues);

  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: databaseIsLocal ? `file:${databasePath}` : databaseUrl,
    databaseAuthToken: e.DATABASE_AUTH_TOKEN,
    databaseIsLocal,
    databasePath,
    databaseJournalMode: e.DATABASE_JOURNAL_MODE,
    backupDir: path.resolve(cwd, e.BACKUP_DIR ?? path.join(dataDir, "backups")),
    jwt: {
      secret: e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      ttlSeconds: e.JWT_TTL_SECONDS,
      jwksUrl: e.JWKS_URL,
      roleClaim: e.JWT_ROLE_CLAIM,
    },
    session: { ttlSeconds: e.SESSION_TTL_SECONDS, cookieSecure: e.COOKIE_SECURE },
    trustProxy: e.TRUST_PROXY,
    admin: { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD },
    cronSecret: e.CRON_SECRET,
    backup: {
      schedule: e.BACKUP_SCHEDULE === "off" ? null : e.BACKUP_SCHEDULE,
      timezone: e.BACKUP_TIMEZONE,
      compression: e.BACKUP_COMPRESSION,
      keepScheduled: e.BACKUP_KEEP_SCHEDULED,
      keepChange: e.BACKUP_KEEP_CHANGE,
      keepOtherDays: e.BACKUP_KEEP_OTHER_DAYS,
      webhookUrl: e.BACKUP_WEBHOOK_URL,
      importTimeoutSeconds: e.IMPORT_TIMEOUT_SECONDS,
      maxImportBytes: e.MAX_IMPORT_BYTES,
      maxStatementBytes: e.MAX_STATEMENT_BYTES,
    },
    offsite,
    encryption: {
      recipients,
      identityFile: e.BACKUP_AGE_IDENTITY_FILE === undefined ? undefined : path.resolve(cwd, e.BACKUP_AGE_IDENTITY_FILE),
    },
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
  };
}
