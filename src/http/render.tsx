import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";

/** True for an htmx request that wants a fragment (history restores need the full page). */
export function isHtmx(c: Context): boolean {
  return c.req.header("HX-Request") === "true" && c.req.header("HX-History-Restore-Request") !== "true";
}

/** API routes and clients that ask for JSON get JSON errors; the browser gets HTML. */
export function wantsJson(c: Context): boolean {
  if (c.req.path.startsWith("/api/")) return true;
  if (isHtmx(c)) return false;
  const accept = c.req.header("Accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

/**
 * Sends the full page for a normal request and only the fragment for htmx,
 * with `Vary: HX-Request` so caches never mix the two.
 */
export function renderPage(
  c: Context,
  page: () => JSX.Element,
  fragment: () => JSX.Element,
  status: 200 | 201 = 200,
): Response | Promise<Response> {
  c.header("Vary", "HX-Request");
  c.header("Cache-Control", "no-store");
  return c.html(isHtmx(c) ? fragment() : page(), status);
}
