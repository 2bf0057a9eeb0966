import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { ADMIN, bearer, bootWithAdmin, createUser, loginCookie, loginToken, TEST_JWT_SECRET } from "../support/auth.ts";
import type { TestLifeboat } from "../support/app.ts";

const SECRET = new TextEncoder().encode(TEST_JWT_SECRET);
const NOW = () => Math.floor(Date.now() / 1000);

/** Signs a token like Lifeboat's own for user 1 (the admin); each test bends one part of it. */
async function forge(
  lb: TestLifeboat,
  options: {
    alg?: string;
    key?: Uint8Array | CryptoKey;
    typ?: string | null;
    claims?: JWTPayload;
    omit?: string[];
  } = {},
): Promise<string> {
  const active = await lb.users.findActiveUser(1);
  const claims: JWTPayload = {
    sub: "1",
    name: "admin",
    role: "admin",
    cv: active!.credentialVersion,
    iss: "lifeboat",
    aud: "lifeboat",
    iat: NOW(),
    exp: NOW() + 600,
    jti: crypto.randomUUID(),
    ...options.claims,
  };
  for (const k of options.omit ?? []) delete claims[k];
  const header: { alg: string; typ?: string } = { alg: options.alg ?? "HS256" };
  if (options.typ !== null) header.typ = options.typ ?? "at+jwt";
  return new SignJWT(claims).setProtectedHeader(header).sign(options.key ?? SECRET);
}

async function status(lb: TestLifeboat, token: string, path = "/api/users"): Promise<number> {
  return (await lb.app.request(path, { headers: { Authorization: `Bearer ${token}` } })).status;
}

