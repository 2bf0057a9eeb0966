import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { destroyS3Server, startS3Server, type TestS3Server } from "./support/s3-server.ts";
import { DENO_ENTRY, serveEntry, signInOverHttp } from "./support/entries.ts";
import { ADMIN } from "./support/auth.ts";


let server: TestS3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await destroyS3Server(server);
});

describe("off-site copies under Deno", () => {
  it("copies a backup to the bucket, lists it as here + off-site, and streams an off-site-only copy back", async () => {
    const { proc, base, dataDir } = await serveEntry(DENO_ENTRY, {
      LOG_LEVEL: "warn",
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      ...server.env(`deno-${process.pid}`),
    });
    const auth = await signInOverHttp(base);

    const created = await fetch(`${base}/api/backups`, { method: "POST", headers: auth });
    expect(created.status).toBe(201);
    const { name, sha256 } = (await created.json()) as { name: string; sha256: string };
    const local = await fs.readFile(path.join(dataDir, "backups", name));
    const deadline = Date.now() + 60_000;
    let location = "";
    while (location !== "both") {
      if (Date.now() > deadline) throw new Error(`${name} did not reach the bucket (location ${location})`);
      await new Promise((r) => setTimeout(r, 200));
      const list = (await (await fetch(`${base}/api/backups`, { headers: auth })).json()) as { name: string; location: string }[];
      location = list.find((b) => b.name === name)?.location ?? "";
    }

    expect((await fetch(`${base}/api/backups/${name}?from=here`, { method: "DELETE", headers: auth })).status).toBe(204);
    const download = await fetch(`${base}/api/backups/${name}`, { headers: auth });
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.equals(local)).toBe(true);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(sha256);

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 180_000);
});
