import { describe, expect, it } from "vitest";
import { weakPasswordReason } from "../../src/users/password-strength.ts";
import { bootTestLifeboat } from "../support/app.ts";
import { ADMIN, bearer, bootWithAdmin, createUser, formHeaders, loginCookie, loginToken } from "../support/auth.ts";

const GOOD = "quiet lantern orbit 42";

/** Well-known passwords, long enough for the length rule, that a demanding admin expects refused. */
const COMMON = [
  "password1234",
  "Password123!",
  "P@ssw0rd2024",
  "qwertyuiop123",
  "iloveyou2024",
  "letmein12345",
  "1234567890ab",
  "monkey123456",
  "aaaaaaaaaaaa",
  "abcdefghijkl",
  "admin1234567",
  "lifeboat2024!",
];

describe("the password rule (zxcvbn score of at least 3)", () => {
  it("refuses well-known passwords and patterns, saying why", async () => {
    for (const pw of COMMON) {
      const reason = await weakPasswordReason(pw);
      expect({ pw, reason }).toEqual({ pw, reason: expect.stringMatching(/^is too easy to guess: .+/) });
    }
    expect(await weakPasswordReason("password1234")).toMatch(/commonly used password/);
    expect(await weakPasswordReason("aaaaaaaaaaaa")).toMatch(/repeats one character/);
  });

  it("refuses a password built from the account's own name", async () => {
    expect(await weakPasswordReason("quartermaster1", ["quartermaster"])).toMatch(/built from the username/);
  });

  it("accepts passphrases and random passwords, including every one the tests sign in with", async () => {
    for (const pw of [GOOD, ADMIN.password, "a long enough password", "Tr0ub4dor&3xq", "kq7#Vd9!mZ2@wL"]) {
      expect({ pw, reason: await weakPasswordReason(pw) }).toEqual({ pw, reason: null });
    }
  });
});

describe("every place a password is set", () => {
  async function asAdmin() {
    const lb = await bootWithAdmin();
    const token = await loginToken(lb, ADMIN.username, ADMIN.password);
    const auditRows = async () => Number((await lb.db.execute("SELECT count(*) AS n FROM lifeboat_audit")).rows[0]!.n);
    return { lb, token, auditRows };
  }

  it("API: create, reset and own change answer 400 naming the field and why; nothing changes", async () => {
    const { lb, token, auditRows } = await asAdmin();
    const id = await createUser(lb, "wendy", GOOD);
    const wendy = await loginToken(lb, "wendy", GOOD);
    const before = await auditRows();
    const cases: [string, string, string, unknown, RegExp][] = [
      [token, "POST", "/api/users", { username: "mallory", password: "password1234" }, /^password: is too easy to guess: .*commonly used password/],
      [token, "POST", "/api/users", { username: "mallory", password: "            " }, /^password: must not be only spaces$/],
      [token, "POST", "/api/users", { username: "mallory", password: " \t\u00a0\n   \u2003    " }, /^password: must not be only spaces$/],
      [token, "PATCH", `/api/users/${id}`, { password: "letmein12345" }, /^password: is too easy to guess/],
      [token, "PATCH", `/api/users/${id}`, { password: "wendywendy12" }, /^password: is too easy to guess/],
      [wendy, "POST", "/api/account/password", { currentPassword: GOOD, newPassword: "qwertyuiop123" }, /^newPassword: is too easy to guess/],
    ];
    for (const [who, method, path, body, message] of cases) {
      const res = await lb.app.request(path, { method, headers: bearer(who), body: JSON.stringify(body) });
      expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("invalid_input");
      expect(error.message).toMatch(message);
    }
    expect(await auditRows()).toBe(before);
    expect((await lb.users.listUsers()).map((u) => u.username)).toEqual(["admin", "wendy"]);
    expect(await lb.users.authenticate("wendy", GOOD)).not.toBeNull();
  });

  it("pages: the add-user form and the account form show the reason next to the form", async () => {
    const { lb, auditRows } = await asAdmin();
    const admin = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const before = await auditRows();
    const add = await lb.app.request("/admin/users", {
      method: "POST",
      headers: formHeaders(admin, { "HX-Request": "true", "HX-Error-Target": "#add-user-error" }),
      body: new URLSearchParams({ username: "mallory", password: "Password123!", role: "user" }).toString(),
    });
    expect(add.status).toBe(400);
    expect(add.headers.get("hx-retarget")).toBe("#add-user-error");
    expect(await add.text()).toMatch(/password: is too easy to guess: it is too similar to a commonly used password/);

    const own = await lb.app.request("/account", {
      method: "POST",
      headers: formHeaders(admin, { "HX-Request": "true", "HX-Error-Target": "#password-error" }),
      body: new URLSearchParams({ currentPassword: ADMIN.password, newPassword: "iloveyou2024", confirmPassword: "iloveyou2024" }).toString(),
    });
    expect(own.status).toBe(400);
    const text = await own.text();
    expect(text).toContain("New password: is too easy to guess");
    expect(text).not.toContain("newPassword");
    expect(await auditRows()).toBe(before);
    expect(await lb.users.authenticate(ADMIN.username, ADMIN.password)).not.toBeNull();
  });

  it("the first admin: a weak or blank ADMIN_PASSWORD stops the start, naming the variable", async () => {
    await expect(bootTestLifeboat({ ADMIN_USERNAME: "admin", ADMIN_PASSWORD: "password1234" })).rejects.toThrow(
      /ADMIN_PASSWORD: is too easy to guess: .*commonly used password/,
    );
    await expect(bootTestLifeboat({ ADMIN_USERNAME: "admin", ADMIN_PASSWORD: "              " })).rejects.toThrow(
      /ADMIN_PASSWORD: must not be only spaces/,
    );
    // Empty still means "unset": a strong password is generated and printed once.
    const lb = await bootTestLifeboat({ ADMIN_USERNAME: "admin", ADMIN_PASSWORD: "" });
    const line = lb.logs.find((l) => l.initialLogin)!;
    expect(await weakPasswordReason(String(line.initialLogin))).toBeNull();
  });
});
