import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from "../../src/errors.ts";
import type { UserChangeEvent } from "../../src/users/events.ts";
import { ADMIN, bootWithAdmin } from "../support/auth.ts";
import type { TestLifeboat } from "../support/app.ts";

const PW = "a long enough password";

/** Records events and counts audit rows so each test can check "exactly one" or "none". */
async function watch(lb: TestLifeboat) {
  const events: UserChangeEvent[] = [];
  lb.events.on((e) => events.push(e));
  const auditCount = async () => Number((await lb.db.execute("SELECT count(*) AS n FROM lifeboat_audit")).rows[0]!.n);
  const start = await auditCount();
  return { events, newAuditRows: async () => (await auditCount()) - start };
}

async function userRow(lb: TestLifeboat, username: string) {
  const rs = await lb.db.execute({ sql: "SELECT * FROM lifeboat_users WHERE username = ?", args: [username] });
  return rs.rows[0];
}

describe("user service: changes, events and the audit trail", () => {
  it("creates a user: one event and one audit row naming actor, action and target", async () => {
    const lb = await bootWithAdmin();
    const w = await watch(lb);
    const user = await lb.users.createUser("admin", { username: "Ann", password: PW, role: "user" });
    expect(user).toMatchObject({ username: "Ann", role: "user", disabled: false });
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ action: "user.create", actor: "admin", target: { id: user.id, username: "Ann" } });
    expect(await w.newAuditRows()).toBe(1);
    const [entry] = await lb.users.listAudit({ limit: 1 });
    expect(entry).toMatchObject({ actor: "admin", action: "user.create", target: { id: user.id, username: "Ann" } });
    expect(entry!.at).toBe(w.events[0]!.at);
    // the password is stored hashed only
    const row = await userRow(lb, "Ann");
    expect(String(row!.password_hash)).toMatch(/^\$scrypt\$/);
    expect(Object.values(row!).map(String).join("|")).not.toContain(PW);
    expect(JSON.stringify(await lb.users.listAudit())).not.toContain(PW);
  });

  it("refuses a second user whose name differs only in case, and records nothing", async () => {
    const lb = await bootWithAdmin();
    await lb.users.createUser("admin", { username: "ann", password: PW, role: "user" });
    const w = await watch(lb);
    await expect(lb.users.createUser("admin", { username: "ANN", password: PW, role: "admin" })).rejects.toThrow(ConflictError);
    await expect(lb.users.createUser("admin", { username: "Admin", password: PW, role: "admin" })).rejects.toThrow(
      /already exists/,
    );
    expect(w.events).toEqual([]);
    expect(await w.newAuditRows()).toBe(0);
    expect((await lb.users.listUsers()).map((u) => u.username)).toEqual(["admin", "ann"]);
  });

  it("rejects bad input naming the field, and records nothing", async () => {
    const lb = await bootWithAdmin();
    const w = await watch(lb);
    const cases: [unknown, RegExp][] = [
      [{ username: "ab", password: PW }, /^username: must be 3–64 characters/],
      [{ username: "with space", password: PW }, /^username:/],
      [{ username: "ok-name", password: "short" }, /^password: must be at least 12 characters/],
      [{ username: "ok-name", password: "x".repeat(257) }, /^password: must be at most 256/],
      [{ username: "ok-name", password: PW, role: "root" }, /^role: must be "admin" or "user"/],
      [{ password: PW }, /^username: is required/],
    ];
    for (const [input, message] of cases) {
      const err = await lb.users.createUser("admin", input as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toMatch(message);
    }
    expect(w.events).toEqual([]);
    expect(await w.newAuditRows()).toBe(0);
    expect(await lb.users.listUsers()).toHaveLength(1);
  });

  it("names each kind of change in its event, once per change; a change to the same value records nothing", async () => {
    const lb = await bootWithAdmin();
    const id = (await lb.users.createUser("admin", { username: "bob", password: PW, role: "user" })).id;
    const w = await watch(lb);
    await lb.users.updateUser("admin", id, { role: "admin" });
    await lb.users.updateUser("admin", id, { password: "another long password" });
    await lb.users.updateUser("admin", id, { disabled: true });
    await lb.users.updateUser("admin", id, { disabled: false });
    await lb.users.updateUser("admin", id, { role: "user", disabled: true });
    await lb.users.updateUser("admin", id, { role: "user", disabled: true }); // no change
    await lb.users.deleteUser("admin", id);
    expect(w.events.map((e) => e.action)).toEqual([
      "user.role",
      "user.password",
      "user.disable",
      "user.enable",
      "user.update",
      "user.delete",
    ]);
    expect(w.events.every((e) => e.actor === "admin" && e.target.id === id && e.target.username === "bob")).toBe(true);
    expect(await w.newAuditRows()).toBe(6);
    const audit = await lb.users.listAudit({ limit: 6 });
    expect(audit.map((a) => a.action)).toEqual([...w.events.map((e) => e.action)].reverse());
    expect(audit.find((a) => a.action === "user.role")!.details).toMatchObject({ role: { from: "user", to: "admin" } });
    await expect(lb.users.getUser(id)).rejects.toThrow(NotFoundError);
  });

  it("keeps the last enabled admin: no delete, disable or demote, and nothing recorded", async () => {
    const lb = await bootWithAdmin();
    const adminId = (await lb.users.listUsers())[0]!.id;
    const w = await watch(lb);
    await expect(lb.users.deleteUser("admin", adminId)).rejects.toThrow(/admin is the last enabled admin and cannot be deleted/);
    await expect(lb.users.updateUser("admin", adminId, { disabled: true })).rejects.toThrow(/cannot be disabled/);
    await expect(lb.users.updateUser("admin", adminId, { role: "user" })).rejects.toThrow(/cannot be demoted/);
    // a combined change is refused as a whole: the password stays too
    await expect(lb.users.updateUser("admin", adminId, { role: "user", password: "brand new password" })).rejects.toThrow(
      ConflictError,
    );
    expect(w.events).toEqual([]);
    expect(await w.newAuditRows()).toBe(0);
    expect(await lb.users.getUser(adminId)).toMatchObject({ role: "admin", disabled: false });
    expect(await lb.users.authenticate(ADMIN.username, ADMIN.password)).not.toBeNull();
  });

  it("counts only enabled admins as another admin", async () => {
    const lb = await bootWithAdmin();
    const adminId = (await lb.users.listUsers())[0]!.id;
    const second = (await lb.users.createUser("admin", { username: "second", password: PW, role: "admin" })).id;
    await lb.users.updateUser("admin", second, { disabled: true });
    await expect(lb.users.deleteUser("admin", adminId)).rejects.toThrow(ConflictError);
    await lb.users.updateUser("admin", second, { disabled: false });
    await lb.users.deleteUser("second", adminId);
    expect((await lb.users.listUsers()).map((u) => u.username)).toEqual(["second"]);
    // and now "second" is the last one
    await expect(lb.users.updateUser("second", second, { role: "user" })).rejects.toThrow(ConflictError);
  });

  it("emits nothing when the transaction rolls back (here: the audit row cannot be written)", async () => {
    const lb = await bootWithAdmin();
    const events: UserChangeEvent[] = [];
    lb.events.on((e) => events.push(e));
    await lb.db.execute("ALTER TABLE lifeboat_audit RENAME TO lifeboat_audit_away");
    await expect(lb.users.createUser("admin", { username: "ghost", password: PW, role: "user" })).rejects.toThrow();
    expect(events).toEqual([]);
    expect(await userRow(lb, "ghost")).toBeUndefined();
  });

  it("errors in change listeners are logged, never undo or fail the change", async () => {
    const lb = await bootWithAdmin();
    lb.events.on(() => {
      throw new Error("listener broke");
    });
    const user = await lb.users.createUser("admin", { username: "carol", password: PW, role: "user" });
    expect(await lb.users.getUser(user.id)).toMatchObject({ username: "carol" });
    expect(lb.logs.some((l) => l.msg === "a user change listener failed")).toBe(true);
  });

  it("404s for users that do not exist, recording nothing", async () => {
    const lb = await bootWithAdmin();
    const w = await watch(lb);
    await expect(lb.users.updateUser("admin", 999, { role: "user" })).rejects.toThrow(NotFoundError);
    await expect(lb.users.deleteUser("admin", 999)).rejects.toThrow(/No user with id 999/);
    expect(w.events).toEqual([]);
    expect(await w.newAuditRows()).toBe(0);
  });
});

