import { describe, expect, it } from "vitest";
import type { UserChangeEvent } from "../../src/users/events.ts";
import { ADMIN, bearer, bootWithAdmin, createUser, formHeaders, loginCookie, loginToken, ORIGIN } from "../support/auth.ts";
import type { TestLifeboat } from "../support/app.ts";

const PW = "a long enough password";

async function asAdmin(env: Record<string, string> = {}) {
  const lb = await bootWithAdmin(env);
  const token = await loginToken(lb, ADMIN.username, ADMIN.password);
  const events: UserChangeEvent[] = [];
  lb.events.on((e) => events.push(e));
  const api = (method: string, path: string, body?: unknown) =>
    lb.app.request(path, { method, headers: bearer(token), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { lb, token, events, api };
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

async function auditCount(lb: TestLifeboat): Promise<number> {
  return Number((await lb.db.execute("SELECT count(*) AS n FROM lifeboat_audit")).rows[0]!.n);
}

/** Every admin route, JSON and page; `:id` is a real user. */
const ADMIN_ROUTES: [string, string, string?, string?][] = [
  ["GET", "/api/users"],
  ["POST", "/api/users", JSON.stringify({ username: "mallory", password: PW, role: "admin" }), "application/json"],
  ["GET", "/api/users/:id"],
  ["PATCH", "/api/users/:id", JSON.stringify({ role: "admin" }), "application/json"],
  ["DELETE", "/api/users/:id"],
  ["POST", "/api/users/:id/revoke-sessions"],
  ["GET", "/api/audit"],
  ["GET", "/admin/users"],
  ["GET", "/admin"],
  ["POST", "/admin/users", `username=mallory&password=${encodeURIComponent(PW)}&role=admin`, "application/x-www-form-urlencoded"],
  ["PATCH", "/admin/users/:id", "role=admin", "application/x-www-form-urlencoded"],
  ["DELETE", "/admin/users/:id"],
  ["POST", "/admin/users/:id/revoke-sessions"],
];

describe("who may manage users", () => {
  it("a user-role token gets 403 on every admin route, and nothing changes", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "uriah", PW);
    const token = await loginToken(lb, "uriah", PW);
    const cookie = await loginCookie(lb, "uriah", PW);
    const before = await auditCount(lb);
    for (const [method, path, body, type] of ADMIN_ROUTES) {
      const url = path.replace(":id", String(id));
      const viaToken = await lb.app.request(url, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(type ? { "Content-Type": type } : {}) },
        ...(body ? { body } : {}),
      });
      expect({ method, path, status: viaToken.status }).toEqual({ method, path, status: 403 });
      const viaCookie = await lb.app.request(url, {
        method,
        headers: { Cookie: cookie, Origin: ORIGIN, ...(type ? { "Content-Type": type } : {}) },
        ...(body ? { body } : {}),
      });
      expect({ method, path, cookie: viaCookie.status }).toEqual({ method, path, cookie: 403 });
    }
    expect(await auditCount(lb)).toBe(before);
    expect((await lb.users.listUsers()).map((u) => `${u.username}:${u.role}`)).toEqual(["admin:admin", "uriah:user"]);
  });

  it("without credentials: 401 on the API, a redirect to /login for pages", async () => {
    const lb = await bootWithAdmin();
    for (const [method, path, body, type] of ADMIN_ROUTES) {
      const res = await lb.app.request(path.replace(":id", "1"), {
        method,
        headers: { Origin: ORIGIN, ...(type ? { "Content-Type": type } : {}) },
        ...(body ? { body } : {}),
      });
      const expected = path.startsWith("/api/") ? 401 : 303;
      expect({ method, path, status: res.status }).toEqual({ method, path, status: expected });
    }
    expect(await lb.users.listUsers()).toHaveLength(1);
  });

  it("a cross-site form post with the admin's cookie (foreign Origin) gets 403 and changes nothing", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "target", PW);
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const before = await auditCount(lb);
    const events: UserChangeEvent[] = [];
    lb.events.on((e) => events.push(e));
    for (const [method, path, body] of [
      ["POST", "/admin/users", `username=mallory&password=${encodeURIComponent(PW)}&role=admin`],
      ["PATCH", `/admin/users/${id}`, "role=admin"],
      ["DELETE", `/admin/users/${id}`, ""],
      ["POST", "/api/users", JSON.stringify({ username: "mallory", password: PW, role: "admin" })],
    ] as const) {
      for (const origin of ["https://evil.example", "http://localhost.evil.example", "null"]) {
        const res = await lb.app.request(path, {
          method,
          headers: { Cookie: cookie, Origin: origin, "Content-Type": path.startsWith("/api") ? "text/plain" : "application/x-www-form-urlencoded" },
          body,
        });
        expect({ path, origin, status: res.status }).toEqual({ path, origin, status: 403 });
      }
    }
    // a form from a foreign page without Origin but with Sec-Fetch-Site: cross-site is refused too
    const sfs = await lb.app.request("/admin/users", {
      method: "POST",
      headers: { Cookie: cookie, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded" },
      body: `username=mallory&password=${encodeURIComponent(PW)}`,
    });
    expect(sfs.status).toBe(403);
    expect(events).toEqual([]);
    expect(await auditCount(lb)).toBe(before);
    expect((await lb.users.listUsers()).map((u) => `${u.username}:${u.role}`)).toEqual(["admin:admin", "target:user"]);
  });

  it("scripts with a Bearer token and no cookie are not held to the Origin check (not CSRF-prone)", async () => {
    const { lb, token } = await asAdmin();
    const res = await lb.app.request("/admin/users", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: `username=scripted&password=${encodeURIComponent(PW)}`,
    });
    expect(res.status).toBe(303);
    expect((await lb.users.listUsers()).map((u) => u.username)).toContain("scripted");
  });
});

