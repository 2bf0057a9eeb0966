import { Buffer, isUtf8 } from "node:buffer";
import { InvalidBackupError } from "../errors.ts";
import type { ApplyConnection } from "./drivers/connection.ts";
import { quoteIdent, toBytes } from "../dump/writer.ts";
import { isLifeboatHash, type ScryptParams } from "../users/password.ts";

/**
 * The rows of Lifeboat's own tables after an import, checked as Lifeboat will
 * read them, so a restore can never leave a Lifeboat that crashes, locks
 * everyone out or lets a crafted row in: text is valid UTF-8 (libsql aborts the
 * process on anything else), every column holds its declared type, times
 * parse, roles and flags have their few values, usernames follow the rule,
 * password hashes are in the one format at Lifeboat's own cost, counters are
 * sane, and at least one enabled admin remains.
 */
export interface CheckLifeboatRowsOptions {
  /** The cost Lifeboat hashes with; the only one accepted. */
  scrypt: Readonly<ScryptParams>;
  /** Whether this Lifeboat has `lifeboat_users` (then an enabled admin is required). */
  usersDefined: boolean;
  /** Only the enabled-admin check (Lifeboat's current tables were kept, not restored). */
  adminOnly?: boolean;
}

const USERS = "lifeboat_users";
const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
/** An ISO 8601 date or date-time, as Lifeboat writes them (`toISOString()`). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const MAX_SEQUENCE = 2n ** 53n;

const text = (v: unknown) => Buffer.from(toBytes(v)).toString("utf8");

/** Throws `InvalidBackupError` naming the table, row and column of the first bad value. */
export async function checkLifeboatRows(conn: ApplyConnection, options: CheckLifeboatRowsOptions): Promise<void> {
  if (!options.adminOnly) {
    const tables = (await conn.query("SELECT CAST(name AS BLOB) FROM sqlite_schema WHERE type = 'table' AND name LIKE 'lifeboat\\_%' ESCAPE '\\' ORDER BY name")).map(
      (r) => text(r[0]),
    );
    for (const t of tables) await checkTable(conn, t);
    if (tables.includes(USERS)) await checkUsers(conn, options.scrypt);
    await checkSequences(conn);
  }
  if (!options.usersDefined) return;
  const exists = Number((await conn.query("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", [USERS]))[0]?.[0]);
  if (exists === 0) throw new InvalidBackupError(`Lifeboat's table ${USERS} is missing; restoring this would lock everyone out of Lifeboat`);
  let admins = 0;
  for (const r of await conn.query(`SELECT CAST(password_hash AS BLOB) FROM ${USERS} WHERE role = 'admin' AND disabled = 0 AND typeof(password_hash) = 'text'`)) {
    if (isLifeboatHash(text(r[0]), options.scrypt)) admins++;
  }
  if (admins === 0) {
    throw new InvalidBackupError("the backup has no enabled admin account that can sign in; restoring it would lock everyone out of Lifeboat");
  }
}

/** Declared types, UTF-8 and times of every column of one of Lifeboat's tables. */
async function checkTable(conn: ApplyConnection, table: string): Promise<void> {
  const q = quoteIdent(table);
  const cols = (await conn.query("SELECT CAST(name AS BLOB), upper(type) FROM pragma_table_info(?1)", [table])).map((r) => ({
    name: text(r[0]),
    type: String(r[1]),
  }));
  for (const c of cols) {
    const col = quoteIdent(c.name);
    const want = c.type.includes("INT") ? "integer" : c.type.includes("TEXT") ? "text" : null;
    if (want) {
      const bad = await conn.query(`SELECT rowid, typeof(${col}) FROM ${q} WHERE typeof(${col}) NOT IN ('${want}', 'null') LIMIT 1`);
      if (bad.length > 0) {
        throw new InvalidBackupError(`Lifeboat's table ${table} holds a ${String(bad[0]![1])} in column ${c.name} (row ${String(bad[0]![0])}), where Lifeboat keeps ${want === "integer" ? "an integer" : "text"}`);
      }
    }
    if (want !== "text") continue;
    const isTime = c.name === "at" || c.name.endsWith("_at");
    for (const r of await conn.query(`SELECT rowid, CAST(${col} AS BLOB) FROM ${q} WHERE typeof(${col}) = 'text'`)) {
      const bytes = toBytes(r[1]);
      if (!isUtf8(bytes)) {
        throw new InvalidBackupError(`Lifeboat's table ${table} holds text that is not valid UTF-8 (column ${c.name}) in row ${String(r[0])}; Lifeboat could not read it`);
      }
      if (isTime) {
        const v = Buffer.from(bytes).toString("utf8");
        if (!ISO_TIME.test(v) || Number.isNaN(Date.parse(v))) {
          throw new InvalidBackupError(`Lifeboat's table ${table} holds “${v.slice(0, 40)}” in column ${c.name} (row ${String(r[0])}), which is not a time`);
        }
      }
    }
  }
}

async function checkUsers(conn: ApplyConnection, scrypt: Readonly<ScryptParams>): Promise<void> {
  const rows = await conn.query(`SELECT id, CAST(username AS BLOB), CAST(password_hash AS BLOB), role, disabled FROM ${USERS}`);
  for (const [id, username, hash, role, disabled] of rows) {
    const name = text(username);
    const who = `user ${String(id)}`;
    if (!USERNAME.test(name)) throw new InvalidBackupError(`${who} of Lifeboat's accounts has a username that breaks the rule (3–64 letters, digits, dot, underscore or hyphen)`);
    if (role !== "admin" && role !== "user") throw new InvalidBackupError(`${who} (${name}) has the unknown role “${String(role).slice(0, 20)}”`);
    if (disabled !== 0n && disabled !== 0 && disabled !== 1n && disabled !== 1) throw new InvalidBackupError(`${who} (${name}) has a disabled flag other than 0 or 1`);
    if (!isLifeboatHash(text(hash), scrypt)) {
      throw new InvalidBackupError(
        `${who} (${name}) has a password hash that is not in the format and cost Lifeboat writes ($scrypt$ln=${scrypt.ln},r=${scrypt.r},p=${scrypt.p}$…); Lifeboat refuses such hashes`,
      );
    }
  }
}

/** AUTOINCREMENT counters of Lifeboat's tables: whole numbers a new row can still follow. */
async function checkSequences(conn: ApplyConnection): Promise<void> {
  const has = Number((await conn.query("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'"))[0]?.[0]);
  if (has === 0) return;
  for (const [name, seq] of await conn.query("SELECT CAST(name AS BLOB), seq FROM sqlite_sequence WHERE name LIKE 'lifeboat\\_%' ESCAPE '\\'")) {
    const ok = (typeof seq === "bigint" || typeof seq === "number") && BigInt(seq) >= 0n && BigInt(seq) < MAX_SEQUENCE;
    if (!ok) throw new InvalidBackupError(`the AUTOINCREMENT counter of ${text(name)} (${String(seq).slice(0, 30)}) is not a sane row number`);
  }
}
