import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.ts";
import { tempDir } from "../support/temp.ts";
import type { TestLifeboat } from "../support/app.ts";
import { ADMIN, bearer, bootWithAdmin, createUser, formHeaders, loginCookie, loginToken, ORIGIN } from "../support/auth.ts";

const PW = "quiet lantern orbit 42";

/** What a signed-out visitor sees: the page sends the browser to sign in, the API answers 401. */
async function signedOut(lb: TestLifeboat, cookie: string): Promise<boolean> {
  const page = await lb.app.request("/account", { headers: { Cookie: cookie } });
  const api = await lb.app.request("/api/auth/me", { headers: { Cookie: cookie } });
  return page.status === 303 && page.headers.get("location") === "/login?next=%2Faccount" && api.status === 401;
}

async function tokenWorks(lb: TestLifeboat, token: string): Promise<boolean> {
  const res = await lb.app.request("/api/auth/me", { headers: bearer(token) });
  if (res.status !== 200 && res.status !== 401) throw new Error(`unexpected ${res.status}`);
  return res.status === 200;
}

async function rows(lb: TestLifeboat, sql: string): Promise<Record<string, unknown>[]> {
  return (await lb.db.execute(sql)).rows.map((r) => ({ ...r }));
}

describe("signing out ends the session on the server", () => {
  it("POST /logout: the cookie is cleared, and a copy of it (another tab, a stolen one) gets the sign-in page", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "wendy", PW);
    const cookie = await loginCookie(lb, "wendy", PW);
    const otherBrowser = await loginCookie(lb, "wendy", PW);
    expect(await signedOut(lb, cookie)).toBe(false);

    const res = await lb.app.request("/logout", { method: "POST", headers: formHeaders(cookie) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
    expect(res.headers.get("set-cookie")).toMatch(/^lifeboat_session=;.*Max-Age=0/);

    expect(await signedOut(lb, cookie)).toBe(true);
    // Only that session ended: the same user's other browser stays signed in.
    expect(await signedOut(lb, otherBrowser)).toBe(false);
    // The record holds a hash of the token's id, never the token or the id itself.
    const [row] = await rows(lb, "SELECT * FROM lifeboat_revoked_tokens");
    expect(row).toMatchObject({ user_id: 2n, token_hash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(cookie).not.toContain(String(row!.token_hash));
  });

  it("htmx sign-out answers HX-Redirect to /login and ends the session too", async () => {
    const lb = await bootWithAdmin();
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const res = await lb.app.request("/logout", { method: "POST", headers: formHeaders(cookie, { "HX-Request": "true" }) });
    expect(res.status).toBe(204);
    expect(res.headers.get("hx-redirect")).toBe("/login");
    expect(await signedOut(lb, cookie)).toBe(true);
  });

  it("a cross-site sign-out form is refused (403) and the session goes on", async () => {
    const lb = await bootWithAdmin();
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const res = await lb.app.request("/logout", { method: "POST", headers: { ...formHeaders(cookie), Origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    expect(await signedOut(lb, cookie)).toBe(false);
    expect(await rows(lb, "SELECT * FROM lifeboat_revoked_tokens")).toEqual([]);
  });

  it("POST /api/auth/logout ends the Bearer token a script sent (401 afterwards), not the user's other tokens", async () => {
    const lb = await bootWithAdmin();
    const token = await loginToken(lb, ADMIN.username, ADMIN.password);
    const other = await loginToken(lb, ADMIN.username, ADMIN.password);
    const res = await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(token) });
    expect(res.status).toBe(204);
    const after = await lb.app.request("/api/backups", { headers: bearer(token) });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toBe("This token was signed out; log in again.");
    expect(await tokenWorks(lb, other)).toBe(true);
    // Signing out twice is the same 401 as any other dead token.
    expect((await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(token) })).status).toBe(401);
  });

  it("instances sharing the database all refuse a session signed out on one of them", async () => {
    const dataDir = await tempDir();
    const a = await bootWithAdmin({}, { dataDir });
    const b = await bootWithAdmin({}, { dataDir });
    const cookie = await loginCookie(a, ADMIN.username, ADMIN.password);
    const token = await loginToken(b, ADMIN.username, ADMIN.password);
    expect(await signedOut(b, cookie)).toBe(false);
    await a.app.request("/logout", { method: "POST", headers: formHeaders(cookie) });
    expect((await a.app.request("/api/auth/logout", { method: "POST", headers: bearer(token) })).status).toBe(204);
    expect(await signedOut(b, cookie)).toBe(true);
    expect(await tokenWorks(b, token)).toBe(false);
  });

  it("records of signed-out tokens are dropped once those tokens have expired", async () => {
    let now = new Date("2026-03-01T10:00:00.000Z");
    const clock: Clock = { now: () => now };
    const lb = await bootWithAdmin({ JWT_TTL_SECONDS: "3600" }, { clock });
    const first = await loginToken(lb, ADMIN.username, ADMIN.password);
    await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(first) });
    expect(await rows(lb, "SELECT expires_at FROM lifeboat_revoked_tokens")).toEqual([{ expires_at: "2026-03-01T11:05:00.000Z" }]);
    now = new Date("2026-03-01T11:04:00.000Z"); // expired, but within the kept margin: still refused
    const second = await loginToken(lb, ADMIN.username, ADMIN.password);
    await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(second) });
    expect(await rows(lb, "SELECT count(*) AS n FROM lifeboat_revoked_tokens")).toEqual([{ n: 2n }]);
    now = new Date("2026-03-01T12:30:00.000Z");
    const third = await loginToken(lb, ADMIN.username, ADMIN.password);
    await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(third) });
    expect(await rows(lb, "SELECT expires_at FROM lifeboat_revoked_tokens")).toEqual([{ expires_at: "2026-03-01T13:35:00.000Z" }]);
  });
});

