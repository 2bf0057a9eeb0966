import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Hono } from "hono";
import { PROJECT_ROOT } from "../paths.ts";

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

/**
 * The fixed set of files the pages load. htmx comes from the installed, pinned
 * `htmx.org` package (no CDN, no copy in the repository). A fixed map rather than
 * a folder handler: no request path ever reaches the file system.
 */
const ASSET_FILES: Record<string, { file: string; type: string }> = {
  "htmx.min.js": {
    file: path.join(PROJECT_ROOT, "node_modules", "htmx.org", "dist", "htmx.min.js"),
    type: "text/javascript; charset=utf-8",
  },
  "app.js": { file: path.join(PROJECT_ROOT, "static", "app.js"), type: "text/javascript; charset=utf-8" },
  "style.css": { file: path.join(PROJECT_ROOT, "static", "style.css"), type: "text/css; charset=utf-8" },
};

export interface StaticAssets {
  routes: Hono;
  /** Short hash of all assets, used as `?v=` so pages can be cached hard. */
  version: string;
}

/** Loads the assets once and returns routes serving them under `/static/`. */
export function createStaticAssets(): StaticAssets {
  const assets = new Map<string, Asset>();
  const all = createHash("sha256");
  for (const [name, { file, type }] of Object.entries(ASSET_FILES)) {
    const body = new Uint8Array(readFileSync(file));
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
    all.update(hash);
    assets.set(name, { body, type, etag: `"${hash}"` });
  }
  const routes = new Hono();
  routes.get("/static/:name", (c) => {
    const asset = assets.get(c.req.param("name"));
    if (!asset) return c.notFound();
    c.header("Content-Type", asset.type);
    c.header("ETag", asset.etag);
    c.header(
      "Cache-Control",
      c.req.query("v") ? "public, max-age=31536000, immutable" : "public, max-age=0, must-revalidate",
    );
    if (c.req.header("If-None-Match") === asset.etag) return c.body(null, 304);
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });
  return { routes, version: all.digest("hex").slice(0, 10) };
}
