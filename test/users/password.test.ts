import { describe, expect, it } from "vitest";
import { CURRENT_SCRYPT, generatePassword, hashPassword, verifyPassword } from "../../src/users/password.ts";

describe("password hashing", () => {
  it("stores a salted scrypt hash that names its parameters, never the password", async () => {
    const password = "correct horse battery staple";
    const a = await hashPassword(password);
    const b = await hashPassword(password);
    expect(a).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(CURRENT_SCRYPT).toEqual({ ln: 17, r: 8, p: 1 });
    expect(a).not.toBe(b); // fresh salt each time
    expect(a).not.toContain(password);
    expect(await verifyPassword(password, a)).toBe(true);
    expect(await verifyPassword(password, b)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", a)).toBe(false);
    expect(await verifyPassword(password.toUpperCase(), a)).toBe(false);
  });

  it("still verifies hashes made with other parameters, so the cost can be raised later", async () => {
    const older = await hashPassword("an older password", { ln: 14, r: 8, p: 1 });
    expect(older.startsWith("$scrypt$ln=14,r=8,p=1$")).toBe(true);
    expect(await verifyPassword("an older password", older)).toBe(true);
    expect(await verifyPassword("another password", older)).toBe(false);
  });

  it("never matches an unreadable stored value", async () => {
    for (const stored of ["", "plain text", "$scrypt$ln=99,r=8,p=1$AAAA$AAAA", "$pbkdf2$x$y$z"]) {
      expect(await verifyPassword("plain text", stored)).toBe(false);
    }
  });

  it("generates strong random passwords", () => {
    const seen = new Set(Array.from({ length: 50 }, generatePassword));
    expect(seen.size).toBe(50);
    for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