describe("JSON API /api/users", () => {
  it("lists, creates (201 + Location), reads, changes and deletes users, one event each", async () => {
    const { lb, api, events } = await asAdmin();
    const created = await api("POST", "/api/users", { username: "Nina", password: PW, role: "user" });
    expect(created.status).toBe(201);
    const nina = (await created.json()) as { id: number; username: string; role: string; disabled: boolean; createdAt: string };
    expect(nina).toMatchObject({ username: "Nina", role: "user", disabled: false });
    expect(nina).not.toHaveProperty("passwordHash");
    expect(created.headers.get("location")).toBe(`/api/users/${nina.id}`);
    expect(await (await api("GET", `/api/users/${nina.id}`)).json()).toEqual(nina);

    const list = (await (await api("GET", "/api/users")).json()) as { users: { username: string }[] };
    expect(list.users.map((u) => u.username)).toEqual(["admin", "Nina"]);
    expect(JSON.stringify(list)).not.toMatch(/scrypt|password/i);

    const promoted = await api("PATCH", `/api/users/${nina.id}`, { role: "admin" });
    expect(promoted.status).toBe(200);
    expect(await promoted.json()).toMatchObject({ role: "admin" });
    expect((await api("PATCH", `/api/users/${nina.id}`, { disabled: true })).status).toBe(200);
    expect((await api("PATCH", `/api/users/${nina.id}`, { password: "nina's new password" })).status).toBe(200);

    const removed = await api("DELETE", `/api/users/${nina.id}`);
    expect(removed.status).toBe(204);
    expect((await api("GET", `/api/users/${nina.id}`)).status).toBe(404);
    expect(events.map((e) => `${e.action}:${e.actor}:${e.target.username}`)).toEqual([
      "user.create:admin:Nina",
      "user.role:admin:Nina",
      "user.disable:admin:Nina",
      "user.password:admin:Nina",
      "user.delete:admin:Nina",
    ]);
    const audit = (await (await api("GET", "/api/audit?limit=5")).json()) as { entries: { action: string }[] };
    expect(audit.entries.map((e) => e.action)).toEqual(["user.delete", "user.password", "user.disable", "user.role", "user.create"]);
  });

  it("400 naming the field for bad input; nothing is created", async () => {
    const { lb, api, events } = await asAdmin();
    const cases: [string, string, unknown, RegExp][] = [
      ["POST", "/api/users", { username: "x", password: PW }, /^username: must be 3–64 characters/],
      ["POST", "/api/users", { username: "valid", password: "short" }, /^password: must be at least 12/],
      ["POST", "/api/users", { username: "valid", password: PW, role: "owner" }, /^role: must be "admin" or "user"/],
      ["POST", "/api/users", { username: "valid", password: PW, admin: true }, /admin/],
      ["PATCH", "/api/users/1", {}, /send at least one of role, password, disabled/],
      ["PATCH", "/api/users/1", { disabled: "yes" }, /^disabled: must be true or false/],
      ["PATCH", "/api/users/1", { username: "rename" }, /username/],
      ["PATCH", "/api/users/abc", { role: "user" }, /^id: must be a positive whole number/],
      ["GET", "/api/audit?limit=0", undefined, /^limit: must be a whole number from 1 to 1000/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await api(method, path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      const err = await errorOf(res);
      expect(err.code).toBe("invalid_input");
      expect(err.message).toMatch(message);
    }
    const malformed = await lb.app.request("/api/users", {
      method: "POST",
      headers: { ...bearer((await loginToken(lb, ADMIN.username, ADMIN.password))) },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(events).toEqual([]);
    expect(await lb.users.listUsers()).toHaveLength(1);
  });

  it("409 for a taken name (in any case) and for the last enabled admin; 404 for unknown ids", async () => {
    const { lb, api, events } = await asAdmin();
    const taken = await api("POST", "/api/users", { username: "ADMIN", password: PW, role: "user" });
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).message).toMatch(/A user named ADMIN already exists/);
    for (const [method, body] of [
      ["DELETE", undefined],
      ["PATCH", { disabled: true }],
      ["PATCH", { role: "user" }],
    ] as const) {
      const res = await api(method, "/api/users/1", body);
      expect(res.status).toBe(409);
      const err = await errorOf(res);
      expect(err.code).toBe("last_admin");
      expect(err.message).toBe("admin is the last enabled admin and cannot be " + (method === "DELETE" ? "deleted" : body!.role ? "demoted" : "disabled") + ". Make another user an admin first.");
    }
    expect((await api("PATCH", "/api/users/999", { role: "user" })).status).toBe(404);
    expect((await api("DELETE", "/api/users/999")).status).toBe(404);
    expect(events).toEqual([]);
    expect(await lb.users.getUser(1)).toMatchObject({ role: "admin", disabled: false });
  });
});

describe("page /admin/users (htmx)", () => {
  async function asAdminBrowser() {
    const lb = await bootWithAdmin();
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const htmx = (method: string, path: string, fields?: Record<string, string>, extra: Record<string, string> = {}) =>
      lb.app.request(path, {
        method,
        headers: formHeaders(cookie, { "HX-Request": "true", ...extra }),
        ...(fields ? { body: new URLSearchParams(fields).toString() } : {}),
      });
    return { lb, cookie, htmx };
  }

  it("renders the table with one labelled row per user, the add form and recent changes", async () => {
    const { lb, cookie } = await asAdminBrowser();
    const id = await createUser(lb, "olga", PW);
    const res = await lb.app.request("/admin/users", { headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toContain("HX-Request");
    const html = await res.text();
    expect(html).toContain('<tbody id="user-rows">');
    expect(html).toContain(`<tr id="user-${id}">`);
    expect(html).toContain('aria-label="Role of olga"');
    expect(html).toContain('<label for="new-username">Username</label>');
    expect(html).toContain('<label for="new-user-password">Password</label>');
    expect(html).toContain('<label for="new-role">Role</label>');
    expect(html).toContain(`<label for="password-${id}" class="visually-hidden">New password for olga</label>`);
    expect(html).toContain('hx-confirm="Delete user olga? They will no longer be able to sign in. This cannot be undone."');
    expect(html).toContain("<strong>admin</strong> created olga as user");
    expect(html).toContain('aria-current="page"');
    // the htmx GET answers just the rows
    const rows = await lb.app.request("/admin/users", { headers: { Cookie: cookie, "HX-Request": "true" } });
    const fragment = await rows.text();
    expect(fragment.startsWith("<tr")).toBe(true);
    expect(fragment).not.toContain("<html");
  });

  it("adding a user answers the new row, a status message and a fresh form, out of band", async () => {
    const { lb, htmx } = await asAdminBrowser();
    const res = await htmx("POST", "/admin/users", { username: "pia", password: PW, role: "admin" });
    expect(res.status).toBe(200);
    const html = await res.text();
    const pia = (await lb.users.listUsers()).find((u) => u.username === "pia")!;
    expect(pia.role).toBe("admin");
    expect(html.startsWith(`<tr id="user-${pia.id}">`)).toBe(true);
    expect(html).toContain('<div id="status" hx-swap-oob="innerHTML"><div class="alert success">Added pia (admin).</div></div>');
    expect(html).toContain('<form id="add-user-form"');
    expect(html).toContain('<ol id="audit-list" class="audit" hx-swap-oob="true">');
  });

  it("a refused add shows the error next to the form (HX-Error-Target)", async () => {
    const { htmx } = await asAdminBrowser();
    const res = await htmx("POST", "/admin/users", { username: "Admin", password: PW }, { "HX-Error-Target": "#add-user-error" });
    expect(res.status).toBe(409);
    expect(res.headers.get("hx-retarget")).toBe("#add-user-error");
    expect(await res.text()).toContain("A user named Admin already exists");
  });

  it("changing a role, a password, or disabling answers the updated row", async () => {
    const { lb, htmx } = await asAdminBrowser();
    const id = await createUser(lb, "quinn", PW);
    const role = await htmx("PATCH", `/admin/users/${id}`, { role: "admin" });
    expect(role.status).toBe(200);
    const html = await role.text();
    expect(html).toMatch(new RegExp(`^<tr id="user-${id}">`));
    expect(html).toContain('<option value="admin" selected="">Admin</option>');
    expect(html).toContain("quinn: role is admin.");
    const off = await htmx("PATCH", `/admin/users/${id}`, { disabled: "true" });
    expect(await off.text()).toContain('<span class="badge failed">disabled</span>');
    const pw = await htmx("PATCH", `/admin/users/${id}`, { password: "quinn's new password" });
    expect(await pw.text()).toContain("quinn: password was reset.");
    expect(await lb.users.authenticate("quinn", "quinn's new password")).toBeNull(); // disabled
    expect(await lb.users.getUser(id)).toMatchObject({ role: "admin", disabled: true });
  });

  it("an admin resetting their own password stays signed in here; other sessions end", async () => {
    const { lb, cookie, htmx } = await asAdminBrowser();
    const elsewhere = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const res = await htmx("PATCH", "/admin/users/1", { password: "the admin's new password" });
    expect(res.status).toBe(200);
    const fresh = res.headers.get("set-cookie")!.split(";")[0]!;
    expect(fresh).not.toBe(cookie);
    expect((await lb.app.request("/admin/users", { headers: { Cookie: fresh } })).status).toBe(200);
    expect((await lb.app.request("/admin/users", { headers: { Cookie: elsewhere } })).status).toBe(303);
  });

  it("demoting the last admin answers 409 with the row as it really is and the reason in #status", async () => {
    const { htmx } = await asAdminBrowser();
    const res = await htmx("PATCH", "/admin/users/1", { role: "user" });
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain('<option value="admin" selected="">Admin</option>');
    expect(html).toContain("admin is the last enabled admin and cannot be demoted");
    expect(html).toContain('<div id="status" hx-swap-oob="innerHTML">');
  });

  it("deleting answers an empty row (removed) and the status message", async () => {
    const { lb, htmx } = await asAdminBrowser();
    const id = await createUser(lb, "rita", PW);
    const res = await htmx("DELETE", `/admin/users/${id}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<template><div id="status" hx-swap-oob="innerHTML"><div class="alert success">Deleted rita.</div></div>')).toBe(true);
    expect((await lb.users.listUsers()).map((u) => u.username)).toEqual(["admin"]);
  });

  it("without JavaScript the add form posts and comes back to the page", async () => {
    const { lb, cookie } = await asAdminBrowser();
    const res = await lb.app.request("/admin/users", {
      method: "POST",
      headers: formHeaders(cookie),
      body: new URLSearchParams({ username: "sam", password: PW, role: "user" }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/users");
    expect((await lb.users.listUsers()).map((u) => u.username)).toEqual(["admin", "sam"]);
  });
});
