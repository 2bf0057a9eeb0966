import { describe, expect, it } from "vitest";
import { ADMIN, bearer, bootWithAdmin, createUser, formHeaders, loginCookie, loginToken, ORIGIN } from "../support/auth.ts";
import type { TestLifeboat } from "../support/app.ts";

const FORM = "application/x-www-form-urlencoded";

function apiLogin(lb: TestLifeboat, body: unknown, headers: Record<string, string> = {}) {
  return lb.app.request("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function formLogin(lb: TestLifeboat, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return lb.app.request("/login", {
    method: "POST",
    headers: { "Content-Type": FORM, Origin: ORIGIN, ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

describe("POST /api/auth/login", () => {
  it("answers 200 with a token and its expiry", async () => {
    const lb = await bootWithAdmin({ JWT_TTL_SECONDS: "900" });
    const before = Date.now();
    const res = await apiLogin(lb, { username: ADMIN.username, password: ADMIN.password });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const after = Date.now();
    const body = (await res.json()) as { token: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "token"]);
    expect(body.token.split(".")).toHaveLength(3);
    // exp is whole seconds: issued between `before` and `after`, valid JWT_TTL_SECONDS from then.
    const expiresAt = Date.parse(body.expiresAt);
    expect(expiresAt).toBeGreaterThan(before + 899_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 900_000);
    expect(JSON.stringify(lb.logs)).not.toContain(body.token);
  });

  it("gives one generic 401 for a wrong password, an unknown user and a disabled account", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "dora", "dora's long password");
    await lb.users.updateUser("admin", id, { disabled: true });
    const answers = [];
    for (const body of [
      { username: ADMIN.username, password: "wrong password!" },
      { username: "nobody-here", password: ADMIN.password },
      { username: "dora", password: "dora's long password" },
    ]) {
      const res = await apiLogin(lb, body);
      expect(res.status).toBe(401);
      answers.push(((await res.json()) as { error: { code: string; message: string } }).error);
    }
    expect(answers.map((a) => a.message)).toEqual(Array(3).fill("Wrong username or password."));
    expect(new Set(answers.map((a) => a.code))).toEqual(new Set(["unauthorized"]));
  });

  it("rejects malformed bodies with 400 naming the problem", async () => {
    const lb = await bootWithAdmin();
    const cases: [Response, RegExp][] = [
      [await apiLogin(lb, "{not json"), /Malformed JSON/],
      [await apiLogin(lb, { username: "admin" }), /^password: is required/],
      [await apiLogin(lb, { username: 42, password: "x" }), /^username: must be a string/],
      [
        await lb.app.request("/api/auth/login", { method: "POST", headers: { "Content-Type": "text/plain", Origin: ORIGIN }, body: "{}" }),
        /JSON with Content-Type: application\/json/,
      ],
    ];
    for (const [res, message] of cases) {
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
  });

  it("rate-limits failed logins per client and username: the 6th answers 429 with Retry-After, even with the right password", async () => {
    const lb = await bootWithAdmin();
    for (let i = 0; i < 5; i++) expect((await apiLogin(lb, { username: "admin", password: `guess number ${i}` })).status).toBe(401);
    const res = await apiLogin(lb, { username: "ADMIN", password: ADMIN.password });
    expect(res.status).toBe(429);
    const retry = Number(res.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/Too many failed sign-in attempts/),
    });
    // the browser form shares the same limit
    const page = await formLogin(lb, { username: "admin", password: ADMIN.password });
    expect(page.status).toBe(429);
    expect(page.headers.get("retry-after")).toBeTruthy();
    expect(await page.text()).toContain("Too many failed sign-in attempts");
    // other users can still sign in
    await createUser(lb, "other", "other long password");
    expect((await apiLogin(lb, { username: "other", password: "other long password" })).status).toBe(200);
  });

  it("counts clients by their X-Forwarded-For address only with TRUST_PROXY", async () => {
    const lb = await bootWithAdmin({ TRUST_PROXY: "true" });
    for (let i = 0; i < 5; i++) {
      await apiLogin(lb, { username: "admin", password: "wrong password" }, { "X-Forwarded-For": "203.0.113.7" });
    }
    expect((await apiLogin(lb, { username: "admin", password: ADMIN.password }, { "X-Forwarded-For": "203.0.113.7" })).status).toBe(429);
    // a client claiming another address in front of the proxy's entry is still 203.0.113.7
    expect(
      (await apiLogin(lb, { username: "admin", password: ADMIN.password }, { "X-Forwarded-For": "198.51.100.1, 203.0.113.7" })).status,
    ).toBe(429);
    expect((await apiLogin(lb, { username: "admin", password: ADMIN.password }, { "X-Forwarded-For": "203.0.113.8" })).status).toBe(200);
  });
});

