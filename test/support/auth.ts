import type { Clock } from "../../src/clock.ts";
import type { Role } from "../../src/principal.ts";
import { bootTestLifeboat, type TestLifeboat } from "./app.ts";

/** Credentials of the first admin that `bootWithAdmin` creates. */
export const ADMIN = { username: "admin", password: "correct horse battery staple" } as const;

/** A fixed signing key, so tests can forge tokens with it (or with another one). */
export const TEST_JWT_SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

/** Origin of `app.request()` URLs; same-origin form posts send it. */
export const ORIGIN = "http://localhost";

/** Boots a Lifeboat whose first admin is `ADMIN`, signing with `TEST_JWT_SECRET`. */
export async function bootWithAdmin(
  env: Record<string, string | undefined> = {},
  options: { clock?: Clock; dataDir?: string } = {},
): Promise<TestLifeboat> {
  return bootTestLifeboat(
    { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, JWT_SECRET: TEST_JWT_SECRET, ...env },
    options,
  );
}

/** `POST /api/auth/login`; returns the bearer token (throws unless 200). */
export async function loginToken(lb: TestLifeboat, username: string, password: string): Promise<string> {
  const res = await lb.app.request("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Signs in through the `/login` form; returns the `name=value` cookie to send back (throws unless 303). */
export async function loginCookie(lb: TestLifeboat, username: string, password: string): Promise<string> {
  const res = await lb.app.request("/login", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN },
    body: new URLSearchParams({ username, password }).toString(),
  });
  const cookie = res.headers.get("set-cookie");
  if (res.status !== 303 || !cookie) throw new Error(`form login as ${username} failed: ${res.status}`);
  return cookie.split(";")[0]!;
}

/** Creates a user directly through the service (as the admin) and returns its id. */
export async function createUser(lb: TestLifeboat, username: string, password: string, role: Role = "user"): Promise<number> {
  return (await lb.users.createUser(ADMIN.username, { username, password, role })).id;
}

/** Headers for a JSON request with a bearer token. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
}

/** Headers for a same-origin form post with a session cookie (add `HX-Request` for htmx). */
export function formHeaders(cookie: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Cookie: cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", ...extra };
}