describe("an admin signs a user out everywhere", () => {
  it("API: every session and token of that user stops working, others' do not; audited; they can sign in again", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "wendy", PW);
    const admin = await loginToken(lb, ADMIN.username, ADMIN.password);
    const cookie = await loginCookie(lb, "wendy", PW);
    const token = await loginToken(lb, "wendy", PW);
    const before = await lb.users.listAudit();

    const res = await lb.app.request(`/api/users/${id}/revoke-sessions`, { method: "POST", headers: bearer(admin) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, username: "wendy", disabled: false });

    expect(await signedOut(lb, cookie)).toBe(true);
    expect(await tokenWorks(lb, token)).toBe(false);
    expect(await tokenWorks(lb, admin)).toBe(true);
    const audit = await lb.users.listAudit();
    expect(audit).toHaveLength(before.length + 1);
    expect(audit[0]).toMatchObject({ actor: "admin", action: "user.sessions", target: { id, username: "wendy" } });
    expect(await tokenWorks(lb, await loginToken(lb, "wendy", PW))).toBe(true);
  });

  it("API: a user-role token gets 403, no token 401, an unknown id 404, a bad id 400; nothing is recorded", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "wendy", PW);
    const wendy = await loginToken(lb, "wendy", PW);
    const admin = await loginToken(lb, ADMIN.username, ADMIN.password);
    const post = (path: string, headers: Record<string, string> = {}) => lb.app.request(path, { method: "POST", headers });
    expect((await post(`/api/users/1/revoke-sessions`, bearer(wendy))).status).toBe(403);
    expect((await post(`/api/users/${id}/revoke-sessions`)).status).toBe(401);
    expect((await post(`/api/users/999/revoke-sessions`, bearer(admin))).status).toBe(404);
    expect((await post(`/api/users/abc/revoke-sessions`, bearer(admin))).status).toBe(400);
    expect((await lb.users.listAudit()).filter((e) => e.action === "user.sessions")).toEqual([]);
    expect(await tokenWorks(lb, admin)).toBe(true);
    expect(await tokenWorks(lb, wendy)).toBe(true);
  });

  it("page: the button answers the row, the status and the audit entry; a cross-site post is refused", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "wendy", PW);
    const wendy = await loginCookie(lb, "wendy", PW);
    const admin = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const page = await (await lb.app.request("/admin/users", { headers: { Cookie: admin } })).text();
    expect(page).toContain(`hx-post="/admin/users/${id}/revoke-sessions"`);
    expect(page).toContain('hx-confirm="Sign wendy out everywhere? Their browser sessions and API tokens stop working at once; they can sign in again."');
    expect(page).toContain('aria-label="Sign out everywhere: wendy"');

    const forged = await lb.app.request(`/admin/users/${id}/revoke-sessions`, {
      method: "POST",
      headers: { ...formHeaders(admin, { "HX-Request": "true" }), Origin: "https://evil.example" },
    });
    expect(forged.status).toBe(403);
    expect(await signedOut(lb, wendy)).toBe(false);

    const res = await lb.app.request(`/admin/users/${id}/revoke-sessions`, { method: "POST", headers: formHeaders(admin, { "HX-Request": "true" }) });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith(`<tr id="user-${id}">`)).toBe(true);
    expect(html).toContain("Signed wendy out everywhere: their sessions and API tokens no longer work.");
    expect(html).toContain("ended all sessions of wendy");
    expect(await signedOut(lb, wendy)).toBe(true);
    expect(await signedOut(lb, admin)).toBe(false);
  });

  it("page: an admin who signs themselves out everywhere keeps this browser; the copy of the old cookie ends", async () => {
    const lb = await bootWithAdmin();
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const token = await loginToken(lb, ADMIN.username, ADMIN.password);
    const res = await lb.app.request("/admin/users/1/revoke-sessions", { method: "POST", headers: formHeaders(cookie, { "HX-Request": "true", Origin: ORIGIN }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("You were signed out everywhere else");
    const fresh = res.headers.get("set-cookie")!.split(";")[0]!;
    expect(await signedOut(lb, fresh)).toBe(false);
    expect(await signedOut(lb, cookie)).toBe(true);
    expect(await tokenWorks(lb, token)).toBe(false);
  });

  it("disabling a user ends their sessions for good: enabling them again does not bring those back", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "wendy", PW);
    const token = await loginToken(lb, "wendy", PW);
    await lb.users.updateUser(ADMIN.username, id, { disabled: true });
    await lb.users.updateUser(ADMIN.username, id, { disabled: false });
    expect(await tokenWorks(lb, token)).toBe(false);
    expect(await tokenWorks(lb, await loginToken(lb, "wendy", PW))).toBe(true);
  });
});

