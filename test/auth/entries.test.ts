import { describe, expect, it } from "vitest";
import { ENTRIES, startEntry } from "../support/entries.ts";
import { freePort, waitForHttp } from "../support/process.ts";
import { tempDir } from "../support/temp.ts";

describe.each(ENTRIES)("$name entry: a fresh start yields a usable login", (entry) => {
  it("prints the generated admin password once, signs in with it, and sees the real client address", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const proc = startEntry(entry, { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "info" });
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
