import path from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin, loginToken } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";
import { freePort, start, waitForHttp } from "../support/process.ts";
import { tempDir } from "../support/temp.ts";

const METRICS_TOKEN = "metrics-token-0123456789";

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

type Scrape = Map<string, Family> & { text: string };

/** Scrapes `/metrics` and parses it with a Prometheus text-format parser (which throws on a malformed line). */
async function scrape(fetchMetrics: () => Response | Promise<Response>): Promise<Scrape> {
  const res = await fetchMetrics();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = parsePrometheusTextFormat(text);
  for (const f of families) expect(f.name).toMatch(/^lifeboat_/);
  return Object.assign(new Map(families.map((f) => [f.name, f])), { text });
}

/**
 * A histogram's `_count` for one label set. The parser folds labelled
 * histograms into one sample (a limitation of parse-prometheus-text-format), so
 * this reads the `_count` line it has already validated.
 */
function histogramCount(m: Scrape, name: string, labels: Record<string, string>): number | undefined {
  expect(m.get(name)?.type).toBe("HISTOGRAM");
  for (const line of m.text.split("\n")) {
    const match = /^(\w+)_count\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

function sample(families: Scrape, name: string, labels: Record<string, string> = {}) {
  const family = families.get(name);
  expect(family, `metric ${name}`).toBeDefined();
  return family!.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

describe("GET /metrics", () => {
  it("needs METRICS_TOKEN or an admin: 401 without or with a wrong token, 403 for a user", async () => {
    const lb = await bootWithAdmin({ METRICS_TOKEN });
    const admin = await loginToken(lb, ADMIN.username, ADMIN.password);
    await lb.app.request("/api/users", {
      method: "POST",
      headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
      body: JSON.stringify({ username: "ann", password: "ann's long password", role: "user" }),
    });
    const user = await loginToken(lb, "ann", "ann's long password");
    const get = (auth?: string) => lb.app.request("/metrics", auth ? { headers: { Authorization: auth } } : {});

    const bare = await get();
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await get("Bearer not-the-metrics-token")).status).toBe(401);
    expect((await get(`Bearer ${user}`)).status).toBe(403);
    expect((await get(`Bearer ${METRICS_TOKEN}`)).status).toBe(200);
    expect((await get(`Bearer ${admin}`)).status).toBe(200);
  });

  it("reports the newest backup per trigger, backups on disk, durations, failures and requests by route", async () => {
    const lb = await bootWithAdmin({ METRICS_TOKEN });
    const auth = { Authorization: `Bearer ${await loginToken(lb, ADMIN.username, ADMIN.password)}` };
    const metrics = () => scrape(() => lb.app.request("/metrics", { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } }));

    const before = await metrics();
    expect(sample(before, "lifeboat_backup_failures_total", { trigger: "scheduled" })?.value).toBe("0");
    expect(sample(before, "lifeboat_last_backup_timestamp_seconds", { trigger: "scheduled" })).toBeUndefined();

    const created = await lb.app.request("/api/backups", { method: "POST", headers: auth });
    expect(created.status).toBe(201);
    const backup = (await created.json()) as { name: string; createdAt: string; size: number };
    expect((await lb.app.request(`/api/backups/${backup.name}`, { headers: auth })).status).toBe(200);
    const imported = await lb.app.request(`/api/backups/${backup.name}/import`, { method: "POST", headers: auth });
    expect(imported.status).toBe(200);
    const refused = await lb.app.request("/api/backups/import", {
      method: "POST",
      headers: { ...auth, "Content-Type": MULTIPART_TYPE },
      body: multipartBody(new TextEncoder().encode("ATTACH DATABASE 'x' AS y;\n")),
    });
    expect(refused.status).toBe(422);

    const m = await metrics();
    expect(Number(sample(m, "lifeboat_last_backup_timestamp_seconds", { trigger: "manual" })?.value)).toBe(Date.parse(backup.createdAt) / 1000);
    expect(Number(sample(m, "lifeboat_last_backup_size_bytes", { trigger: "manual" })?.value)).toBe(backup.size);
    expect(sample(m, "lifeboat_last_backup_timestamp_seconds", { trigger: "pre-import" })).toBeDefined();

    const listed = (await (await lb.app.request("/api/backups", { headers: auth })).json()) as { trigger: string; size: number }[];
    expect(Number(sample(m, "lifeboat_backups_bytes")?.value)).toBe(listed.reduce((s, b) => s + b.size, 0));
    for (const trigger of ["manual", "pre-import", "upload", "scheduled"]) {
      expect([trigger, Number(sample(m, "lifeboat_backups", { trigger })?.value)]).toEqual([trigger, listed.filter((b) => b.trigger === trigger).length]);
    }

    expect(histogramCount(m, "lifeboat_backup_duration_seconds", { trigger: "manual", outcome: "success" })).toBe(1);
    expect(histogramCount(m, "lifeboat_backup_duration_seconds", { trigger: "pre-import", outcome: "success" })).toBe(1);
    expect(histogramCount(m, "lifeboat_import_duration_seconds", { outcome: "success" })).toBe(1);
    expect(sample(m, "lifeboat_import_failures_total")?.value).toBe("1");
    expect(histogramCount(m, "lifeboat_import_duration_seconds", { outcome: "failure" })).toBe(1);
    expect(sample(m, "lifeboat_backup_failures_total", { trigger: "manual" })?.value).toBe("0");

    // Requests by route pattern (bounded label values) and status.
    expect(sample(m, "lifeboat_http_requests_total", { method: "GET", route: "/api/backups/:name", status: "200" })?.value).toBe("1");
    expect(sample(m, "lifeboat_http_requests_total", { method: "POST", route: "/api/backups/import", status: "422" })?.value).toBe("1");
    expect(sample(m, "lifeboat_build_info")?.labels?.runtime).toMatch(/^node v\d+/);
  });

  it("is served by the Deno entry too (prom-client under Deno)", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const proc = start(
      path.resolve("node_modules/.bin/deno"),
      ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys", "src/main-deno.ts"],
      { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", BACKUP_SCHEDULE: "off", METRICS_TOKEN },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, 60_000, proc);
    const m = await scrape(() => fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } }));
    expect(sample(m, "lifeboat_build_info")?.labels?.runtime).toMatch(/^deno 2\./);
    expect(sample(m, "lifeboat_http_requests_total", { route: "/healthz", status: "200" })).toBeDefined();
    expect(sample(m, "lifeboat_backups_bytes")?.value).toBe("0");
  }, 120_000);
});
