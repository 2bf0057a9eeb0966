import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../src/config.ts";

async function configError(env: Record<string, string>): Promise<ConfigError> {
  try {
    await loadConfig(env, "/srv/app");
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives a working local setup with no environment at all", async () => {
    const c = await loadConfig({}, "/srv/app");
    expect(c.port).toBe(3000);
    expect(c.host).toBe("0.0.0.0");
    expect(c.dataDir).toBe("/srv/app/data");
    expect(c.databaseUrl).toBe("file:/srv/app/data/app.db");
    expect(c.databaseIsLocal).toBe(true);
    expect(c.databasePath).toBe("/srv/app/data/app.db");
    expect(c.backupDir).toBe("/srv/app/data/backups");
    expect(c.backup.schedule).toBe("0 0 * * *");
    expect(c.backup.timezone).toBe("UTC");
    expect(c.maxUploadBytes).toBe(1024 ** 3);
    expect(c.logLevel).toBe("info");
  });

  it("derives the database and backup folder from DATA_DIR", async () => {
    const c = await loadConfig({ DATA_DIR: "/var/lib/lifeboat" }, "/srv/app");
    expect(c.databasePath).toBe("/var/lib/lifeboat/app.db");
    expect(c.backupDir).toBe("/var/lib/lifeboat/backups");
  });

  it("accepts explicit values", async () => {
    const c = await loadConfig(
      {
        PORT: "8080",
        HOST: "127.0.0.1",
        DATABASE_URL: "file:./other.db",
        BACKUP_DIR: "/backups",
        BACKUP_SCHEDULE: "30 2 * * *",
        BACKUP_TIMEZONE: "Europe/Berlin",
        MAX_UPLOAD_BYTES: "512MiB",
        LOG_LEVEL: "warn",
        JWT_SECRET: "x".repeat(32),
      },
      "/srv/app",
    );
    expect(c.port).toBe(8080);
    expect(c.host).toBe("127.0.0.1");
    expect(c.databasePath).toBe(path.resolve("/srv/app", "other.db"));
    expect(c.backupDir).toBe("/backups");
    expect(c.backup.schedule).toBe("30 2 * * *");
    expect(c.backup.timezone).toBe("Europe/Berlin");
    expect(c.maxUploadBytes).toBe(512 * 1024 * 1024);
    expect(c.logLevel).toBe("warn");
  });

  it("treats a remote libSQL URL as remote", async () => {
    const c = await loadConfig({ DATABASE_URL: "libsql://db.example.com", DATABASE_AUTH_TOKEN: "t" }, "/srv/app");
    expect(c.databaseIsLocal).toBe(false);
    expect(c.databasePath).toBeUndefined();
    expect(c.databaseUrl).toBe("libsql://db.example.com");
  });

  it("turns the in-process schedule off with BACKUP_SCHEDULE=off", async () => {
    expect((await loadConfig({ BACKUP_SCHEDULE: "off" })).backup.schedule).toBeNull();
  });

  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ PORT: "-1" }, "PORT"],
    [{ DATABASE_URL: "postgres://x" }, "DATABASE_URL"],
    [{ DATABASE_URL: "file::memory:" }, "DATABASE_URL"],
    [{ JWT_SECRET: "too-short" }, "JWT_SECRET"],
    [{ BACKUP_SCHEDULE: "every day" }, "BACKUP_SCHEDULE"],
    [{ BACKUP_TIMEZONE: "Mars/Olympus" }, "BACKUP_TIMEZONE"],
    [{ MAX_UPLOAD_BYTES: "lots" }, "MAX_UPLOAD_BYTES"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ BACKUP_COMPRESSION: "zip" }, "BACKUP_COMPRESSION"],
    [{ CRON_SECRET: "short" }, "CRON_SECRET"],
    [{ ADMIN_USERNAME: "root", ADMIN_PASSWORD: "short" }, "ADMIN_PASSWORD"],
  ])("rejects %o naming %s", async (env, variable) => {
    const err = await configError(env as Record<string, string>);
    expect(err.issues.map((i) => i.variable)).toContain(variable);
    expect(err.message).toContain(variable);
  });

  it("names every bad variable at once", async () => {
    const err = await configError({ PORT: "abc", LOG_LEVEL: "loud" });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(["LOG_LEVEL", "PORT"]);
  });

  it("never echoes a secret value in its message", async () => {
    const err = await configError({ JWT_SECRET: "hunter2-secret" });
    expect(err.message).not.toContain("hunter2");
  });

});

/** The README's configuration table: variable → the text of its Default cell. */
function readmeConfigTable(): Map<string, string> {
  const readme = fs.readFileSync(path.resolve("README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Configuration\n"));
  const table = section.slice(0, section.indexOf("\n## ", 1));
  const rows = new Map<string, string>();
  for (const line of table.split("\n")) {
    const m = /^\| `([A-Z][A-Z0-9_]*)` \| (.*?) \| .* \|$/.exec(line.trim());
    if (m) rows.set(m[1]!, m[2]!);
  }
  return rows;
}

describe("the README's configuration table", () => {
  const table = readmeConfigTable();

  it("names every variable Lifeboat reads, and only those", () => {
    expect(table.size).toBeGreaterThan(0);
    expect([...table.keys()].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it("gives each variable's real default: setting it to the documented value changes nothing", async () => {
    const unset = await loadConfig({}, "/srv/app");
    for (const [variable, cell] of table) {
      // Defaults derived from DATA_DIR are written as a formula; the rest as a literal value.
      const derived: Record<string, string> = {
        "`file:` + `DATA_DIR/app.db`": `file:${path.join(unset.dataDir, "app.db")}`,
        "`DATA_DIR/backups`": path.join(unset.dataDir, "backups"),
      };
      const literal = /^`([^`]+)`(?: \([^)]*\))?$/.exec(cell);
      let documented: string;
      if (derived[cell] !== undefined) documented = derived[cell];
      else if (literal) documented = literal[1]!;
      else if (cell === "—" || cell.startsWith("generated")) {
        // No default: unset means "none" (or a generated value); the variable must be optional.
        await expect(loadConfig({ [variable]: "" }, "/srv/app"), variable).resolves.toBeDefined();
        continue;
      } else throw new Error(`README default of ${variable} is not a value the test can check: ${cell}`);
      expect(await loadConfig({ [variable]: documented }, "/srv/app"), `${variable}=${documented}`).toEqual(unset);
    }
  });
});
