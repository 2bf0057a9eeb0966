import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { ForbiddenError, TooManyRequestsError, UnauthorizedError, ValidationError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ActiveUser, UserService } from "../users/service.ts";
import { createClientAddress, type ClientAddress } from "./client-address.ts";
import {
  createExternalVerifier,
  EXTERNAL_ALGORITHMS,
  LOCAL_ALGORITHM,
  signLocalToken,
  tokenAlgorithm,
  verifyLocalToken,
  type ExternalVerifier,
  type TokenKind,
} from "./jwt.ts";
import type { Principal } from "../principal.ts";
import { createLoginRateLimiter, type LoginRateLimiter } from "./rate-limit.ts";

/** How the session cookie is set (see session.ts). */
export interface CookiePolicy {
  /** COOKIE_SECURE: `auto` sets Secure when the request came over https. */
  cookieSecure: "auto" | "true" | "false";
  /** TRUST_PROXY: believe `X-Forwarded-Proto` from the proxy in front. */
  trustProxy: boolean;
}

/** Audience of session cookies: never equal to an API token's, so neither passes for the other. */
const SESSION_AUDIENCE = "lifeboat-session";

/** The one answer to a failed login: it never says whether the name or the password was wrong. */
const LOGIN_FAILED_MESSAGE = "Wrong username or password.";

export interface AuthDeps {
  config: Pick<Config, "jwt" | "session" | "trustProxy">;
  users: UserService;
  /** HS256 key (see `loadJwtSecret`). */
  secret: Uint8Array;
  clock: Clock;
  /** Sign-ins and refusals are logged with the username and client address (never the password). */
  logger?: Logger;
  limiter?: LoginRateLimiter;
  clientAddress?: ClientAddress;
  /** Replaces the JWKS verifier built from `JWKS_URL` (tests, other key sources). */
  externalVerifier?: ExternalVerifier;
}

interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** Decides who a request comes from. Knows tokens and passwords, not HTTP responses. */
export interface Auth {
  cookiePolicy: CookiePolicy;
  /** Session lifetime in seconds (SESSION_TTL_SECONDS). */
  sessionTtlSeconds: number;
  clientAddress: ClientAddress;
  /**
   * Checks a username and password, rate-limited per client and per
   * client+username. Throws `UnauthorizedError` with one generic message, or
   * `TooManyRequestsError`.
   */
  login(username: string, password: string, client: string): Promise<ActiveUser>;
  /** A signed API token (`Authorization: Bearer`), valid JWT_TTL_SECONDS. */
  issueApiToken(active: ActiveUser): Promise<IssuedToken>;
  /** A signed session token for the cookie, valid SESSION_TTL_SECONDS. */
  issueSession(active: ActiveUser): Promise<IssuedToken>;
  /**
   * Verifies a bearer token, Lifeboat's own (HS256) or, with JWKS_URL, an
   * external one; for our own tokens the user must still exist, be enabled and
   * have the same password, and the role comes from the database.
   */
  verifyBearer(token: string): Promise<Principal>;
  /** The principal behind a session cookie, or null when it is invalid, expired or revoked. */
  verifySession(token: string): Promise<Principal | null>;
  /**
   * Ends one of Lifeboat's own tokens or session cookies on the server (sign
   * out): it is refused from then on, by every instance sharing the database.
   * Returns false when `token` is not one that could still be used (nothing to end).
   */
  signOut(token: string, kind: TokenKind): Promise<boolean>;
  /** A signed-in user changes their own password; wrong current passwords count as failed logins. */
  changeOwnPassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string },
    client: string,
  ): Promise<ActiveUser>;
}