describe("API tokens", () => {
  it("POST /api/auth/login gives a token that opens the API; the forging helper makes the same kind", async () => {
    const lb = await bootWithAdmin();
    const token = await loginToken(lb, ADMIN.username, ADMIN.password);
    expect(await status(lb, token)).toBe(200);
    expect(await status(lb, await forge(lb))).toBe(200);
  });

  it("refuses alg none, other algorithms, a wrong secret, no exp, an expired exp, a wrong issuer or audience (401)", async () => {
    const lb = await bootWithAdmin();
    const active = await lb.users.findActiveUser(1);
    const unsecured = new UnsecuredJWT({ name: "admin", role: "admin", cv: active!.credentialVersion })
      .setSubject("1")
      .setIssuer("lifeboat")
      .setAudience("lifeboat")
      .setIssuedAt()
      .setExpirationTime("10m")
      .encode();
    const { privateKey } = await generateKeyPair("RS256");
    const cases: Record<string, string> = {
      "alg none": unsecured,
      "HS512 with the right secret": await forge(lb, { alg: "HS512" }),
      "HS384 with the right secret": await forge(lb, { alg: "HS384" }),
      "RS256 with some key": await forge(lb, { alg: "RS256", key: privateKey }),
      "a wrong secret": await forge(lb, { key: new TextEncoder().encode("another-secret-that-is-long-enough-0123456789") }),
      "no exp": await forge(lb, { omit: ["exp"] }),
      "exp a minute ago": await forge(lb, { claims: { iat: NOW() - 700, exp: NOW() - 60 } }),
      "wrong issuer": await forge(lb, { claims: { iss: "someone-else" } }),
      "no issuer": await forge(lb, { omit: ["iss"] }),
      "wrong audience": await forge(lb, { claims: { aud: "other-service" } }),
      "no audience": await forge(lb, { omit: ["aud"] }),
      "a session token (typ and audience of the cookie)": await forge(lb, {
        typ: "lifeboat-session+jwt",
        claims: { aud: "lifeboat-session" },
      }),
      "no typ": await forge(lb, { typ: null }),
      "no sub": await forge(lb, { omit: ["sub"] }),
      "a stale credential version": await forge(lb, { claims: { cv: "0000000000000000" } }),
      "not a JWT at all": "hello.world.again",
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await lb.app.request("/api/users", { headers: { Authorization: `Bearer ${token}` } });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });

  it("allows a small clock skew: a token expired 10 s ago still passes", async () => {
    const lb = await bootWithAdmin();
    expect(await status(lb, await forge(lb, { claims: { iat: NOW() - 600, exp: NOW() - 10 } }))).toBe(200);
  });

  it("answers 401 to a missing or malformed Authorization header", async () => {
    const lb = await bootWithAdmin();
    expect((await lb.app.request("/api/users")).status).toBe(401);
    for (const value of ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer a b", "token abc"]) {
      expect((await lb.app.request("/api/users", { headers: { Authorization: value } })).status).toBe(401);
    }
  });

  it("asks the database on every request: deleted, disabled and re-passworded users' tokens die, demoted admins get 403", async () => {
    const lb = await bootWithAdmin();
    const pw = "second admin password";
    const ids: Record<string, number> = {};
    const tokens: Record<string, string> = {};
    for (const name of ["gone", "off", "demoted", "repassed"]) {
      ids[name] = await createUser(lb, name, pw, "admin");
      tokens[name] = await loginToken(lb, name, pw);
      expect(await status(lb, tokens[name]!)).toBe(200);
    }
    await lb.users.deleteUser("admin", ids.gone!);
    await lb.users.updateUser("admin", ids.off!, { disabled: true });
    await lb.users.updateUser("admin", ids.demoted!, { role: "user" });
    await lb.users.updateUser("admin", ids.repassed!, { password: "a brand new password" });
    expect(await status(lb, tokens.gone!)).toBe(401);
    expect(await status(lb, tokens.off!)).toBe(401);
    expect(await status(lb, tokens.demoted!)).toBe(403);
    expect(await status(lb, tokens.demoted!, "/api/auth/me")).toBe(200);
    expect(await status(lb, tokens.repassed!)).toBe(401);
  });

  it("never takes an API token as a session cookie", async () => {
    const lb = await bootWithAdmin();
    const token = await loginToken(lb, ADMIN.username, ADMIN.password);
    const res = await lb.app.request("/admin/users", { headers: { Cookie: `lifeboat_session=${token}` } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?next=%2Fadmin%2Fusers");
    // ...and the real cookie is not a bearer token either
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    expect(await status(lb, cookie.split("=")[1]!)).toBe(401);
  });

  it("GET /api/auth/me says who the token belongs to, with the role from the database", async () => {
    const lb = await bootWithAdmin();
    const id = await createUser(lb, "zoe", "zoe's long password", "user");
    const res = await lb.app.request("/api/auth/me", { headers: bearer(await loginToken(lb, "zoe", "zoe's long password")) });
    expect(await res.json()).toEqual({ id, username: "zoe", role: "user", via: "token" });
  });
});

describe("tokens from an external identity provider (JWKS_URL)", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function identityProvider() {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    let fetches = 0;
    const server = http.createServer((req, res) => {
      fetches++;
      if (req.url !== "/jwks.json") return void res.writeHead(404).end();
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const sign = (claims: JWTPayload, key: CryptoKey = privateKey, kid = "k1") =>
      new SignJWT({ iss: "https://idp.example", aud: "lifeboat-api", exp: NOW() + 300, ...claims })
        .setProtectedHeader({ alg: "RS256", kid })
        .sign(key);
    return { url, sign, privateKey, fetches: () => fetches };
  }

  it("accepts the provider's tokens with the role from JWT_ROLE_CLAIM (nested), and caches the key set", async () => {
    const idp = await identityProvider();
    const lb = await bootWithAdmin({
      JWKS_URL: idp.url,
      JWT_ISSUER: "https://idp.example",
      JWT_AUDIENCE: "lifeboat-api",
      JWT_ROLE_CLAIM: "realm_access.roles",
    });
    const adminToken = await idp.sign({ sub: "u-1", preferred_username: "ext-admin", realm_access: { roles: ["offline", "admin"] } });
    const userToken = await idp.sign({ sub: "u-2", realm_access: { roles: ["user"] } });
    const noRole = await idp.sign({ sub: "u-3", realm_access: { roles: ["viewer"] } });

    expect(await status(lb, adminToken)).toBe(200);
    const me = await lb.app.request("/api/auth/me", { headers: bearer(adminToken) });
    expect(await me.json()).toEqual({ username: "ext-admin", role: "admin", via: "external-token" });
    expect(await status(lb, userToken)).toBe(403);
    expect(await status(lb, userToken, "/api/auth/me")).toBe(200);
    const refused = await lb.app.request("/api/users", { headers: bearer(noRole) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/realm_access\.roles/);
    expect(idp.fetches()).toBe(1);

    // Lifeboat's own tokens keep working next to the provider's.
    expect(await status(lb, await loginToken(lb, ADMIN.username, ADMIN.password))).toBe(200);
  });

  it("refuses provider tokens with a wrong audience or issuer, no exp, an expired exp, or an unknown key (401)", async () => {
    const idp = await identityProvider();
    const lb = await bootWithAdmin({ JWKS_URL: idp.url, JWT_ISSUER: "https://idp.example", JWT_AUDIENCE: "lifeboat-api" });
    const { privateKey: strangerKey } = await generateKeyPair("RS256");
    const role = { role: "admin" };
    const cases = {
      "wrong audience": await idp.sign({ ...role, aud: "another-api" }),
      "wrong issuer": await idp.sign({ ...role, iss: "https://evil.example" }),
      expired: await idp.sign({ ...role, exp: NOW() - 120 }),
      "no exp": await new SignJWT({ ...role, iss: "https://idp.example", aud: "lifeboat-api" })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(idp.privateKey),
      "signed by a key outside the set, same kid": await idp.sign(role, strangerKey),
      "signed by a key outside the set, unknown kid": await idp.sign(role, strangerKey, "k2"),
    };
    for (const [name, token] of Object.entries(cases)) {
      expect({ name, status: await status(lb, token) }).toEqual({ name, status: 401 });
    }
  });
});
