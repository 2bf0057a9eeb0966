import { describe, expect, it } from "vitest";
import { bootLifeboat } from "../../src/lifeboat.ts";
import { createPasswordHasher, CURRENT_SCRYPT, generatePassword } from "../../src/users/password.ts";
import { ADMIN, TEST_JWT_SECRET } from "../support/auth.ts";
import { TEST_PASSWORD_COST } from "../support/password-cost.ts";
import { tempDir } from "../support/temp.ts";

const passwords = createPasswordHasher(TEST_PASSWORD_COST);
const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;

describe("password hashing", () => {
  it("hashes new passwords at OWASP's cost (N=2^17, r=8, p=1) unless the app is told otherwise, and they verify", async () => {
    // The one place the suite pays the production cost: everything else boots with TEST_PASSWORD_COST.
    expect(CURRENT_SCRYPT).toEqual({ ln: 17, r: 8, p: 1 });
    const dataDir = await tempDir();
    const lb = await bootLifeboat({
      env: { DATA_DIR: dataDir, LOG_LEVEL: "silent", ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, JWT_SECRET: TEST_JWT_SECRET },
      timers: { setTimeout: () => null, clearTimeout: () => {} },
    });
    try {
      const rs = await lb.db.execute({ sql: "SELECT password_hash FROM lifeboat_users WHERE username = ?", args: [ADMIN.username] });
      const stored = String(rs.rows[0]!.password_hash);
      expect(stored).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
      expect(await lb.users.authenticate(ADMIN.username, ADMIN.password)).toMatchObject({ user: { username: ADMIN.username } });
      expect(await lb.users.authenticate(ADMIN.username, ADMIN.password + "!")).toBeNull();
    } finally {
      await lb.close();
    }
  });

  it("stores a salted scrypt hash that names its parameters, never the password", async () => {
    const password = "correct horse battery staple";
    const a = await passwords.hash(password);
    const b = await passwords.hash(password);
    expect(a).toMatch(PHC);
    expect(a.startsWith("$scrypt$ln=10,r=8,p=1$")).toBe(true);
    expect(a).not.toBe(b); // fresh salt each time
    expect(a).not.toContain(password);
    expect(await passwords.verify(password, a)).toBe(true);
    expect(await passwords.verify(password, b)).toBe(true);
    expect(await passwords.verify("correct horse battery stapl", a)).toBe(false);
    expect(await passwords.verify(password.toUpperCase(), a)).toBe(false);
  });

  it("only accepts hashes at its own cost: one naming another cost never matches, even with the right password", async () => {
    // A stored hash must not choose what a sign-in costs (ln=18,p=8 made every attempt take ~23 s).
    const other = await createPasswordHasher({ ln: 11, r: 8, p: 2 }).hash("an older password");
    expect(other.startsWith("$scrypt$ln=11,r=8,p=2$")).toBe(true);
    expect(await passwords.verify("an older password", other)).toBe(false);
    const own = await passwords.hash("an older password");
    expect(await passwords.verify("an older password", own)).toBe(true);
  });

  it("never matches an unreadable stored value", async () => {
    for (const stored of ["", "plain text", "$scrypt$ln=99,r=8,p=1$AAAA$AAAA", "$scrypt$ln=9,r=8,p=1$AAAA$AAAA", "$pbkdf2$x$y$z"]) {
      expect(await passwords.verify("plain text", stored)).toBe(false);
    }
  });

  it("refuses a cost whose hashes could not be read back", () => {
    for (const params of [{ ln: 9, r: 8, p: 1 }, { ln: 23, r: 8, p: 1 }, { ln: 10, r: 0, p: 1 }, { ln: 10, r: 8, p: 100 }, { ln: 10.5, r: 8, p: 1 }]) {
      expect(() => createPasswordHasher(params)).toThrow(RangeError);
    }
    expect(createPasswordHasher().cost).toEqual(CURRENT_SCRYPT);
    expect(passwords.cost).toEqual({ ln: 10, r: 8, p: 1 });
  });

  it("generates strong random passwords", () => {
    const seen = new Set(Array.from({ length: 50 }, generatePassword));
    expect(seen.size).toBe(50);
    for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
