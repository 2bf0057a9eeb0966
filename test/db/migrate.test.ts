import { spawn } from "node:child_process";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { migrationStatus, runMigrations } from "../../src/db/migrate.ts";
import { MIGRATIONS_TABLE } from "../../src/db/migrations/table.ts";
import { MIGRATIONS, type Migration } from "../../src/db/migrations/index.ts";
import { bundled } from "../support/bundle.ts";
import { tempDir } from "../support/temp.ts";

const clients: { close(): void }[] = [];
afterEach(() => {
  while (clients.length) clients.pop()!.close();
});

async function freshDb() {
  const dir = await tempDir();
  const file = path.join(dir, "app.db");
  const db = createClient({ url: `file:${file}`, intMode: "bigint" });
  clients.push(db);
  return { db, file };
}

describe("runMigrations", () => {
  it("applies every migration once, in order, and records each", async () => {
    const { db } = await freshDb();
    const applied = await runMigrations(db);
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
    const rs = await db.execute(`SELECT version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`);
    expect(rs.rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    expect(rs.rows.every((r) => !Number.isNaN(Date.parse(String(r.applied_at))))).toBe(true);

    expect(await runMigrations(db)).toEqual([]);
    const again = await db.execute(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`);
    expect(Number(again.rows[0]!.n)).toBe(MIGRATIONS.length);
  });

  it("leaves PRAGMA user_version to the application", async () => {
    const { db } = await freshDb();
    await db.execute("PRAGMA user_version = 42");
    await runMigrations(db);
    const rs = await db.execute("PRAGMA user_version");
    expect(Number(rs.rows[0]![0])).toBe(42);
  });

  it("gives every Lifeboat table the lifeboat_ prefix", async () => {
    const { db } = await freshDb();
    await runMigrations(db);
    const rs = await db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    expect(rs.rows.length).toBeGreaterThan(0);
    for (const row of rs.rows) expect(String(row.name)).toMatch(/^lifeboat_/);
  });

  it("rolls back a failing migration whole and records nothing for it", async () => {
    const { db } = await freshDb();
    const broken: Migration = {
      version: 9001,
      name: "broken",
      up: ["CREATE TABLE lifeboat_half (id INTEGER)", "THIS IS NOT SQL"],
    };
    await expect(runMigrations(db, { migrations: [...MIGRATIONS, broken] })).rejects.toThrow(/9001 \(broken\)/);
    const tables = await db.execute("SELECT name FROM sqlite_schema WHERE name = 'lifeboat_half'");
    expect(tables.rows).toHaveLength(0);
    const status = await migrationStatus(db, [...MIGRATIONS, broken]);
    expect(status.pending.map((m) => m.version)).toEqual([9001]);
  });

  it("calls beforeApply only when something is pending", async () => {
    const { db } = await freshDb();
    const calls: number[][] = [];
    const beforeApply = async (s: { pending: Migration[] }) => {
      calls.push(s.pending.map((m) => m.version));
    };
    await runMigrations(db, { beforeApply });
    await runMigrations(db, { beforeApply });
    expect(calls).toEqual([MIGRATIONS.map((m) => m.version)]);
  });

  it("changes nothing when beforeApply fails", async () => {
    const { db } = await freshDb();
    await expect(
      runMigrations(db, {
        beforeApply: async () => {
          throw new Error("backup failed");
        },
      }),
    ).rejects.toThrow("backup failed");
    expect((await migrationStatus(db)).applied).toEqual([]);
  });

  it("refuses a database migrated by a newer Lifeboat", async () => {
    const { db } = await freshDb();
    await runMigrations(db);
    await db.execute({
      sql: `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, 'future', ?)`,
      args: [99_999, new Date().toISOString()],
    });
    await expect(runMigrations(db)).rejects.toThrow(/newer than this Lifeboat/);
  });

  // Separate processes, as real instances are: in one process a second connection's
  // busy wait would block the very event loop the lock holder needs.
  it("two instances starting at once apply each migration exactly once", async () => {
    const { db, file } = await freshDb();
    const run = () =>
      new Promise<number[]>((resolve, reject) => {
        const child = spawn(process.execPath, [bundled("migrate-once")], {
          env: { ...process.env, DATABASE_URL: `file:${file}` },
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(err))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
    const rs = await db.execute(`SELECT version, count(*) AS n FROM ${MIGRATIONS_TABLE} GROUP BY version`);
    expect(rs.rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(rs.rows).toHaveLength(MIGRATIONS.length);
  });
});
