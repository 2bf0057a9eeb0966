import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../src/config.ts";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, "/srv/app");
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives a working local setup with no environment at all", () => {
    const c = loadConfig({}, "/srv/app");
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

  it("derives the database and backup folder from DATA_DIR", () => {
    const c = loadConfig({ DATA_DIR: "/var/lib/lifeboat" }, "/srv/app");
    expect(c.databasePath).toBe("/var/lib/lifeboat/app.db");
    expect(c.backupDir).toBe("/var/lib/lifeboat/backups");
  });

  it("accepts explicit values", () => {
    const c = loadConfig(
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

  it("treats a remote libSQL URL as remote", () => {
    const c = loadConfig({ DATABASE_URL: "libsql://db.example.com", DATABASE_AUTH_TOKEN: "t" }, "/srv/app");
    expect(c.databaseIsLocal).toBe(false);
    expect(c.databasePath).toBeUndefined();
    expect(c.databaseUrl).toBe("libsql://db.example.com");
  });

  it("turns the in-process schedule off with BACKUP_SCHEDULE=off", () => {
    expect(loadConfig({ BACKUP_SCHEDULE: "off" }).backup.schedule).toBeNull();
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
  ])("rejects %o naming %s", (env, variable) => {
    const err = configError(env as Record<string, string>);
    expect(err.issues.map((i) => i.variable)).toContain(variable);
    expect(err.message).toContain(variable);
  });

  it("names every bad variable at once", () => {
    const err = configError({ PORT: "abc", LOG_LEVEL: "loud" });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(["LOG_LEVEL", "PORT"]);
  });

  it("never echoes a secret value in its message", () => {
    const err = configError({ JWT_SECRET: "hunter2-secret" });
    expect(err.message).not.toContain("hunter2");
  });

  it("lists the public variable names", () => {
    for (const name of [
      "PORT", "HOST", "DATA_DIR", "DATABASE_URL", "DATABASE_AUTH_TOKEN", "BACKUP_DIR", "JWT_SECRET",
      "ADMIN_USERNAME", "ADMIN_PASSWORD", "CRON_SECRET", "BACKUP_SCHEDULE", "BACKUP_TIMEZONE",
      "MAX_UPLOAD_BYTES", "LOG_LEVEL",
    ]) {
      expect(CONFIG_VARIABLES).toContain(name);
    }
  });
});
