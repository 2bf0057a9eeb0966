import type { MiddlewareHandler } from "hono";
import type { Logger } from "../logger.ts";

/**
 * One structured line per request: method, path (never the query string, which
 * may carry secrets), status, duration and request id.
 */
export function requestLogger(logger: Logger): MiddlewareHandler {
  return async function requestLog(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const fields = {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    // Probes hit these every few seconds; keep them out of the info stream.
    if (c.req.path === "/healthz" || c.req.path === "/readyz" || c.req.path.startsWith("/static/")) {
      logger.debug("request", fields);
    } else {
      logger.info("request", fields);
    }
  };
}
