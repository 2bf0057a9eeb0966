import path from "node:path";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { runCommandLine } from "../src/cli/command-line.ts";
import { databaseCheck } from "../src/health.ts";
import { createLogger } from "../src/logger.ts";
import { redactCredentials } from "../src/redact.ts";
import { NODE_ENTRY, startEntry } from "./support/entries.ts";
import { freePort } from "./support/process.ts";
import { tempDir } from "./support/temp.ts";

const PASSWORD = "s3cr3t-pa55word";
const TOKEN = "eyJhbGciOiJFZERTQSJ9.TOKEN-VALUE.sig";

/** The secrets of a DATABASE_URL as a user would paste it: userinfo, and libSQL's authToken parameter. */
function secretUrl(scheme: string, port: number): string {
  return `${scheme}://alice:${PASSWORD}@127.0.0.1:${port}/db?tls=0&authToken=${TOKEN}`;
}

function expectNoSecrets(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain("TOKEN-VALUE");
  expect(text).not.toMatch(/alice:/);
}

describe("credentials in a DATABASE_URL are never printed", () => {
  it("redactCredentials takes out userinfo and secret query parameters, and nothing else", () => {
    expect(redactCredentials(`connect to libsql://alice:${PASSWORD}@db.example.com:8080/x?authToken=${TOKEN}&tls=1 failed`)).toBe(
      "connect to libsql://[redacted]@db.example.com:8080/x?authToken=[redacted]&tls=1 failed",
    );
    expect(redactCredentials("https://user:pass word with spaces@host/v2")).toBe("https://[redacted]@host/v2");
    expect(redactCredentials("ws://host?tls=0&auth_token=abc#f")).toBe("ws://host?tls=0&auth_token=[redacted]#f");
    expect(redactCredentials("wss://token@host")).toBe("wss://[redacted]@host");
    // Text without credentials stays as it is.
    for (const plain of ["file:/data/app.db", "http://localhost:3000/login?next=%2Fadmin", "database does not answer: SQLITE_BUSY", "a = b"]) {
      expect(redactCredentials(plain)).toBe(plain);
    }
  });

  it("a start that cannot reach the database prints the error without them (Node entry)", async () => {
    // libSQL's driver refuses the URL with an error that quotes it whole, stack and all.
    const started = startEntry(NODE_ENTRY, {
      DATA_DIR: await tempDir(),
      PORT: String(await freePort()),
      DATABASE_URL: secretUrl("libsql", await freePort()),
      LOG_LEVEL: "debug",
    });
    expect(await started.exited).toBe(1);
    const output = started.output();
    expect(output).toMatch(/lifeboat: failed to start: .*https?:\/\/\[redacted\]@127\.0\.0\.1/);
    expectNoSecrets(output);
  }, 60_000);

  it("the CLI's errors and log lines leave them out", async () => {
    const port = await freePort();
    let out = "";
    const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (out += t) };
    const code = await runCommandLine(["backup"], { DATA_DIR: await tempDir(), DATABASE_URL: secretUrl("http", port), LOG_LEVEL: "debug" }, io);
    expect(code).not.toBe(0);
    expect(out).toMatch(/lifeboat backup: .*\[redacted\]/);
    expectNoSecrets(out);
  });

  it("the readiness check's reason and the logger leave them out", async () => {
    const port = await freePort();
    const db = createClient({ url: secretUrl("http", port) });
    try {
      const result = await databaseCheck(db).run();
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(/^database does not answer: /);
      expectNoSecrets(result.reason!);
    } finally {
      db.close();
    }
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", write: (l) => lines.push(l) });
    logger.error(`cannot open ${secretUrl("libsql", port)}`, {
      error: new Error(`fetch ${secretUrl("https", port)} failed`),
      detail: { url: secretUrl("wss", port) },
    });
    expect(lines).toHaveLength(1);
    expectNoSecrets(lines[0]!);
    expect(lines[0]).toContain("libsql://[redacted]@127.0.0.1");
  });
});
