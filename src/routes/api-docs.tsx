import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.ts";
import type { Auth } from "../auth/auth.ts";
import { optionalAuth, viewerOf } from "../auth/middleware.ts";
import { createDocumentedRoutes, errorResponses, PUBLIC, registerSecuritySchemes, type ApiDocument } from "../http/openapi.ts";
import { ApiDocsPage } from "../../templates/api-docs.tsx";

export interface ApiDocsRoutesOptions {
  auth: Auth;
  assetVersion: string;
  /**
   * Builds the document from the routes the app serves (see
   * `buildApiDocument`); called once, at the first request, when every router
   * is mounted.
   */
  document: () => ApiDocument;
}

const openApiJsonRoute = createRoute({
  method: "get",
  path: "/api/openapi.json",
  operationId: "getOpenApiDocument",
  tags: ["docs"],
  security: PUBLIC,
  summary: "This API as an OpenAPI 3.1 document",
  description: "Generated from the zod schemas the routes validate with.",
  responses: {
    200: {
      description: "The OpenAPI document",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()).openapi({ description: "OpenAPI 3.1 object" }) } },
    },
    ...errorResponses(),
  },
});

const apiDocsRoute = createRoute({
  method: "get",
  path: "/api/docs",
  operationId: "getApiReference",
  tags: ["docs"],
  security: PUBLIC,
  summary: "This reference as a readable page",
  description: "Rendered on the server from the same OpenAPI document.",
  responses: {
    200: { description: "HTML page", content: { "text/html": { schema: z.string() } } },
    ...errorResponses(),
  },
});

/**
 * `GET /api/openapi.json` and the readable `GET /api/docs`, both from one
 * document built once from the routers' zod schemas. Public: the document
 * holds no secrets, and scripts and tools fetch it before they have a token.
 */
export function apiDocsRoutes(opts: ApiDocsRoutesOptions): OpenAPIHono<AppEnv> {
  const routes = createDocumentedRoutes<AppEnv>();
  registerSecuritySchemes(routes);
  let cached: ApiDocument | undefined;
  const document = () => (cached ??= opts.document());

  routes.openapi(openApiJsonRoute, (c) => {
    c.header("Cache-Control", "no-cache");
    return c.json(document(), 200);
  });

  routes.openapi({ ...apiDocsRoute, middleware: [optionalAuth(opts.auth)] }, (c) => {
    c.header("Cache-Control", "no-cache");
    return c.html(
      <ApiDocsPage
        document={document()}
        viewer={viewerOf(c)}
        assetVersion={opts.assetVersion}
      />,
      200,
    );
  });
  return routes;
}