describe("browser session", () => {
  it("GET /login shows a labelled form that posts to /login", async () => {
    const lb = await bootWithAdmin();
    const res = await lb.app.request("/login?next=/admin/users");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<form method="post" action="/login" hx-post="/login"');
    expect(html).toContain('<label for="login-username">Username</label>');
    expect(html).toContain('<label for="login-password">Password</label>');
    expect(html).toContain('name="next" value="/admin/users"');
  });

  it("sets an HttpOnly, SameSite=Strict session cookie and sends admins to the backups", async () => {
    const lb = await bootWithAdmin({ SESSION_TTL_SECONDS: "3600" });
    const res = await formLogin(lb, { username: ADMIN.username, password: ADMIN.password });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/backups");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^lifeboat_session=[\w-]+\.[\w-]+\.[\w-]+;/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("Max-Age=3600");
    expect(cookie).not.toContain("Secure"); // plain http, COOKIE_SECURE=auto
  });

  it("marks the cookie Secure over https, or when COOKIE_SECURE=true", async () => {
    const lb = await bootWithAdmin();
    const https = await lb.app.request("https://lifeboat.example/login", {
      method: "POST",
      headers: { "Content-Type": FORM, Origin: "https://lifeboat.example" },
      body: new URLSearchParams({ username: ADMIN.username, password: ADMIN.password }).toString(),
    });
    expect(https.status).toBe(303);
    expect(https.headers.get("set-cookie")).toMatch(/; Secure/);
    const forced = await bootWithAdmin({ COOKIE_SECURE: "true" });
    const res = await formLogin(forced, { username: ADMIN.username, password: ADMIN.password });
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  it("behind a trusted proxy, X-Forwarded-Proto/Host make the cookie Secure and the public origin same-site", async () => {
    const lb = await bootWithAdmin({ TRUST_PROXY: "true" });
    const res = await lb.app.request("http://10.0.0.5:3000/login", {
      method: "POST",
      headers: {
        "Content-Type": FORM,
        Origin: "https://backup.example.org",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "backup.example.org",
      },
      body: new URLSearchParams({ username: ADMIN.username, password: ADMIN.password }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
    // without TRUST_PROXY the same headers count for nothing
    const direct = await bootWithAdmin();
    const refused = await direct.app.request("http://10.0.0.5:3000/login", {
      method: "POST",
      headers: { "Content-Type": FORM, Origin: "https://backup.example.org", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "backup.example.org" },
      body: new URLSearchParams({ username: ADMIN.username, password: ADMIN.password }).toString(),
    });
    expect(refused.status).toBe(403);
  });

  it("ignores Authorization schemes other than Bearer (a proxy's Basic login) and uses the cookie", async () => {
    const lb = await bootWithAdmin();
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const res = await lb.app.request("/admin/users", { headers: { Cookie: cookie, Authorization: "Basic cHJveHk6cGFzcw==" } });
    expect(res.status).toBe(200);
  });

  it("returns to a same-site next page, never to another site", async () => {
    const lb = await bootWithAdmin();
    const ok = await formLogin(lb, { username: ADMIN.username, password: ADMIN.password, next: "/admin/users?x=1" });
    expect(ok.headers.get("location")).toBe("/admin/users?x=1");
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]) {
      const res = await formLogin(lb, { username: ADMIN.username, password: ADMIN.password, next });
      expect(res.headers.get("location")).toBe("/admin/backups");
    }
  });

  it("htmx login: success answers HX-Redirect, failure puts the message into the form", async () => {
    const lb = await bootWithAdmin();
    const ok = await formLogin(lb, { username: ADMIN.username, password: ADMIN.password }, { "HX-Request": "true" });
    expect(ok.headers.get("hx-redirect")).toBe("/admin/backups");
    expect(ok.headers.get("set-cookie")).toContain("lifeboat_session=");
    const bad = await formLogin(
      lb,
      { username: ADMIN.username, password: "wrong password" },
      { "HX-Request": "true", "HX-Error-Target": "#login-error" },
    );
    expect(bad.status).toBe(401);
    expect(bad.headers.get("hx-retarget")).toBe("#login-error");
    expect(bad.headers.get("set-cookie")).toBeNull();
    expect(await bad.text()).toContain("Wrong username or password.");
  });

  it("without JavaScript a failed login shows the form again with the message", async () => {
    const lb = await bootWithAdmin();
    const res = await formLogin(lb, { username: ADMIN.username, password: "wrong password" });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain("Wrong username or password.");
    expect(html).toContain('value="admin"');
    expect(html).not.toContain("wrong password");
  });

  it("refuses a cross-site login form (foreign Origin) with 403 and no cookie", async () => {
    const lb = await bootWithAdmin();
    const res = await formLogin(lb, { username: ADMIN.username, password: ADMIN.password }, { Origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    const cross = await formLogin(lb, { username: ADMIN.username, password: ADMIN.password }, { Origin: "null", "Sec-Fetch-Site": "cross-site" });
    expect(cross.status).toBe(403);
  });

  it("POST /logout clears the cookie; there is no GET /logout", async () => {
    const lb = await bootWithAdmin();
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    expect((await lb.app.request("/logout", { headers: { Cookie: cookie } })).status).toBe(404);
    const res = await lb.app.request("/logout", { method: "POST", headers: formHeaders(cookie) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
    expect(res.headers.get("set-cookie")).toMatch(/^lifeboat_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict/);
    const foreign = await lb.app.request("/logout", { method: "POST", headers: { ...formHeaders(cookie), Origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("set-cookie")).toBeNull();
  });

  it("GET / sends admins to the backups, users to their account, and strangers to the sign-in page", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "uma", "uma's long password");
    const admin = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const user = await loginCookie(lb, "uma", "uma's long password");
    const go = async (headers: Record<string, string>) => (await lb.app.request("/", { headers })).headers.get("location");
    expect(await go({ Cookie: admin })).toBe("/admin/backups");
    expect(await go({ Cookie: user })).toBe("/account");
    expect(await go({})).toBe("/login");
    expect(await go({ Cookie: "lifeboat_session=garbage" })).toBe("/login");
    // and /login itself sends the signed-in along
    expect((await lb.app.request("/login", { headers: { Cookie: user } })).headers.get("location")).toBe("/account");
  });

  it("signed out: pages redirect to /login?next=…, htmx gets HX-Redirect, the API 401 JSON", async () => {
    const lb = await bootWithAdmin();
    const page = await lb.app.request("/admin/users?tab=1");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Fadmin%2Fusers%3Ftab%3D1");
    const htmx = await lb.app.request("/admin/users/1", {
      method: "DELETE",
      headers: { "HX-Request": "true", "HX-Current-URL": "http://localhost/admin/users", Origin: ORIGIN },
    });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get("hx-redirect")).toBe("/login?next=%2Fadmin%2Fusers");
    const api = await lb.app.request("/api/users");
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    // an invalid cookie is dropped
    const stale = await lb.app.request("/account", { headers: { Cookie: "lifeboat_session=abc.def.ghi" } });
    expect(stale.status).toBe(303);
    expect(stale.headers.get("set-cookie")).toMatch(/^lifeboat_session=; Max-Age=0/);
  });

  it("a session stops working once the user is disabled", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "vic", "vic's long password");
    const cookie = await loginCookie(lb, "vic", "vic's long password");
    expect((await lb.app.request("/account", { headers: { Cookie: cookie } })).status).toBe(200);
    await lb.users.updateUser("admin", id, { disabled: true });
    expect((await lb.app.request("/account", { headers: { Cookie: cookie } })).status).toBe(303);
  });
});

describe("a user's own account", () => {
  const PW = "wendy's long password";
  const NEW = "wendy's newer password";

  it("a user sees /account and nothing of the admin pages or API", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "wendy", PW);
    const cookie = await loginCookie(lb, "wendy", PW);
    const account = await lb.app.request("/account", { headers: { Cookie: cookie } });
    expect(account.status).toBe(200);
    const html = await account.text();
    expect(html).toContain("Signed in as <strong>wendy</strong>");
    expect(html).toContain('<label for="current-password">Current password</label>');
    expect(html).toContain('href="/account"'); // the user's navigation
    expect(html).not.toContain('href="/admin/users"');
    expect((await lb.app.request("/admin/users", { headers: { Cookie: cookie } })).status).toBe(403);
  });

  it("changes the password over htmx: success in #status, a fresh cookie, old sessions and tokens end", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "wendy", PW);
    const cookie = await loginCookie(lb, "wendy", PW);
    const otherBrowser = await loginCookie(lb, "wendy", PW);
    const token = await loginToken(lb, "wendy", PW);
    const events: string[] = [];
    lb.events.on((e) => events.push(`${e.action} ${e.actor} ${e.target.username}`));

    const res = await lb.app.request("/account", {
      method: "POST",
      headers: formHeaders(cookie, { "HX-Request": "true" }),
      body: new URLSearchParams({ currentPassword: PW, newPassword: NEW, confirmPassword: NEW }).toString(),
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<div id="status" hx-swap-oob="innerHTML"><div class="alert success">Your password was changed.');
    const fresh = res.headers.get("set-cookie")!.split(";")[0]!;
    expect(fresh).not.toBe(cookie);
    expect(events).toEqual(["user.password wendy wendy"]);

    expect((await lb.app.request("/account", { headers: { Cookie: fresh } })).status).toBe(200);
    expect((await lb.app.request("/account", { headers: { Cookie: otherBrowser } })).status).toBe(303);
    expect((await lb.app.request("/api/auth/me", { headers: bearer(token) })).status).toBe(401);
    expect(await lb.users.authenticate("wendy", NEW)).toMatchObject({ user: { id } });
  });

  it("a wrong current password or a mismatched confirmation is shown in the form and changes nothing", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "wendy", PW);
    const cookie = await loginCookie(lb, "wendy", PW);
    const post = (fields: Record<string, string>) =>
      lb.app.request("/account", {
        method: "POST",
        headers: formHeaders(cookie, { "HX-Request": "true", "HX-Error-Target": "#password-error" }),
        body: new URLSearchParams(fields).toString(),
      });
    const wrong = await post({ currentPassword: "not my password", newPassword: NEW, confirmPassword: NEW });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("hx-retarget")).toBe("#password-error");
    expect(await wrong.text()).toContain("Current password: is not your current password");
    const mismatch = await post({ currentPassword: PW, newPassword: NEW, confirmPassword: NEW + "!" });
    expect(mismatch.status).toBe(400);
    const mismatchText = await mismatch.text();
    // Fields are named as the form labels them, never by their internal names.
    expect(mismatchText).toContain("Repeat new password: does not match the new password");
    expect(mismatchText).not.toContain("confirmPassword");
    const short = await post({ currentPassword: PW, newPassword: "short", confirmPassword: "short" });
    expect(await short.text()).toContain("New password: must be at least 12 characters long");
    expect(await lb.users.authenticate("wendy", PW)).not.toBeNull();
    expect((await lb.users.listAudit()).filter((a) => a.action === "user.password")).toEqual([]);
  });

  it("wrong current passwords count as failed logins (429 after five)", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "wendy", PW);
    const token = await loginToken(lb, "wendy", PW);
    const change = (currentPassword: string) =>
      lb.app.request("/api/account/password", {
        method: "POST",
        headers: bearer(token),
        body: JSON.stringify({ currentPassword, newPassword: NEW }),
      });
    for (let i = 0; i < 5; i++) expect((await change(`guess ${i}`)).status).toBe(400);
    const res = await change(PW);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBeTruthy();
  });

  it("POST /api/account/password changes it for API clients (204)", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "wendy", PW);
    const token = await loginToken(lb, "wendy", PW);
    const res = await lb.app.request("/api/account/password", {
      method: "POST",
      headers: bearer(token),
      body: JSON.stringify({ currentPassword: PW, newPassword: NEW }),
    });
    expect(res.status).toBe(204);
    expect(await loginToken(lb, "wendy", NEW)).toBeTruthy();
  });

  it("refuses a cross-site password change form with 403", async () => {
    const lb = await bootWithAdmin();
    await createUser(lb, "wendy", PW);
    const cookie = await loginCookie(lb, "wendy", PW);
    const res = await lb.app.request("/account", {
      method: "POST",
      headers: { ...formHeaders(cookie), Origin: "https://evil.example" },
      body: new URLSearchParams({ currentPassword: PW, newPassword: NEW, confirmPassword: NEW }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await lb.users.authenticate("wendy", PW)).not.toBeNull();
  });
});
