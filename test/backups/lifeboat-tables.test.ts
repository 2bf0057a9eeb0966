import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BackupMeta } from "../../src/backups/types.ts";
import { MIGRATIONS } from "../../src/db/migrations/index.ts";
import type { TestLifeboat } from "../support/app.ts";
import { ADMIN, bootWithAdmin, loginToken } from "../support/auth.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";

/**
 * Restores that try to shape Lifeboat's own tables instead of filling them.
 * Each is refused with a 4xx that says why, and leaves the database (compared
 * as `sqlite3 .dump` text) and the backup list exactly as they were.
 */

const T = "2026-01-01T00:00:00.000Z";
const MIGRATIONS_DDL = "CREATE TABLE lifeboat_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL);";
const MIGRATION_ROWS = `INSERT INTO lifeboat_migrations VALUES${MIGRATIONS.map((m) => `(${m.version},'${m.name}','${T}')`).join(",")};`;
const USERS_DDL = (name = "lifeboat_users") =>
  `CREATE TABLE ${name} (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL COLLATE NOCASE UNIQUE, password_hash TEXT NOT NULL, role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);`;
const AUDIT_DDL = "CREATE TABLE lifeboat_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target_id INTEGER NOT NULL, target_username TEXT NOT NULL, details TEXT);";

interface Ctx {
  lb: TestLifeboat;
  token: string;
  /** The admin's real hash (at the cost this Lifeboat writes). */
  hash: string;
}

async function setup(): Promise<Ctx> {
  const lb = await bootWithAdmin();
  await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second')");
  const token = await loginToken(lb, ADMIN.username, ADMIN.password);
  const hash = String((await lb.db.execute("SELECT password_hash FROM lifeboat_users WHERE username = 'admin'")).rows[0]!.password_hash);
  return { lb, token, hash };
}

/** A sqlite3-style dump of Lifeboat's tables plus one application table; `parts` replace the defaults. */
function dump(ctx: Ctx, parts: { users?: string; rows?: string; extra?: string; audit?: string } = {}): string {
  const admin = `INSERT INTO lifeboat_users VALUES(1,'admin','${ctx.hash}','admin',0,'${T}','${T}');`;
  return [
    "PRAGMA foreign_keys=OFF;",
    "BEGIN TRANSACTION;",
    MIGRATIONS_DDL,
    MIGRATION_ROWS,
    parts.users ?? USERS_DDL(),
    parts.rows ?? admin,
    parts.audit ?? AUDIT_DDL,
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
    "INSERT INTO notes VALUES(1,'restored');",
    parts.extra ?? "",
    "COMMIT;",
    "",
  ].join("\n");
}

function sqliteDump(lb: TestLifeboat): string {
  return execFileSync("sqlite3", [lb.config.databasePath!, ".dump"], { encoding: "utf8" });
}

async function names(ctx: Ctx): Promise<string[]> {
  const res = await ctx.lb.app.request("/api/backups", { headers: { Authorization: `Bearer ${ctx.token}` } });
  return ((await res.json()) as BackupMeta[]).map((b) => b.name).sort();
}

async function importText(ctx: Ctx, text: string): Promise<Response> {
  const body = multipartBody(new TextEncoder().encode(text));
  return ctx.lb.app.request("/api/backups/import", {
    method: "POST",
    headers: { Authorization: `Bearer ${ctx.token}`, "Content-Type": MULTIPART_TYPE, "Content-Length": String(body.length) },
    body,
  });
}

interface Attack {
  name: string;
  text: (ctx: Ctx) => string;
  message: RegExp;
  /** The line the refusal names, when the checking pass finds it. */
  line?: number;
}

