import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";
import { bootTestLifeboat } from "./support/app.ts";

describe("pages, assets and request logs", () => {
  it("serves the pinned htmx from the installed package, cacheable by version", async () => {
    const lb = await bootTestLifeboat();
    const res = await lb.app.request("/static/htmx.min.js?v=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toMatch(/immutable/);
    expect(await res.text()).toContain('version:"2.0.11"');
    const again = await lb.app.request("/static/htmx.min.js", { headers: { "If-None-Match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("serves only the known assets; nothing else under /static reaches the disk", async () => {
    const lb = await bootTestLifeboat();
    for (const p of ["/static/../package.json", "/static/%2e%2e%2fpackage.json", "/static/nope.js"]) {
      expect((await lb.app.request(p)).status).toBe(404);
    }
  });

  it("renders the layout with its stylesheet, htmx and an aria-live status region", async () => {
    const lb = await bootTestLifeboat();
    const res = await lb.app.request("/login");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toMatch(/<script src="\/static\/htmx\.min\.js\?v=[0-9a-f]+"/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/static\/style\.css\?v=/);
    expect(html).toContain('aria-live="polite"');
    expect(html).toContain('name="viewport"');
  });

  it("sends secure headers with a CSP that allows no inline script", async () => {
    const lb = await bootTestLifeboat();
    const res = await lb.app.request("/login");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
  });

  it("answers unknown API routes with a JSON error and pages with HTML", async () => {
    const lb = await bootTestLifeboat();
    const api = await lb.app.request("/api/nothing-here");
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: "not_found" } });
    const page = await lb.app.request("/nothing-here", { headers: { Accept: "text/html" } });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain("Not found");
  });

  it("logs one JSON line per request with method, path, status, duration and request id", async () => {
    const lb = await bootTestLifeboat();
    const res = await lb.app.request("/login?token=very-secret-value");
    const line = lb.logs.find((l) => l.msg === "request" && l.path === "/login");
    expect(line).toMatchObject({ level: "info", method: "GET", status: 200, requestId: res.headers.get("x-request-id") });
    expect(typeof line?.durationMs).toBe("number");
    expect(JSON.stringify(lb.logs)).not.toContain("very-secret-value");
  });
});

describe("logger", () => {
  it("redacts secret-looking fields at any depth and honours the level", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l) });
    log.debug("hidden");
    log.info("login", { user: "ann", password: "p4ss", nested: { jwtSecret: "s", authorization: "Bearer x" } });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: "info", msg: "login", user: "ann", password: "[redacted]" });
    expect(entry.nested).toEqual({ jwtSecret: "[redacted]", authorization: "[redacted]" });
  });
});
