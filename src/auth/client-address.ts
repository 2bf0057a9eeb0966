import type { Context } from "hono";

/** Identifies the client for rate limiting: an IP address, or "unknown". */
export type ClientAddress = (c: Context) => string;

/**
 * Reads the client address without tying the app to one runtime:
 * `@hono/node-server` passes `{ incoming }` as the env, `Deno.serve` passes
 * `{ remoteAddr }` (ServeHandlerInfo); `app.request()` in tests has neither.
 * With TRUST_PROXY the last `X-Forwarded-For` entry counts: the one the proxy
 * itself appended (earlier entries are whatever the client claimed).
 */
export function createClientAddress(trustProxy: boolean): ClientAddress {
  return (c) => {
    if (trustProxy) {
      const forwarded = c.req.header("X-Forwarded-For");
      const last = forwarded?.split(",").map((s) => s.trim()).filter(Boolean).at(-1);
      if (last) return last;
    }
    const env = c.env as
      | { incoming?: { socket?: { remoteAddress?: string } }; remoteAddr?: { hostname?: string } }
      | undefined;
    return env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname ?? "unknown";
  };
}