const ATTACKS: Attack[] = [
  {
    name: "LIFEBOAT_USERS (upper case) whose only admin is disabled",
    text: (ctx) =>
      dump(ctx, { users: USERS_DDL("LIFEBOAT_USERS"), rows: `INSERT INTO LIFEBOAT_USERS VALUES(1,'admin','${ctx.hash}','admin',1,'${T}','${T}');` }),
    message: /no enabled admin/,
  },
  {
    name: "Lifeboat_users with a username that is not valid UTF-8",
    text: (ctx) =>
      dump(ctx, {
        users: USERS_DDL("Lifeboat_users"),
        rows: `INSERT INTO Lifeboat_users VALUES(1,'admin','${ctx.hash}','admin',0,'${T}','${T}'),(2,CAST(X'61646d696eff' AS TEXT),'${ctx.hash}','admin',0,'${T}','${T}');`,
      }),
    message: /not valid UTF-8/,
  },
  { name: "lifeboat_users missing", text: (ctx) => dump(ctx, { users: "", rows: "" }), message: /no enabled admin/ },
  {
    name: "lifeboat_users as a view",
    text: (ctx) => dump(ctx, { users: "CREATE VIEW lifeboat_users AS SELECT 1 AS id, 'admin' AS username;", rows: "" }),
    message: /view named lifeboat_users is not allowed/,
    line: 5,
  },
  {
    name: "lifeboat_users without a password_hash column",
    text: () =>
      [
        "BEGIN TRANSACTION;",
        MIGRATIONS_DDL,
        MIGRATION_ROWS,
        "CREATE TABLE lifeboat_users (id INTEGER PRIMARY KEY, username TEXT, role TEXT, disabled INTEGER, created_at TEXT, updated_at TEXT);",
        `INSERT INTO lifeboat_users VALUES(1,'admin','admin',0,'${T}','${T}');`,
        "COMMIT;",
      ].join("\n"),
    message: /line 5: .*(6 values|columns)/,
  },
  {
    name: "an admin whose hash is 'x'",
    text: (ctx) => dump(ctx, { rows: `INSERT INTO lifeboat_users VALUES(1,'admin','x','admin',0,'${T}','${T}');` }),
    message: /password hash that is not in the format and cost Lifeboat writes/,
  },
  {
    name: "a hash that names its own scrypt cost (ln=18, p=8)",
    text: (ctx) =>
      dump(ctx, {
        rows: `INSERT INTO lifeboat_users VALUES(1,'admin','${ctx.hash.replace(/ln=\d+,r=\d+,p=\d+/, "ln=18,r=8,p=8")}','admin',0,'${T}','${T}');`,
      }),
    message: /not in the format and cost Lifeboat writes/,
  },
  {
    name: "lifeboat_audit as a view",
    text: (ctx) => dump(ctx, { audit: "CREATE VIEW lifeboat_audit AS SELECT 1 AS id;" }),
    message: /view named lifeboat_audit is not allowed/,
    line: 7,
  },
  {
    name: "a trigger on lifeboat_audit that makes mallory an admin",
    text: (ctx) =>
      dump(ctx, {
        extra:
          "CREATE TRIGGER promote AFTER INSERT ON lifeboat_audit BEGIN UPDATE lifeboat_users SET role='admin' WHERE username='mallory'; END;",
      }),
    message: /trigger promote refers to lifeboat_audit/,
    line: 10,
  },
  {
    name: "a trigger that re-inserts mallory after a delete",
    text: (ctx) =>
      dump(ctx, {
        extra: `CREATE TRIGGER "lifeboat_keep" AFTER DELETE ON lifeboat_users BEGIN INSERT INTO lifeboat_users(username,password_hash,role,disabled,created_at,updated_at) VALUES('mallory','${ctx.hash}','admin',0,'${T}','${T}'); END;`,
      }),
    message: /trigger named lifeboat_keep is not allowed/,
    line: 10,
  },
  {
    name: "a trigger on an application table that writes Lifeboat's users",
    text: (ctx) =>
      dump(ctx, {
        extra: `CREATE TRIGGER sneaky AFTER INSERT ON notes BEGIN INSERT INTO "LifeBoat_Users"(username,password_hash,role,disabled,created_at,updated_at) VALUES('mallory','${ctx.hash}','admin',0,'${T}','${T}'); END;`,
      }),
    message: /trigger sneaky refers to LifeBoat_Users/,
    line: 10,
  },
  {
    name: "an index on lifeboat_users",
    text: (ctx) => dump(ctx, { extra: "CREATE INDEX by_role ON lifeboat_users(role);" }),
    message: /index by_role refers to lifeboat_users/,
    line: 10,
  },
  {
    name: "a view reading lifeboat_users",
    text: (ctx) => dump(ctx, { extra: "CREATE VIEW hashes AS SELECT password_hash FROM [lifeboat_users];" }),
    message: /view hashes refers to lifeboat_users/,
    line: 10,
  },
  {
    name: "a table named like Lifeboat's that Lifeboat does not have",
    text: (ctx) => dump(ctx, { extra: "CREATE TABLE lifeboat_backdoor (a);" }),
    message: /lifeboat_backdoor .*reserved/,
    line: 10,
  },
  {
    name: "a plain dump that adds a user to the accounts it keeps",
    text: (ctx) =>
      [
        "BEGIN TRANSACTION;",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        `INSERT INTO lifeboat_users VALUES(99,'mallory','${ctx.hash}','admin',0,'${T}','${T}');`,
        "COMMIT;",
      ].join("\n"),
    message: /rows for Lifeboat's table lifeboat_users come without its CREATE TABLE/,
    line: 3,
  },
  {
    name: "Lifeboat's tables without a migration record",
    text: (ctx) => dump(ctx).replace(MIGRATIONS_DDL, "").replace(MIGRATION_ROWS, ""),
    message: /rows saying which schema version/,
  },
  {
    name: "a time that is not a time",
    text: (ctx) => dump(ctx, { rows: `INSERT INTO lifeboat_users VALUES(1,'admin','${ctx.hash}','admin',0,'yesterday','${T}');` }),
    message: /“yesterday” in column created_at .*not a time/,
  },
  {
    name: "an AUTOINCREMENT counter at the end of the range",
    text: (ctx) => dump(ctx, { extra: "DELETE FROM sqlite_sequence; INSERT INTO sqlite_sequence VALUES('lifeboat_users', 9223372036854775807);" }),
    message: /AUTOINCREMENT counter of lifeboat_users/,
  },
];

