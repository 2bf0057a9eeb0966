import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { bootTestLifeboat } from "../support/app.ts";
import { NODE_ENTRY, startEntry } from "../support/entries.ts";
import { freePort, waitForHttp } from "../support/process.ts";
import { tempDir } from "../support/temp.ts";
import { ADMIN } from "../support/auth.ts";

const run = promisify(execFile);
const bin = (name: string) => path.resolve("node_modules/.bin", name);
/** Operations that take no input and need no account (see redocly.yaml). */
const PUBLIC_DOCS = ["getOpenApiDocument", "getApiReference"];

type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: { in: string; name: string; example?: unknown; schema?: { type?: string; example?: unknown } }[];
  responses: Record<string, unknown>;
};

/** The document as served, written to a temp file for the command-line tools. */
async function servedDocument(): Promise<{ file: string; doc: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> } }> {
  const lb = await bootTestLifeboat();
  const res = await lb.app.request("/api/openapi.json");
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, Operation>> };
  const file = path.join(await tempDir(), "openapi.json");
  await fs.writeFile(file, JSON.stringify(doc, null, 2));
  return { file, doc };
}

describe("/api/openapi.json with the tools users bring", () => {
  it("passes Redocly (recommended) and Spectral (spectral:oas) with zero errors and zero warnings", async () => {
    const { file } = await servedDocument();
    const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };

    const redocly = await run(bin("redocly"), ["lint", file, "--config", path.resolve("redocly.yaml"), "--format", "json"], { env }).catch(
      (err: { stdout: string }) => err,
    );
    const report = JSON.parse(redocly.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });

    const out = path.join(path.dirname(file), "spectral.json");
    await run(bin("spectral"), ["lint", file, "--ruleset", path.resolve(".spectral.yaml"), "--format", "json", "--output", out, "--fail-severity", "hint"], { env }).catch(
      () => {}, // non-zero on any finding; the report says which
    );
    const results = JSON.parse(await fs.readFile(out, "utf8")) as { code: string; message: string; path: string[] }[];
    expect(results.map((r) => `${r.code}: ${r.message} (${r.path.join(".")})`)).toEqual([]);
  }, 180_000);

  it("names every operation, documents 500 everywhere and 4xx where input or an account is needed, marks public ones, gives examples", async () => {
    const { doc } = await servedDocument();
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
    const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ where: `${m.toUpperCase()} ${p}`, op })));
    expect(ops.length).toBeGreaterThanOrEqual(22);
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { where, op } of ops) {
      expect([where, Object.keys(op.responses)]).toEqual([where, expect.arrayContaining(["500"])]);
      if (!PUBLIC_DOCS.includes(op.operationId!)) {
        expect([where, Object.keys(op.responses).some((s) => s.startsWith("4"))]).toEqual([where, true]);
      }
      for (const param of (op.parameters ?? []).filter((p) => p.in === "path")) {
        expect([where, param.name, param.example ?? param.schema?.example]).toEqual([where, param.name, expect.anything()]);
      }
    }
    const byId = new Map(ops.map(({ op }) => [op.operationId, op]));
    for (const id of ["login", ...PUBLIC_DOCS]) expect([id, byId.get(id)?.security]).toEqual([id, []]);
    expect(byId.get("getUser")?.parameters?.find((p) => p.name === "id")?.schema?.type).toBe("integer");
  });

  it("generates a typed client with openapi-typescript that type-checks and runs the whole backup and user flow with openapi-fetch", async () => {
    const { doc } = await servedDocument();
    // openapi-typescript's documented way to type binary fields as Blob (its default is string).
    const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
    const ast = await openapiTS(doc as never, {
      transform(schema) {
        if ("format" in schema && schema.format === "binary") return BLOB;
        return undefined;
      },
    });
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, "api.ts"), astToString(ast));
    expect(await fs.readFile(path.join(dir, "api.ts"), "utf8")).toMatch(/file: Blob;/);
    await fs.copyFile("test/http/openapi-client/flow.ts", path.join(dir, "flow.ts"));
    await fs.symlink(path.resolve("node_modules"), path.join(dir, "node_modules"), "dir");
    await fs.writeFile(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true,
          allowImportingTsExtensions: true, skipLibCheck: true, lib: ["ES2023", "DOM", "DOM.Iterable"], types: ["node"],
          typeRoots: [path.resolve("node_modules/@types")],
        },
        files: ["flow.ts", "api.ts"],
      }),
    );
    await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const tsc = await run(process.execPath, [path.resolve("node_modules/typescript7/bin/tsc"), "-p", path.join(dir, "tsconfig.json")]).catch((err: { stdout: string }) => err);
    expect(tsc.stdout).toBe("");

    const dataDir = await tempDir();
    const port = await freePort();
    const env = { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", BACKUP_SCHEDULE: "off", ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };
    const server = startEntry(NODE_ENTRY, env);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, server);
    const flow = await run(process.execPath, ["--import", "tsx", path.join(dir, "flow.ts")], {
      env: { ...process.env, ...env, LIFEBOAT_URL: `http://127.0.0.1:${port}` },
    }).catch((err: { stdout: string; stderr: string }) => err);
    expect(flow.stderr, flow.stdout).toBe("");
    expect(flow.stdout.trim()).toBe("flow ok");
  }, 240_000);
});
