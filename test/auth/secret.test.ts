import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { bootTestLifeboat } from "../support/app.ts";
import { ADMIN, loginToken } from "../support/auth.ts";
import { tempDir } from "../support/temp.ts";

const CREDS = { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };

describe("signing key", () => {
  it("without JWT_SECRET, generates one in DATA_DIR with mode 0600 and keeps tokens valid across restarts", async () => {
    const dataDir = await tempDir();
    const first = await bootTestLifeboat(CREDS, { dataDir });
    const file = path.join(dataDir, "jwt-secret");
    const stat = await fs.stat(file);
    expect(stat.mode & 0o777).toBe(0o600);
    const key = (await fs.readFile(file, "utf8")).trim();
    expect(Buffer.byteLength(key)).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(first.logs)).not.toContain(key);
    const token = await loginToken(first, ADMIN.username, ADMIN.password);
    await first.close();

    const second = await bootTestLifeboat(CREDS, { dataDir });
    expect((await fs.readFile(file, "utf8")).trim()).toBe(key);
    const res = await second.app.request("/api/users", { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it("uses JWT_SECRET when set and writes no key file; tokens signed with another key fail", async () => {
    const dataDir = await tempDir();
    const a = await bootTestLifeboat({ ...CREDS, JWT_SECRET: "a".repeat(40) }, { dataDir });
    await expect(fs.stat(path.join(dataDir, "jwt-secret"))).rejects.toThrow(/ENOENT/);
    const token = await loginToken(a, ADMIN.username, ADMIN.password);
    await a.close();
    const b = await bootTestLifeboat({ ...CREDS, JWT_SECRET: "b".repeat(40) }, { dataDir });
    expect((await b.app.request("/api/users", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it("refuses to start when JWT_SECRET is under 32 bytes", async () => {
    await expect(bootTestLifeboat({ ...CREDS, JWT_SECRET: "too-short-secret" })).rejects.toThrow(/JWT_SECRET: must be at least 32 bytes/);
  });

  it("refuses to start when the stored key is under 32 bytes, saying what to do", async () => {
    const dataDir = await tempDir();
    await fs.writeFile(path.join(dataDir, "jwt-secret"), "short\n", { mode: 0o600 });
    const err = await bootTestLifeboat(CREDS, { dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/JWT_SECRET: .*jwt-secret holds fewer than 32 bytes; delete that file/);
  });

  it("tightens a stored key file that others could read back to 0600", async () => {
    const dataDir = await tempDir();
    const file = path.join(dataDir, "jwt-secret");
    await fs.writeFile(file, "k".repeat(48));
    await fs.chmod(file, 0o644);
    await bootTestLifeboat(CREDS, { dataDir });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });
});
