import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  AppError,
  BackupFolderUnavailableError,
  BusyError,
  ConflictError,
  ForbiddenError,
  ImportStoppedError,
  InsufficientStorageError,
  InvalidBackupError,
  NotFoundError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
  UnsupportedDatabaseError,
  OffsiteError,
  ValidationError,
} from "../errors.ts";
import type { Logger } from "../logger.ts";
import { redactCredentials } from "../redact.ts";
import { ErrorFragment, ErrorPage } from "../../templates/error.tsx";
import { isHtmx, wantsJson } from "./render.tsx";

/** The one mapping from domain error to HTTP status. */
function statusOf(err: unknown): ContentfulStatusCode {
  if (err instanceof ValidationError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof BusyError || err instanceof ConflictError) return 409;
  if (err instanceof PayloadTooLargeError) return 413;
  // A file that cannot be restored in time is refused like an invalid one; a cancel is a conflict with the running job.
  if (err instanceof ImportStoppedError) return err.why === "timeout" ? 422 : err.why === "cancelled" ? 409 : 503;
  if (err instanceof InvalidBackupError || err instanceof UnsupportedDatabaseError) return 422;
  if (err instanceof TooManyRequestsError) return 429;
  if (err instanceof OffsiteError) return 502;
  if (err instanceof BackupFolderUnavailableError) return 503;
  if (err instanceof InsufficientStorageError) return 507;
  if (err instanceof HTTPException) return err.status as ContentfulStatusCode;
  return 500;
}

const HTTP_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "too_large",
  415: "unsupported_media_type",
  422: "invalid_input",
  429: "rate_limited",
};

/** What the mapper says about an error: safe to show, whatever the face. */
interface ErrorDescription {
  status: ContentfulStatusCode;
  code: string;
  message: string;
}

/** `{ code, message }` safe to show: internals of a 5xx never leave the server. */
function describeError(err: unknown, requestId?: string): ErrorDescription {
  const status = statusOf(err);
  // The bucket's answer is written for the admin (no secrets, no stack): worth showing.
  if (err instanceof OffsiteError) return { status, code: err.code, message: err.message };
  // A shutdown, a full disk or a missing backup folder is a plain fact for the admin, not an internal failure.
  if (status >= 500 && !(err instanceof ImportStoppedError || err instanceof InsufficientStorageError || err instanceof BackupFolderUnavailableError)) {
    return {
      status,
      code: "internal",
      message: `Something went wrong on the server${requestId ? ` (request ${requestId})` : ""}. The details are in the log.`,
    };
  }
  if (err instanceof AppError) return { status, code: err.code, message: redactCredentials(err.message) };
  const message = err instanceof HTTPException && err.message ? err.message : "Request refused";
  return { status, code: HTTP_CODES[status] ?? "error", message };
}

/**
 * How a page shows a refusal where the generic error fragment would not do
 * (a table row put back as it really is, a form shown again with the reason).
 * Returns null to leave the error to the generic fragment or page.
 */
type ErrorView = (error: ErrorDescription, cause: unknown) => JSX.Element | null | Promise<JSX.Element | null>;

const errorViews = new WeakMap<Request, ErrorView>();

/**
 * Tells the one error mapper how this request's page face shows an error the
 * handler's verb throws, so the handler itself never catches to render. The
 * mapper still decides the status, the message and the headers; JSON clients
 * get the usual error body.
 */
export function showErrorsAs(c: Context, view: ErrorView): void {
  errorViews.set(c.req.raw, view);
}

/** Renders an error as JSON for the API and scripts, or as a fragment/page for the browser. */
async function respondWithError(c: Context, err: unknown, logger?: Logger): Promise<Response> {
  const requestId = c.get("requestId") as string | undefined;
  const described = describeError(err, requestId);
  const { status, code, message } = described;
  if (err instanceof TooManyRequestsError) c.header("Retry-After", String(err.retryAfterSeconds));
  if (status === 401 && wantsJson(c)) c.header("WWW-Authenticate", 'Bearer realm="lifeboat"');
  c.header("Cache-Control", "no-store");
  if (wantsJson(c)) {
    return c.json({ error: { code, message, ...(requestId ? { requestId } : {}) } }, status);
  }
  c.header("Vary", "HX-Request");
  const view = errorViews.get(c.req.raw);
  if (view) {
    let shown: JSX.Element | null = null;
    try {
      shown = await view(described, err);
    } catch (viewErr) {
      // The page's own view failed (e.g. the row it wanted to show is gone): the generic fragment still tells why.
      logger?.warn("error view failed", { requestId, path: c.req.path, error: viewErr });
    }
    if (shown) return c.html(shown, status);
  }
  if (isHtmx(c)) {
    // Error fragments land in the page's aria-live status region unless the
    // element that asked names its own error target.
    const target = c.req.header("HX-Error-Target") ?? "#status";
    c.header("HX-Retarget", target);
    c.header("HX-Reswap", "innerHTML");
    return c.html(<ErrorFragment message={message} />, status);
  }
  return c.html(<ErrorPage status={status} message={message} />, status);
}

export function createErrorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    const status = statusOf(err);
    if (status >= 500) {
      logger.error("request failed", {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        error: err,
      });
    }
    return respondWithError(c, err, logger);
  };
}

export const notFoundHandler: NotFoundHandler = (c) =>
  respondWithError(c, new NotFoundError(`No such page or route: ${c.req.method} ${c.req.path}`));
