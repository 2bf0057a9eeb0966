import { describe, expect, it } from "vitest";
import { ENTRIES, NODE_DEV_ENTRY, startEntry } from "./support/entries.ts";
import { freePort, waitForHttp } from "./support/process.ts";
import { tempDir } from "./support/temp.ts";

// The sources through tsx too, as `npm run dev` starts them.
describe.each([...ENTRIES, NODE_DEV_ENTRY])("$name entry", (entry) => {
  it("serves /healthz and /readyz on the embedded libSQL file, and stops cleanly on SIGTERM", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const proc = startEntry(entry, { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const health = await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, proc);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("ok");
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe("ready");

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const lines = proc
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["listening", "shutting down", "lifeboat stopped"]));
  });

  it("exits non-zero naming PORT when PORT=abc", async () => {
    const dataDir = await tempDir();
    const proc = startEntry(entry, { PORT: "abc", DATA_DIR: dataDir });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/PORT: expected a whole number/);
  });
});
