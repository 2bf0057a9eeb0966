import type { LogLevel } from "./config.ts";
import { redactCredentials } from "./redact.ts";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Keys whose values are never written to a log line, at any depth. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; defaults to stdout (errors included, one stream keeps order). */
  write?: (line: string) => void;
  now?: () => Date;
}

/**
 * Replaces secret-looking keys, turns errors into plain objects, and takes
 * credentials out of every string (a driver error quoting DATABASE_URL).
 */
function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[depth]";
  if (typeof value === "string") return redactCredentials(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactCredentials(value.message),
      ...(value.stack ? { stack: redactCredentials(value.stack) } : {}),
    };
  }
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** A structured logger: one JSON object per line, level-filtered, secrets redacted. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const min = LEVELS[options.level];
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const now = options.now ?? (() => new Date());
  const emit = (level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    const entry = { time: now().toISOString(), level, msg: redactCredentials(msg), ...(redact({ ...bound, ...fields }) as object) };
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}