describe("user service: passwords and sign-in", () => {
  it("authenticates by name in any case; wrong password, unknown name and disabled account all fail alike", async () => {
    const lb = await bootWithAdmin();
    const id = (await lb.users.createUser("admin", { username: "dave", password: PW, role: "user" })).id;
    expect((await lb.users.authenticate("DAVE", PW))?.user.username).toBe("dave");
    expect(await lb.users.authenticate("dave", PW + "x")).toBeNull();
    expect(await lb.users.authenticate("nobody", PW)).toBeNull();
    await lb.users.updateUser("admin", id, { disabled: true });
    expect(await lb.users.authenticate("dave", PW)).toBeNull();
  });

  it("lets a user change their own password with the current one; the old one stops working", async () => {
    const lb = await bootWithAdmin();
    const id = (await lb.users.createUser("admin", { username: "erin", password: PW, role: "user" })).id;
    const before = await lb.users.authenticate("erin", PW);
    const w = await watch(lb);
    const wrong = await lb.users
      .changeOwnPassword(id, { currentPassword: "not my password", newPassword: "my new long password" })
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ValidationError);
    expect((wrong as ValidationError).field).toBe("currentPassword");
    expect(w.events).toEqual([]);

    const after = await lb.users.changeOwnPassword(id, { currentPassword: PW, newPassword: "my new long password" });
    expect(after.credentialVersion).not.toBe(before!.credentialVersion);
    expect(w.events).toEqual([expect.objectContaining({ action: "user.password", actor: "erin", target: { id, username: "erin" } })]);
    expect(await w.newAuditRows()).toBe(1);
    expect(await lb.users.authenticate("erin", PW)).toBeNull();
    expect(await lb.users.authenticate("erin", "my new long password")).not.toBeNull();
  });

  it("refuses a password change for a disabled account", async () => {
    const lb = await bootWithAdmin();
    const id = (await lb.users.createUser("admin", { username: "fred", password: PW, role: "user" })).id;
    await lb.users.updateUser("admin", id, { disabled: true });
    await expect(lb.users.changeOwnPassword(id, { currentPassword: PW, newPassword: "my new long password" })).rejects.toThrow(
      UnauthorizedError,
    );
  });
});