describe("restores cannot shape Lifeboat's own tables", () => {
  it("refuses every attack with a 422 that says why, changing neither the database nor the backup list", async () => {
    const ctx = await setup();
    const before = sqliteDump(ctx.lb);
    const listed = await names(ctx);
    for (const attack of ATTACKS) {
      const res = await importText(ctx, attack.text(ctx));
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect({ attack: attack.name, status: res.status, code: body.error.code }).toEqual({ attack: attack.name, status: 422, code: "invalid_backup" });
      expect(body.error.message, attack.name).toMatch(attack.message);
      if (attack.line) expect(body.error.message, attack.name).toMatch(new RegExp(`^line ${attack.line}: `));
      expect(sqliteDump(ctx.lb), attack.name).toBe(before);
      expect(await names(ctx), attack.name).toEqual(listed);
    }
    // Still the same Lifeboat: the admin signs in.
    await loginToken(ctx.lb, ADMIN.username, ADMIN.password);
  });

  it("restores a well-formed Lifeboat dump: its accounts replace the current ones, rows land in tables built by the migrations", async () => {
    const ctx = await setup();
    const text = dump(ctx, {
      users: USERS_DDL("LIFEBOAT_USERS").replace("role TEXT NOT NULL", "role TEXT NOT NULL, extra_evil_default TEXT DEFAULT 'x'"),
      rows: `INSERT INTO LIFEBOAT_USERS(id,username,password_hash,role,disabled,created_at,updated_at) VALUES(1,'admin','${ctx.hash}','admin',0,'${T}','${T}'),(7,'restored','${ctx.hash}','user',0,'${T}','${T}');`,
    });
    const res = await importText(ctx, text);
    expect(res.status).toBe(200);
    const users = await ctx.lb.db.execute("SELECT id, username FROM lifeboat_users ORDER BY id");
    expect(users.rows.map((r) => [Number(r.id), String(r.username)])).toEqual([
      [1, "admin"],
      [7, "restored"],
    ]);
    // The table is Lifeboat's own definition, not the dump's.
    const sql = String((await ctx.lb.db.execute("SELECT sql FROM sqlite_schema WHERE name = 'lifeboat_users'")).rows[0]!.sql);
    expect(sql).toBe(MIGRATIONS.find((m) => m.name === "users")!.up[0]);
    expect((await ctx.lb.db.execute("SELECT body FROM notes")).rows.map((r) => r.body)).toEqual(["restored"]);
    await loginToken(ctx.lb, "restored", ADMIN.password);
  });
});

describe("listed backups are checked against their recorded sha256", () => {
  it("refuses a backup whose bytes changed since it was written: 422 checksum_mismatch naming both values", async () => {
    const ctx = await setup();
    const auth = { Authorization: `Bearer ${ctx.token}` };
    const created = await ctx.lb.app.request("/api/backups", { method: "POST", headers: auth });
    const meta = (await created.json()) as BackupMeta;
    const file = path.join(ctx.lb.config.backupDir, meta.name);
    // Still a clean dump, only different: the kind of change nobody would notice by reading it.
    const text = await fs.readFile(file, "utf8");
    await fs.writeFile(file, text.replace("INSERT INTO \"notes\"", "INSERT INTO \"notes\"").replace("'second'", "'tampered'"));
    const actual = execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]!;
    expect(actual).not.toBe(meta.sha256);
    const before = sqliteDump(ctx.lb);
    const listed = await names(ctx);
    const res = await ctx.lb.app.request(`/api/backups/${meta.name}/import`, { method: "POST", headers: auth });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("checksum_mismatch");
    expect(body.error.message).toContain(meta.sha256!);
    expect(body.error.message).toContain(actual);
    expect(sqliteDump(ctx.lb)).toBe(before);
    expect(await names(ctx)).toEqual(listed);
  });
});
