import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, start, waitForHttp } from "../support/process.ts";
import { tempDir } from "../support/temp.ts";

const DENO = path.resolve("node_modules/.bin/deno");
const runtimes = [
  { name: "Node", cmd: process.execPath, args: ["--import", "tsx", "src/main-node.ts"] },
  {
    name: "Deno",
    cmd: DENO,
    args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys", "src/main-deno.ts"],
  },
];

describe.each(runtimes)("$name entry: a fresh start yields a usable login", ({ cmd, args }) => {
  it("prints the generated admin password once, signs in with it, and sees the real client address", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const proc = start(cmd, args, { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, 60_000, proc);
    const logs = () =>
      proc
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const firstAdmin = logs().filter((l) => String(l.msg).startsWith("first admin created"));
    expect(firstAdmin).toHaveLength(1);
    const password = String(firstAdmin[0]!.initialLogin);

    const login = (pw: string) =>
      fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: "admin", password: pw }),
      });
    const ok = await login(password);
    expect(ok.status).toBe(200);
    const { token } = (await ok.json()) as { token: string };
    expect((await fetch(`${base}/api/users`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

    expect((await login("not the password")).status).toBe(401);
    const failed = logs().find((l) => l.msg === "sign-in failed");
    expect(failed).toMatchObject({ level: "warn", username: "admin" });
    expect(String(failed!.client)).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(proc.output()).not.toContain("not the password");

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});