describe("a restore and ended sessions", () => {
  it("restoring a backup taken before sign-outs does not revive them, nor take the backup's own records", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "wendy", PW);
    const admin = await loginToken(lb, ADMIN.username, ADMIN.password);
    const signedOutLater = await loginToken(lb, ADMIN.username, ADMIN.password);
    const wendy = await loginToken(lb, "wendy", PW);
    // The backup carries a record of its own: this token was signed out before it was taken.
    const early = await loginToken(lb, ADMIN.username, ADMIN.password);
    await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(early) });
    const [earlyRecord] = await rows(lb, "SELECT * FROM lifeboat_revoked_tokens");
    const backup = await lb.app.request("/api/backups", { method: "POST", headers: bearer(admin) });
    expect(backup.status).toBe(201);
    const { name } = (await backup.json()) as { name: string };
    // After the backup: one token signed out, wendy signed out everywhere, and the early record gone
    // (as an expired one would be).
    await lb.app.request("/api/auth/logout", { method: "POST", headers: bearer(signedOutLater) });
    await lb.app.request(`/api/users/${id}/revoke-sessions`, { method: "POST", headers: bearer(admin) });
    await lb.db.execute({ sql: "DELETE FROM lifeboat_revoked_tokens WHERE token_hash = ?", args: [String(earlyRecord!.token_hash)] });
    const live = await rows(lb, "SELECT * FROM lifeboat_revoked_tokens ORDER BY token_hash");
    const epochs = await rows(lb, "SELECT * FROM lifeboat_session_epochs");

    const restored = await lb.app.request(`/api/backups/${name}/import`, { method: "POST", headers: bearer(admin) });
    expect(restored.status).toBe(200);

    expect(await tokenWorks(lb, admin)).toBe(true);
    expect(await tokenWorks(lb, signedOutLater)).toBe(false);
    expect(await tokenWorks(lb, wendy)).toBe(false);
    // The records are the ones from before the restore, not the backup's.
    expect(await rows(lb, "SELECT * FROM lifeboat_revoked_tokens ORDER BY token_hash")).toEqual(live);
    expect(await rows(lb, "SELECT * FROM lifeboat_session_epochs")).toEqual(epochs);
    expect(live).not.toContainEqual(earlyRecord);
  });
});

