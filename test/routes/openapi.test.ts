import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import type { TestLifeboat } from "../support/app.ts";
import { bootWithAdmin } from "../support/auth.ts";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown>; summary?: string }>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string }> };
};

/** Every `METHOD /path` the app serves under /api, in OpenAPI path syntax. */
function servedApiRoutes(lb: TestLifeboat): Set<string> {
  return new Set(
    lb.app.routes
      .filter((r) => r.path.startsWith("/api/") && r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`),
  );
}

function documentedRoutes(doc: Doc): Set<string> {
  return new Set(
    Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)),
  );
}

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const lb = await bootWithAdmin();
    const res = await lb.app.request("/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const doc = (await res.json()) as Doc;
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("lists exactly the routes the app serves under /api, each with a summary and its error responses", async () => {
    const lb = await bootWithAdmin();
    const doc = (await (await lb.app.request("/api/openapi.json")).json()) as Doc;
    const served = servedApiRoutes(lb);
    const documented = documentedRoutes(doc);
    expect(served.size).toBeGreaterThan(10);
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        // Every route that needs credentials documents the 401 it answers without them.
        if (op.security?.length) expect(Object.keys(op.responses), `${method} ${path}`).toContain("401");
      }
    }
  });

  it("declares the bearer JWT and the session cookie, and the admin routes accept either", async () => {
    const lb = await bootWithAdmin();
    const doc = (await (await lb.app.request("/api/openapi.json")).json()) as Doc;
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: "apiKey", in: "cookie" });
    expect(doc.paths["/api/users"]!.get!.security).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
  });
});

describe("GET /api/docs", () => {
  it("renders every route of the document on the server, with a curl example each, and no foreign or inline script", async () => {
    const lb = await bootWithAdmin();
    const doc = (await (await lb.app.request("/api/openapi.json")).json()) as Doc;
    const res = await lb.app.request("/api/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const anchor = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "");
        expect(html, `${method} ${path}`).toContain(`id="${anchor}"`);
      }
    }
    const curls = html.match(/curl -sS/g) ?? [];
    expect(curls.length).toBeGreaterThan(documentedRoutes(doc).size); // one per route, plus the login example
    expect(html).toContain("Authorization: Bearer $TOKEN");
    expect(html).toContain('id="errors"'); // the shared error body, described once
    // Only our own scripts, each from /static; no inline script, no inline style.
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.every((s) => /src="\/static\//.test(s))).toBe(true);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/https?:\/\/(?!localhost)[a-z]/i);
  });
});
