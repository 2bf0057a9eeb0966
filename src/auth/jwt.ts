import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
} from "jose";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import type { Role } from "../principal.ts";

/** Allowed difference between our clock and the issuer's when checking `exp`, `nbf`, `iat`. */
const CLOCK_SKEW_SECONDS = 30;

/** The only algorithm Lifeboat signs with and accepts for its own tokens. */
export const LOCAL_ALGORITHM = "HS256";

/** Algorithms accepted from an external identity provider's key set (never a symmetric one). */
export const EXTERNAL_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** `typ` header values that keep an API token and a session cookie from standing in for each other. */
const TOKEN_TYPES = { api: "at+jwt", session: "lifeboat-session+jwt" } as const;
export type TokenKind = keyof typeof TOKEN_TYPES;

/** What Lifeboat puts in its own tokens besides the registered claims. */
export interface LocalClaims {
  /** User id, as a string (JWT `sub`). */
  sub: string;
  /** Username at the time of issue (informational; the database is asked again). */
  name: string;
  /** Role at the time of issue (informational; the database decides). */
  role: Role;
  /** Credential version: changes when the password does, which voids the token. */
  cv: string;
  /** Session epoch the token was issued in; "sign out everywhere" raises the user's, which voids it. */
  se: number;
}

/** A verified token's claims plus what identifies and bounds this one token. */
export interface VerifiedClaims extends LocalClaims {
  /** The token's own id (`jti`), by which signing out revokes it. */
  jti: string;
  expiresAt: Date;
}

export interface SignOptions {
  kind: TokenKind;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now: Date;
}

/**
 * Signs a Lifeboat token (HS256) with `iss`, `aud`, `iat`, `exp` and a random `jti`.
 * Returns the compact token and its expiry.
 */
export async function signLocalToken(
  key: Uint8Array,
  claims: LocalClaims,
  options: SignOptions,
): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(options.now.getTime() / 1000);
  const exp = iat + options.ttlSeconds;
  const token = await new SignJWT({ name: claims.name, role: claims.role, cv: claims.cv, se: claims.se })
    .setProtectedHeader({ alg: LOCAL_ALGORITHM, typ: TOKEN_TYPES[options.kind] })
    .setSubject(claims.sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(crypto.randomUUID())
    .sign(key);
  return { token, expiresAt: new Date(exp * 1000) };
}

export interface VerifyOptions {
  kind: TokenKind;
  issuer: string;
  audience: string;
  now: Date;
}

/**
 * Verifies a Lifeboat token: HS256 only (so `alg: none` or a swapped algorithm
 * never passes), `exp` and `jti` required, issuer, audience and `typ` checked,
 * 30 s skew. A token without `se` (issued before session epochs existed) is
 * of epoch 0. Throws `UnauthorizedError`.
 */
export async function verifyLocalToken(key: Uint8Array, token: string, options: VerifyOptions): Promise<VerifiedClaims> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [LOCAL_ALGORITHM],
      issuer: options.issuer,
      audience: options.audience,
      typ: TOKEN_TYPES[options.kind],
      requiredClaims: ["exp", "sub", "jti"],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: options.now,
    });
    const se = payload.se ?? 0;
    if (
      typeof payload.sub !== "string" ||
      typeof payload.name !== "string" ||
      (payload.role !== "admin" && payload.role !== "user") ||
      typeof payload.cv !== "string" ||
      typeof payload.jti !== "string" ||
      typeof payload.exp !== "number" ||
      typeof se !== "number" ||
      !Number.isSafeInteger(se) ||
      se < 0
    ) {
      throw new UnauthorizedError("Invalid token");
    }
    return {
      sub: payload.sub,
      name: payload.name,
      role: payload.role,
      cv: payload.cv,
      se,
      jti: payload.jti,
      expiresAt: new Date(payload.exp * 1000),
    };
  } catch (err) {
    throw toUnauthorized(err);
  }
}

/** Turns any verification failure into a 401 that says no more than needed. */
function toUnauthorized(err: unknown): UnauthorizedError {
  if (err instanceof UnauthorizedError) return err;
  if (err instanceof joseErrors.JWTExpired) return new UnauthorizedError("The token has expired; log in again.");
  return new UnauthorizedError("Invalid token");
}

/** The algorithm a token claims, or undefined when its header cannot be read. */
export function tokenAlgorithm(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

export interface ExternalVerifierOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Claim holding the role; a dotted path reaches nested claims (`realm_access.roles`). */
  roleClaim: string;
}

/** Who an external token names and with which role. */
interface ExternalIdentity {
  username: string;
  role: Role;
}

export type ExternalVerifier = (token: string, now: Date) => Promise<ExternalIdentity>;

/**
 * Accepts tokens from an identity provider's JSON Web Key Set (fetched on first
 * use and cached by jose; refetched when an unknown key id shows up, at most every
 * 30 s). Only asymmetric algorithms; `exp`, issuer and audience required.
 * Throws `UnauthorizedError` for a bad token, `ForbiddenError` for a good one without a role.
 */
export function createExternalVerifier(options: ExternalVerifierOptions): ExternalVerifier {
  const keySet = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 5_000,
  });
  return async (token, now) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: EXTERNAL_ALGORITHMS,
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ["exp"],
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
      }));
    } catch (err) {
      throw toUnauthorized(err);
    }
    const role = roleFrom(claimAt(payload, options.roleClaim));
    if (!role) {
      throw new ForbiddenError(`The token carries no Lifeboat role: claim "${options.roleClaim}" must be or contain "admin" or "user".`);
    }
    const name =
      typeof payload.preferred_username === "string" && payload.preferred_username
        ? payload.preferred_username
        : typeof payload.sub === "string" && payload.sub
          ? payload.sub
          : "external";
    return { username: name, role };
  };
}

function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let value: unknown = payload;
  for (const part of path.split(".")) {
    if (!value || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function roleFrom(value: unknown): Role | null {
  const values = Array.isArray(value) ? value : [value];
  if (values.includes("admin")) return "admin";
  if (values.includes("user")) return "user";
  return null;
}