describe("first admin", () => {
  it("is created from ADMIN_USERNAME and ADMIN_PASSWORD, without logging the password", async () => {
    const lb = await bootWithAdmin();
    expect(await lb.users.listUsers()).toEqual([expect.objectContaining({ username: "admin", role: "admin", disabled: false })]);
    expect(await lb.users.authenticate(ADMIN.username, ADMIN.password)).not.toBeNull();
    expect(lb.logs.find((l) => String(l.msg).startsWith("first admin created"))).toMatchObject({ level: "info", username: "admin" });
    expect(JSON.stringify(lb.logs)).not.toContain(ADMIN.password);
    expect(await lb.users.listAudit()).toEqual([
      expect.objectContaining({ actor: "system", action: "user.create", target: expect.objectContaining({ username: "admin" }) }),
    ]);
  });

  it("gets a generated password printed once in one clear log line, which then signs in", async () => {
    const { bootTestLifeboat } = await import("../support/app.ts");
    const lb = await bootTestLifeboat();
    const lines = lb.logs.filter((l) => String(l.msg).startsWith("first admin created"));
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({ level: "warn", username: "admin" });
    expect(String(line.msg)).toMatch(/sign in at \/login/);
    const initial = String(line.initialLogin);
    expect(initial).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await lb.users.authenticate("admin", initial)).not.toBeNull();
    await lb.close();

    // A restart on the same data finds the admin and prints nothing again.
    const again = await bootTestLifeboat({}, { dataDir: lb.dataDir });
    expect(again.logs.some((l) => String(l.msg).startsWith("first admin created"))).toBe(false);
    expect(JSON.stringify(again.logs)).not.toContain(initial);
    expect(await again.users.listUsers()).toHaveLength(1);
  });

  it("uses ADMIN_USERNAME with a generated password when only the name is set", async () => {
    const { bootTestLifeboat } = await import("../support/app.ts");
    const lb = await bootTestLifeboat({ ADMIN_USERNAME: "Captain" });
    const line = lb.logs.find((l) => String(l.msg).startsWith("first admin created"))!;
    expect(line.username).toBe("Captain");
    expect(await lb.users.authenticate("captain", String(line.initialLogin))).not.toBeNull();
  });

  it("refuses to start with an unusable ADMIN_USERNAME, naming it", async () => {
    const { bootTestLifeboat } = await import("../support/app.ts");
    await expect(bootTestLifeboat({ ADMIN_USERNAME: "no spaces allowed" })).rejects.toThrow(/ADMIN_USERNAME: must be 3–64/);
  });
});
