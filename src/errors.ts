/**
 * Typed domain errors. Domain modules throw these and know nothing of HTTP;
 * `src/http/errors.ts` is the one place that maps them to a status and a body.
 */
export class AppError extends Error {
  /** Stable machine-readable code, part of the API contract. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Input that fails validation (a field, a parameter). */
export class ValidationError extends AppError {
  constructor(message: string, readonly field?: string) {
    super("invalid_input", message);
  }
}

/**
 * Turns schema issues (zod's `error.issues`) into one `ValidationError` whose
 * message names each field ("password: must be…").
 */
export function validationErrorFrom(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  labels: Readonly<Record<string, string>> = {},
): ValidationError {
  const nameOf = (path: readonly PropertyKey[]) => {
    const key = path.map(String).join(".");
    return labels[key] ?? key;
  };
  const parts = error.issues.map((i) => (i.path.length ? `${nameOf(i.path)}: ${i.message}` : i.message));
  const field = error.issues[0]?.path.map(String).join(".") || undefined;
  return new ValidationError(parts.join("; "), field);
}

export class NotFoundError extends AppError {
  constructor(message = "Not found") {
    super("not_found", message);
  }
}

/** The request conflicts with the current state (e.g. the last admin). */
export class ConflictError extends AppError {
  constructor(message: string, code = "conflict") {
    super(code, message);
  }
}

/** Another backup or import is running; try again when it finishes. */
export class BusyError extends AppError {
  constructor(message = "Another backup or import is running; try again when it has finished.") {
    super("busy", message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Authentication required") {
    super("unauthorized", message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "You do not have permission to do this") {
    super("forbidden", message);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super("rate_limited", message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(readonly limitBytes: number) {
    super("too_large", `The upload is larger than the limit of ${limitBytes} bytes.`);
  }
}

/** A backup file that cannot be restored; `line` points at the offending statement. */
export class InvalidBackupError extends AppError {
  constructor(
    readonly reason: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super("invalid_backup", line !== undefined ? `line ${line}: ${reason}` : reason, options);
  }
}

/** A listed backup's bytes no longer match the sha256 recorded when it was written. */
export class ChecksumMismatchError extends InvalidBackupError {
  constructor(
    readonly backup: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${backup} has changed since it was written: its sha256 ${actual} differs from the one recorded when it was written (${expected}). Restore another backup, or download this one to investigate`,
    );
    Object.defineProperty(this, "code", { value: "checksum_mismatch" });
  }
}

/** Why a running import was stopped before it finished. */
export type ImportStopReason = "cancelled" | "timeout" | "shutdown";

/**
 * A running import was stopped (an admin cancelled it, it passed
 * IMPORT_TIMEOUT_SECONDS, or the service is shutting down): everything was
 * rolled back and the job lock released.
 */
export class ImportStoppedError extends AppError {
  constructor(
    readonly why: ImportStopReason,
    message: string,
  ) {
    super(why === "cancelled" ? "import_cancelled" : why === "timeout" ? "import_timeout" : "shutting_down", message);
  }
}

/**
 * The disk holding the backup folder has no room for what was being written
 * (a backup, an upload, a sidecar): nothing partial was kept.
 */
export class InsufficientStorageError extends AppError {
  constructor(
    message: string,
    readonly freeBytes: number | null,
    readonly neededBytes: number | null,
  ) {
    super("insufficient_storage", message);
  }
}

/** The backup folder is missing and could not be created again, or vanished while a file was being written. */
export class BackupFolderUnavailableError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("backup_folder_unavailable", message, options);
  }
}

/** The database holds something a backup could not restore faithfully. */
export class UnsupportedDatabaseError extends AppError {
  constructor(message: string) {
    super("unsupported_database", message);
  }
}

/**
 * The off-site storage (the S3 bucket) failed or refused. `permanent`: the
 * same request cannot succeed by retrying (wrong credentials, no such bucket).
 * Its message is written for the admin and holds no secret, so it is shown
 * even though the status is 502.
 */
export class OffsiteError extends AppError {
  readonly permanent: boolean;
  readonly s3Code: string | undefined;
  constructor(message: string, options: { permanent: boolean; s3Code?: string; cause?: unknown }) {
    super("offsite_unavailable", message, options.cause === undefined ? undefined : { cause: options.cause });
    this.permanent = options.permanent;
    this.s3Code = options.s3Code;
  }
}
