import { createHash } from "node:crypto";
import type { Client, Row, Transaction } from "@libsql/client";
import type { Role } from "../principal.ts";
import type { Clock } from "../clock.ts";
import { ConfigError } from "../config.ts";
import type { WriteGate } from "../db/write-gate.ts";
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError, validationErrorFrom } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { UserChangeAction, UserChangeEvent } from "./events.ts";
import { createPasswordHasher, generatePassword, type ScryptParams } from "./password.ts";
import { assertStrongPassword, weakPasswordReason } from "./password-strength.ts";
import { isTokenRevoked, raiseSessionEpoch, revokeToken, SESSION_EPOCH_COLUMN } from "./sessions.ts";
import {
  changePasswordSchema,
  createUserSchema,
  passwordSchema,
  updateUserSchema,
  usernameSchema,
  type CreateUserInput,
  type UpdateUserInput,
} from "./validation.ts";
import type { z } from "zod";

/** A Lifeboat account as the rest of the program sees it (never its password hash). */
export interface User {
  id: number;
  username: string;
  role: Role;
  disabled: boolean;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

/** A user that may sign in, with a fingerprint of its password hash for session checks. */
export interface ActiveUser {
  user: User;
  /**
   * Short digest of the stored password hash. Sessions and tokens carry it, so
   * a password change or reset makes every earlier one stop working.
   */
  credentialVersion: string;
  /**
   * Raised by "sign out everywhere"; tokens carry the epoch they were issued
   * in, and one from an earlier epoch no longer works.
   */
  sessionEpoch: number;
}

/** A signed-in token or cookie being ended: its `jti`, whose it is, and when it would expire anyway. */
interface EndedToken {
  jti: string;
  userId: number;
  expiresAt: Date;
}

/** One line of the audit trail: who changed which user, how, when. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: UserChangeAction;
  target: { id: number; username: string };
  details: Record<string, unknown> | null;
}

/** Who performs a change: their username, recorded in the audit trail and the event. */
type Actor = string;

/** The actor recorded for changes Lifeboat makes itself (the first admin). */
const SYSTEM_ACTOR = "system";

export interface UserServiceDeps {
  db: Client;
  writeGate: WriteGate;
  clock: Clock;
  /** Receives one event per committed change, after the commit. */
  events: EventBus<UserChangeEvent>;
  /**
   * scrypt cost of new password hashes and of the decoy check for unknown names;
   * `CURRENT_SCRYPT` (N=2^17, r=8, p=1) unless given. Stored hashes name their own
   * cost, so changing it never locks anyone out.
   */
  passwordCost?: ScryptParams;
}

/**
 * The verbs on the user database. Every change: validated (`ValidationError`
 * naming the field), run through the write gate in one transaction with its
 * audit row, then announced with exactly one `UserChangeEvent`. A failed change
 * writes and announces nothing.
 */
export interface UserService {
  /** All users, by name. */
  listUsers(): Promise<User[]>;
  /** One user; `NotFoundError` when there is none with that id. */
  getUser(id: number): Promise<User>;
  /** Creates a user (`ConflictError` when the name is taken in any letter case). Event `user.create`. */
  createUser(actor: Actor, input: CreateUserInput): Promise<User>;
  /**
   * Changes role, password and/or disabled. One field changed: event `user.role`,
   * `user.password`, `user.disable` or `user.enable`; several: `user.update`;
   * none (same values): no event. Refuses to demote or disable the last enabled admin.
   */
  updateUser(actor: Actor, id: number, patch: UpdateUserInput): Promise<User>;
  /** Deletes a user, never the last enabled admin. Event `user.delete`. Returns who was deleted. */
  deleteUser(actor: Actor, id: number): Promise<User>;
  /** A user sets a new password after proving the current one. Event `user.password` with the user as actor. */
  changeOwnPassword(userId: number, input: z.input<typeof changePasswordSchema>): Promise<ActiveUser>;
  /**
   * The enabled user with this name and password, or null. Costs one password
   * hash whether or not the name exists, so timing tells nothing.
   */
  authenticate(username: string, password: string): Promise<ActiveUser | null>;
  /** The user with this id if it exists and is enabled (checked on every authenticated request). */
  findActiveUser(id: number): Promise<ActiveUser | null>;
  /** True when the token with this `jti` was signed out (one indexed lookup; checked on every request). */
  isTokenRevoked(jti: string): Promise<boolean>;
  /**
   * Signs one token or session cookie out on the server, for every instance
   * sharing the database. Not audited (like signing in); drops expired records.
   */
  signOut(token: EndedToken): Promise<void>;
  /**
   * Ends every session and API token of a user (raises their session epoch).
   * Event `user.sessions`, audited like every admin change.
   */
  endSessions(actor: Actor, id: number): Promise<User>;
  /**
   * On a database without users, creates the first admin from ADMIN_USERNAME /
   * ADMIN_PASSWORD, or with a generated password printed once to the log.
   * Throws `ConfigError` when the configured name or password is unusable.
   */
  ensureFirstAdmin(admin: { username?: string | undefined; password?: string | undefined }, logger: Logger): Promise<User | null>;
  /** The newest audit entries first (default 50, at most 1000). */
  listAudit(options?: { limit?: number }): Promise<AuditEntry[]>;
}

const USER_COLUMNS = "id, username, password_hash, role, disabled, created_at, updated_at";

function toUser(row: Row): User {
  return {
    id: Number(row.id),
    username: String(row.username),
    role: String(row.role) as Role,
    disabled: Number(row.disabled) === 1,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

function fingerprint(passwordHash: string): string {
  return createHash("sha256").update(passwordHash).digest("base64url").slice(0, 16);
}

function toActive(row: Row, sessionEpoch = Number(row.session_epoch ?? 0)): ActiveUser {
  return { user: toUser(row), credentialVersion: fingerprint(String(row.password_hash)), sessionEpoch };
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw validationErrorFrom(r.error);
}

function usernameTaken(username: string): ConflictError {
  return new ConflictError(`A user named ${username} already exists (names are not case-sensitive).`, "username_taken");
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return /UNIQUE constraint failed/i.test(e.message ?? "") || e.code === "SQLITE_CONSTRAINT_UNIQUE";
}

interface Change<T> {
  value: T;
  /** What to audit and announce; null when nothing changed. */
  change: { action: UserChangeAction; target: { id: number; username: string }; details?: Record<string, unknown> } | null;
}

/**
 * The user database: accounts, their passwords, and an audit trail. Every
 * change runs through the write gate in one transaction together with its audit
 * row, and is announced on `events` only after that transaction commits.
 */
export function createUserService(deps: UserServiceDeps): UserService {
  const { db, writeGate, clock, events } = deps;
  const passwords = createPasswordHasher(deps.passwordCost);

  async function mutate<T>(actor: Actor, work: (tx: Transaction, at: string) => Promise<Change<T>>): Promise<T> {
    const { value, event } = await writeGate.run(async () => {
      const tx = await db.transaction("write");
      try {
        const at = clock.now().toISOString();
        const { value, change } = await work(tx, at);
        if (change) {
          await tx.execute({
            sql: `INSERT INTO lifeboat_audit (at, actor, action, target_id, target_username, details)
                  VALUES (?, ?, ?, ?, ?, ?)`,
            args: [at, actor, change.action, change.target.id, change.target.username, change.details ? JSON.stringify(change.details) : null],
          });
        }
        await tx.commit();
        const event: UserChangeEvent | null = change
          ? { action: change.action, actor, target: change.target, at }
          : null;
        return { value, event };
      } catch (err) {
        if (!tx.closed) await tx.rollback();
        throw err;
      } finally {
        tx.close();
      }
    });
    if (event) events.emit(event);
    return value;
  }

  async function rowById(executor: Client | Transaction, id: number): Promise<Row> {
    const rs = await executor.execute({ sql: `SELECT ${USER_COLUMNS} FROM lifeboat_users WHERE id = ?`, args: [id] });
    const row = rs.rows[0];
    if (!row) throw new NotFoundError(`No user with id ${id}`);
    return row;
  }

  /** Refuses to remove the last enabled admin; runs inside the change's own transaction. */
  async function assertAnotherAdmin(tx: Transaction, target: User, change: "deleted" | "disabled" | "demoted"): Promise<void> {
    if (target.role !== "admin" || target.disabled) return;
    const rs = await tx.execute({
      sql: "SELECT count(*) AS n FROM lifeboat_users WHERE role = 'admin' AND disabled = 0 AND id <> ?",
      args: [target.id],
    });
    if (Number(rs.rows[0]!.n) === 0) {
      throw new ConflictError(
        `${target.username} is the last enabled admin and cannot be ${change}. Make another user an admin first.`,
        "last_admin",
      );
    }
  }

  async function insertUser(tx: Transaction, at: string, username: string, passwordHash: string, role: Role): Promise<User> {
    const existing = await tx.execute({ sql: "SELECT id FROM lifeboat_users WHERE username = ?", args: [username] });
    if (existing.rows.length > 0) throw usernameTaken(username);
    try {
      const rs = await tx.execute({
        sql: `INSERT INTO lifeboat_users (username, password_hash, role, disabled, created_at, updated_at)
              VALUES (?, ?, ?, 0, ?, ?) RETURNING ${USER_COLUMNS}`,
        args: [username, passwordHash, role, at, at],
      });
      return toUser(rs.rows[0]!);
    } catch (err) {
      if (isUniqueViolation(err)) throw usernameTaken(username);
      throw err;
    }
  }

  return {
    async listUsers() {
      const rs = await db.execute(`SELECT ${USER_COLUMNS} FROM lifeboat_users ORDER BY username COLLATE NOCASE, id`);
      return rs.rows.map(toUser);
    },

    async getUser(id) {
      return toUser(await rowById(db, id));
    },

    async createUser(actor, input) {
      const { username, password, role } = parseOrThrow(createUserSchema, input);
      // A taken name is refused before spending 0.4 s on the hash (and checked again in the transaction).
      const taken = await db.execute({ sql: "SELECT 1 FROM lifeboat_users WHERE username = ?", args: [username] });
      if (taken.rows.length > 0) throw usernameTaken(username);
      await assertStrongPassword(password, "password", [username]);
      // Hash before taking the write gate: the KDF must not hold up other writers.
      const passwordHash = await passwords.hash(password);
      return mutate(actor, async (tx, at) => {
        const user = await insertUser(tx, at, username, passwordHash, role);
        return { value: user, change: { action: "user.create", target: { id: user.id, username: user.username }, details: { role } } };
      });
    },

    async updateUser(actor, id, patch) {
      const input = parseOrThrow(updateUserSchema, patch);
      if (input.password !== undefined) {
        await assertStrongPassword(input.password, "password", [toUser(await rowById(db, id)).username]);
      }
      const passwordHash = input.password !== undefined ? await passwords.hash(input.password) : undefined;
      return mutate(actor, async (tx, at) => {
        const before = toUser(await rowById(tx, id));
        const changed: string[] = [];
        const details: Record<string, unknown> = {};
        if (input.role !== undefined && input.role !== before.role) {
          changed.push("role");
          details.role = { from: before.role, to: input.role };
        }
        if (input.disabled !== undefined && input.disabled !== before.disabled) {
          changed.push("disabled");
          details.disabled = input.disabled;
        }
        if (passwordHash !== undefined) changed.push("password");
        if (changed.length === 0) return { value: before, change: null };

        if (details.role && input.role !== "admin") await assertAnotherAdmin(tx, before, "demoted");
        if (input.disabled === true && !before.disabled) await assertAnotherAdmin(tx, before, "disabled");

        const rs = await tx.execute({
          sql: `UPDATE lifeboat_users SET
                  role = coalesce(?, role),
                  disabled = coalesce(?, disabled),
                  password_hash = coalesce(?, password_hash),
                  updated_at = ?
                WHERE id = ? RETURNING ${USER_COLUMNS}`,
          args: [
            input.role ?? null,
            input.disabled === undefined ? null : input.disabled ? 1 : 0,
            passwordHash ?? null,
            at,
            id,
          ],
        });
        const after = toUser(rs.rows[0]!);
        // A disabled account's sessions end for good: enabling it again does not bring them back.
        if (after.disabled && !before.disabled) await raiseSessionEpoch(tx, id, at);
        const action: UserChangeAction =
          changed.length > 1
            ? "user.update"
            : changed[0] === "role"
              ? "user.role"
              : changed[0] === "password"
                ? "user.password"
                : after.disabled
                  ? "user.disable"
                  : "user.enable";
        return {
          value: after,
          change: { action, target: { id, username: after.username }, details: { changed, ...details } },
        };
      });
    },

    async deleteUser(actor, id) {
      return await mutate(actor, async (tx, at) => {
        const user = toUser(await rowById(tx, id));
        await assertAnotherAdmin(tx, user, "deleted");
        await tx.execute({ sql: "DELETE FROM lifeboat_users WHERE id = ?", args: [id] });
        // The epoch outlives the account, so a restore that brings it back cannot revive its sessions.
        await raiseSessionEpoch(tx, id, at);
        return { value: user, change: { action: "user.delete", target: { id, username: user.username }, details: { role: user.role } } };
      });
    },

    async changeOwnPassword(userId, body) {
      const { currentPassword, newPassword } = parseOrThrow(changePasswordSchema, body);
      const row = await rowById(db, userId).catch(() => null);
      if (!row || Number(row.disabled) === 1) throw new UnauthorizedError("Your account no longer exists or is disabled.");
      // Before the 0.4 s check of the current password: a weak new one is refused either way.
      await assertStrongPassword(newPassword, "newPassword", [String(row.username)]);
      const storedHash = String(row.password_hash);
      if (!(await passwords.verify(currentPassword, storedHash))) {
        throw new ValidationError("currentPassword: is not your current password", "currentPassword");
      }
      if (currentPassword === newPassword) {
        throw new ValidationError("newPassword: must differ from the current password", "newPassword");
      }
      const passwordHash = await passwords.hash(newPassword);
      const username = String(row.username);
      return mutate(username, async (tx, at) => {
        const rs = await tx.execute({
          sql: `UPDATE lifeboat_users SET password_hash = ?, updated_at = ?
                WHERE id = ? AND password_hash = ? AND disabled = 0 RETURNING ${USER_COLUMNS}`,
          args: [passwordHash, at, userId, storedHash],
        });
        const updated = rs.rows[0];
        if (!updated) {
          throw new ConflictError("Your password or account was changed meanwhile; sign in again and retry.");
        }
        const epoch = await tx.execute({ sql: `SELECT ${SESSION_EPOCH_COLUMN} FROM lifeboat_users WHERE id = ?`, args: [userId] });
        return {
          value: toActive(updated, Number(epoch.rows[0]!.session_epoch)),
          change: { action: "user.password", target: { id: userId, username }, details: { changed: ["password"], self: true } },
        };
      });
    },

    async authenticate(username, password) {
      const rs = await db.execute({
        sql: `SELECT ${USER_COLUMNS}, ${SESSION_EPOCH_COLUMN} FROM lifeboat_users WHERE username = ?`,
        args: [username],
      });
      const row = rs.rows[0];
      if (!row) {
        // Same cost as a real check, so timing does not tell which usernames exist.
        await passwords.burn(password);
        return null;
      }
      const ok = await passwords.verify(password, String(row.password_hash));
      if (!ok || Number(row.disabled) === 1) return null;
      return toActive(row);
    },

    async findActiveUser(id) {
      const rs = await db.execute({ sql: `SELECT ${USER_COLUMNS}, ${SESSION_EPOCH_COLUMN} FROM lifeboat_users WHERE id = ?`, args: [id] });
      const row = rs.rows[0];
      if (!row || Number(row.disabled) === 1) return null;
      return toActive(row);
    },

    isTokenRevoked: (jti) => isTokenRevoked(db, jti),

    async signOut(token) {
      await writeGate.run(async () => {
        const tx = await db.transaction("write");
        try {
          await revokeToken(tx, token, clock.now());
          await tx.commit();
        } catch (err) {
          if (!tx.closed) await tx.rollback();
          throw err;
        } finally {
          tx.close();
        }
      });
    },

    async endSessions(actor, id) {
      return await mutate(actor, async (tx, at) => {
        const user = toUser(await rowById(tx, id));
        const epoch = await raiseSessionEpoch(tx, id, at);
        return { value: user, change: { action: "user.sessions", target: { id, username: user.username }, details: { epoch } } };
      });
    },

    async ensureFirstAdmin(admin, logger) {
      const count = await db.execute("SELECT count(*) AS n FROM lifeboat_users");
      if (Number(count.rows[0]!.n) > 0) {
        if (admin.password !== undefined) {
          logger.info("ADMIN_PASSWORD ignored: users already exist; change passwords under /admin/users or /account");
        }
        return null;
      }
      const username = admin.username ?? "admin";
      const issues: { variable: string; message: string }[] = [];
      const nameCheck = usernameSchema.safeParse(username);
      if (!nameCheck.success) issues.push({ variable: "ADMIN_USERNAME", message: nameCheck.error.issues[0]!.message });
      const generated = admin.password === undefined;
      const password = admin.password ?? generatePassword();
      const passwordCheck = passwordSchema.safeParse(password);
      if (!passwordCheck.success) issues.push({ variable: "ADMIN_PASSWORD", message: passwordCheck.error.issues[0]!.message });
      else if (!generated) {
        const weak = await weakPasswordReason(password, [username]);
        if (weak) issues.push({ variable: "ADMIN_PASSWORD", message: weak });
      }
      if (issues.length) throw new ConfigError(issues);
      const passwordHash = await passwords.hash(password);
      const user = await mutate(SYSTEM_ACTOR, async (tx, at) => {
        // Re-check inside the write transaction: another instance may have won the race.
        const again = await tx.execute("SELECT count(*) AS n FROM lifeboat_users");
        if (Number(again.rows[0]!.n) > 0) return { value: null, change: null };
        const created = await insertUser(tx, at, username, passwordHash, "admin");
        return {
          value: created,
          change: { action: "user.create", target: { id: created.id, username }, details: { role: "admin", firstAdmin: true } },
        };
      });
      if (!user) return null;
      if (generated) {
        // Printed once, only now: the field name avoids the logger's secret redaction on purpose.
        logger.warn(
          "first admin created: sign in at /login with this username and the one-time initialLogin value as password, then change it under My account",
          { username, initialLogin: password },
        );
      } else {
        logger.info("first admin created from ADMIN_USERNAME and ADMIN_PASSWORD", { username });
      }
      return user;
    },

    async listAudit(options = {}) {
      const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
      const rs = await db.execute({
        sql: `SELECT id, at, actor, action, target_id, target_username, details
              FROM lifeboat_audit ORDER BY id DESC LIMIT ?`,
        args: [limit],
      });
      return rs.rows.map((r) => ({
        id: Number(r.id),
        at: String(r.at),
        actor: String(r.actor),
        action: String(r.action) as UserChangeAction,
        target: { id: Number(r.target_id), username: String(r.target_username) },
        details: r.details === null ? null : (JSON.parse(String(r.details)) as Record<string, unknown>),
      }));
    },
  };
}
