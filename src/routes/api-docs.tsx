import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { optionalAuth, viewerOf } from "../auth/middleware.ts";
import { buildApiDocument, createDocumentedRoutes, type ApiDocument } from "../http/openapi.ts";
import { ApiDocsPage } from "../../templates/api-docs.tsx";

export interface ApiDocsRoutesOptions {
  auth: Auth;
  version: string;
  assetVersion: string;
  /**
   * The documented routers of the app (read when the document is first asked
   * for, so routers mounted after this one count too).
   */
  sources: () => OpenAPIHono<any, any, any>[];
}

const openApiJsonRoute = createRoute({
  method: "get",
  path: "/api/openapi.json",
  tags: ["docs"],
  summary: "This API as an OpenAPI 3.1 document",
  description: "Generated from the zod schemas the routes validate with.",
  responses: {
    200: {
      description: "The OpenAPI document",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()).openapi({ description: "OpenAPI 3.1 object" }) } },
    },
  },
});

const apiDocsRoute = createRoute({
  method: "get",
  path: "/api/docs",
  tags: ["docs"],
  summary: "This reference as a readable page",
  description: "Rendered on the server from the same OpenAPI document.",
  responses: {
    200: { description: "HTML page", content: { "text/html": { schema: z.string() } } },
  },
});

/**
 * `GET /api/openapi.json` and the readable `GET /api/docs`, both from one
 * document built once from the routers' zod schemas. Public: the document
 * holds no secrets, and scripts and tools fetch it before they have a token.
 */
export function apiDocsRoutes(opts: ApiDocsRoutesOptions): OpenAPIHono<AppEnv> {
  const routes = createDocumentedRoutes<AppEnv>();
  let cached: ApiDocument | undefined;
  const document = () => (cached ??= buildApiDocument({ version: opts.version, sources: [...opts.sources(), routes] }));

  routes.openapi(openApiJsonRoute, (c) => {
    c.header("Cache-Control", "no-cache");
    return c.json(document() as unknown as Record<string, unknown>, 200);
  });

  routes.openapi({ ...apiDocsRoute, middleware: [optionalAuth(opts.auth)] }, (c) => {
    c.header("Cache-Control", "no-cache");
    return c.html(
      <ApiDocsPage
        document={document() as unknown as Record<string, unknown>}
        viewer={viewerOf(c)}
        assetVersion={opts.assetVersion}
      />,
      200,
    );
  });
  return routes;
}
