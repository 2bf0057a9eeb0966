import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import Database from "libsql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CURRENT_SCRYPT } from "../../src/users/password.ts";
import { bootTestLifeboat } from "../support/app.ts";
import { ADMIN, TEST_JWT_SECRET } from "../support/auth.ts";
import { runCli } from "../support/cli.ts";
import { destroyS3Server, startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { tempDir } from "../support/temp.ts";

const lifeboat = runCli;

let server: TestS3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await destroyS3Server(server);
});

describe("disaster recovery onto an empty host", () => {
  it("`lifeboat restore --latest` with the same configuration and an empty DATA_DIR restores the newest off-site backup (encrypted)", async () => {
    const keyFile = path.join(await tempDir(), "key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "pipe" });
    const recipient = execFileSync("age-keygen", ["-y", keyFile]).toString().trim();
    const prefix = `dr-${process.pid}-${Date.now()}`;
    const shared = { ...server.env(prefix), BACKUP_AGE_RECIPIENTS: recipient, BACKUP_AGE_IDENTITY_FILE: keyFile, BACKUP_COMPRESSION: "gzip" };

    // The old host: data, two backups, then the host is lost. Its password hashes are at Lifeboat's
    // own scrypt cost, which the command line (a production process) requires of what it restores.
    const old = await bootTestLifeboat(
      { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, JWT_SECRET: TEST_JWT_SECRET, ...shared },
      { passwordCost: CURRENT_SCRYPT },
    );
    await old.backups.createBackup({ trigger: "manual", actor: "admin" });
    await old.users.createUser(ADMIN.username, { username: "dora", password: "dora's long password", role: "admin" });
    const newest = await old.backups.createBackup({ trigger: "manual", actor: "admin" });
    await old.backups.offsiteIdle();
    await old.close();
    await fs.rm(old.dataDir, { recursive: true, force: true });

    // The new host: nothing but the configuration.
    const dataDir = await tempDir();
    const env = { DATA_DIR: dataDir, ...shared };
    const listed = await lifeboat(["list"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${newest.name.replace(/\./g, "\\.")}.*off-site`));

    // The newest is the change backup the old host wrote for dora as it shut down.
    const before = JSON.parse((await lifeboat(["list", "--json"], env)).stdout) as { name: string; location: string; trigger: string }[];
    expect(before.every((r) => r.location === "offsite")).toBe(true);
    expect(before.map((r) => r.name)).toContain(newest.name);
    const restored = await lifeboat(["restore", "--latest"], env);
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`Restoring the newest backup, ${before[0]!.name}`);
    const db = new Database(path.join(dataDir, "app.db"));
    try {
      const users = db.prepare("SELECT username FROM lifeboat_users ORDER BY username").all() as { username: string }[];
      expect(users.map((u) => u.username)).toEqual(["admin", "dora"]);
    } finally {
      db.close();
    }
    // The fetched backup is here now, and the list says so. The command line starts no background
    // copies: the safety backup of the import stays here until the server starts (or `backup` runs).
    const after = await lifeboat(["list", "--json"], env);
    const rows = JSON.parse(after.stdout) as { name: string; location: string; trigger: string }[];
    expect(rows.find((r) => r.name === before[0]!.name)?.location).toBe("both");
    expect(rows.filter((r) => r.trigger === "pre-import").map((r) => r.location)).toEqual(["here"]);

    // `lifeboat backup` copies its backup off-site before it exits.
    const backedUp = await lifeboat(["backup", "--json"], env);
    expect(backedUp.stderr).toBe("");
    expect(backedUp.code).toBe(0);
    const taken = JSON.parse(backedUp.stdout) as { name: string };
    expect(taken.name).toMatch(/\.sql\.gz\.age$/);
    const final = JSON.parse((await lifeboat(["list", "--json"], env)).stdout) as { name: string; location: string }[];
    expect(final.find((r) => r.name === taken.name)?.location).toBe("both");

    // Nothing to restore: a clear usage error.
    const nothing = await lifeboat(["restore", "--latest"], { DATA_DIR: await tempDir(), ...server.env(`${prefix}-empty`) });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/there is no backup to restore/);
  }, 540_000); // five processes (two hosts' worth of work) on a shared 2-core machine
});