/** Builds the authentication service. Starts no timers (the JWKS is fetched on first use). */
export function createAuth(deps: AuthDeps): Auth {
  const { config, users, secret, clock } = deps;
  const limiter = deps.limiter ?? createLoginRateLimiter({ clock });
  const external =
    deps.externalVerifier ??
    (config.jwt.jwksUrl
      ? createExternalVerifier({
          jwksUrl: config.jwt.jwksUrl,
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
          roleClaim: config.jwt.roleClaim,
        })
      : undefined);

  const audienceOf = (kind: TokenKind) => (kind === "api" ? config.jwt.audience : SESSION_AUDIENCE);

  function issue(kind: TokenKind, active: ActiveUser, ttlSeconds: number): Promise<IssuedToken> {
    return signLocalToken(
      secret,
      {
        sub: String(active.user.id),
        name: active.user.username,
        role: active.user.role,
        cv: active.credentialVersion,
        se: active.sessionEpoch,
      },
      { kind, issuer: config.jwt.issuer, audience: audienceOf(kind), ttlSeconds, now: clock.now() },
    );
  }

  async function principalFromLocal(token: string, kind: TokenKind): Promise<Principal> {
    const claims = await verifyLocalToken(secret, token, {
      kind,
      issuer: config.jwt.issuer,
      audience: audienceOf(kind),
      now: clock.now(),
    });
    const id = Number(claims.sub);
    const active = Number.isSafeInteger(id) && id > 0 ? await users.findActiveUser(id) : null;
    if (!active) throw new UnauthorizedError("The account behind this token no longer exists or is disabled.");
    if (active.credentialVersion !== claims.cv) {
      throw new UnauthorizedError("The password changed since this token was issued; log in again.");
    }
    if (claims.se !== active.sessionEpoch || (await users.isTokenRevoked(claims.jti))) {
      throw new UnauthorizedError(`This ${kind === "api" ? "token" : "session"} was signed out; log in again.`);
    }
    return {
      userId: active.user.id,
      username: active.user.username,
      role: active.user.role,
      via: kind === "api" ? "token" : "session",
    };
  }

  return {
    cookiePolicy: { cookieSecure: config.session.cookieSecure, trustProxy: config.trustProxy },
    sessionTtlSeconds: config.session.ttlSeconds,
    clientAddress: deps.clientAddress ?? createClientAddress(config.trustProxy),

    async login(username, password, client) {
      const who = { username: username.slice(0, 64), client };
      try {
        limiter.attempt(client, username);
      } catch (err) {
        if (err instanceof TooManyRequestsError) deps.logger?.warn("sign-in refused: too many failures", who);
        throw err;
      }
      const active = await users.authenticate(username, password);
      if (!active) {
        deps.logger?.warn("sign-in failed", who);
        throw new UnauthorizedError(LOGIN_FAILED_MESSAGE);
      }
      limiter.succeeded(client, username);
      deps.logger?.info("signed in", { ...who, username: active.user.username });
      return active;
    },

    issueApiToken: (active) => issue("api", active, config.jwt.ttlSeconds),
    issueSession: (active) => issue("session", active, config.session.ttlSeconds),

    async verifyBearer(token) {
      const alg = tokenAlgorithm(token);
      if (alg === LOCAL_ALGORITHM) return principalFromLocal(token, "api");
      if (external && alg && EXTERNAL_ALGORITHMS.includes(alg)) {
        const identity = await external(token, clock.now());
        return { username: identity.username, role: identity.role, via: "external-token" };
      }
      throw new UnauthorizedError("Invalid token");
    },

    async verifySession(token) {
      if (tokenAlgorithm(token) !== LOCAL_ALGORITHM) return null;
      try {
        return await principalFromLocal(token, "session");
      } catch (err) {
        if (err instanceof UnauthorizedError) return null;
        throw err;
      }
    },

    async signOut(token, kind) {
      if (tokenAlgorithm(token) !== LOCAL_ALGORITHM) return false;
      let claims;
      try {
        claims = await verifyLocalToken(secret, token, {
          kind,
          issuer: config.jwt.issuer,
          audience: audienceOf(kind),
          now: clock.now(),
        });
      } catch (err) {
        if (err instanceof UnauthorizedError) return false;
        throw err;
      }
      const userId = Number(claims.sub);
      await users.signOut({ jti: claims.jti, userId, expiresAt: claims.expiresAt });
      deps.logger?.info("signed out", { username: claims.name, via: kind === "api" ? "token" : "session" });
      return true;
    },

    async changeOwnPassword(principal, input, client) {
      if (principal.userId === undefined) {
        throw new ForbiddenError("This account belongs to your identity provider; change its password there.");
      }
      limiter.attempt(client, principal.username);
      try {
        const active = await users.changeOwnPassword(principal.userId, input);
        limiter.succeeded(client, principal.username);
        return active;
      } catch (err) {
        // Only a wrong current password counts as a guess; other mistakes are not.
        if (!(err instanceof ValidationError && err.field === "currentPassword")) {
          limiter.cancel(client, principal.username);
        }
        throw err;
      }
    },
  };
}
