// AUTH_MODE=jwt: an embedding front end hands the browser a signed JWT; the service verifies it with
// jose against a fixed list of algorithms (HS256 for a shared secret; RS256/ES256 for a key set), the
// configured issuer and audience, expiry and not-before with a small clock skew. `sub` is the user id.
import type { IncomingMessage } from 'node:http';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { Authenticator } from './authenticator.ts';
import { cleanUserId, makeIdentity, pickDisplayName } from './identity-values.ts';

/** Where verification keys come from. Each kind accepts only its own algorithms. */
export type JwtKeys =
  | { kind: 'secret'; secret: Uint8Array }
  | { kind: 'jwks'; getKey: JWTVerifyGetKey };

export const SECRET_ALGORITHMS = ['HS256'] as const;
export const KEY_SET_ALGORITHMS = ['RS256', 'ES256'] as const;
export const MIN_SECRET_BYTES = 32;
/** Tokens longer than this are refused unparsed. */
const MAX_TOKEN_CHARS = 16 * 1024;

export interface JwtOptions {
  keys: JwtKeys;
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  cookieName: string;
  /** `claim` (must be true) or `claim=value` (equal, or an array containing it); dotted paths allowed. */
  adminClaim?: string | undefined;
  adminUsers: readonly string[];
  /** Same form as adminClaim: which claim makes an instructor. */
  instructorClaim?: string | undefined;
  instructorUsers?: readonly string[];
  logger: Logger;
}

export function secretKeys(secret: string): JwtKeys {
  return { kind: 'secret', secret: new TextEncoder().encode(secret) };
}

export function keySetFromJson(json: unknown): JwtKeys {
  if (!json || typeof json !== 'object' || !Array.isArray((json as { keys?: unknown }).keys)) {
    throw new Error('not a JSON Web Key Set (expected an object with a "keys" array)');
  }
  return { kind: 'jwks', getKey: createLocalJWKSet(json as JSONWebKeySet) };
}

export function keySetFromUrl(url: string): JwtKeys {
  return { kind: 'jwks', getKey: createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }) };
}

/** The token from `Authorization: Bearer ...`, else from the named cookie. */
export function tokenFromRequest(req: IncomingMessage, cookieName: string): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i.exec(authorization);
    return match?.[1];
  }
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== cookieName) continue;
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    return value || undefined;
  }
  return undefined;
}

/** Compiles AUTH_JWT_ADMIN_CLAIM (or AUTH_JWT_INSTRUCTOR_CLAIM) into a test on a verified payload. */
export function adminClaimMatcher(spec: string | undefined): (payload: JWTPayload) => boolean {
  if (!spec) return () => false;
  const eq = spec.indexOf('=');
  const path = (eq < 0 ? spec : spec.slice(0, eq)).split('.');
  const expected = eq < 0 ? undefined : spec.slice(eq + 1);
  return (payload) => {
    let value: unknown = payload;
    for (const key of path) {
      if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return false;
      value = (value as Record<string, unknown>)[key];
    }
    if (expected === undefined) return value === true;
    return value === expected || (Array.isArray(value) && value.includes(expected));
  };
}

export function jwtAuthenticator(opts: JwtOptions): Authenticator {
  const isAdminByClaim = adminClaimMatcher(opts.adminClaim);
  const adminUsers = new Set(opts.adminUsers);
  const isInstructorByClaim = adminClaimMatcher(opts.instructorClaim);
  const instructorUsers = new Set(opts.instructorUsers ?? []);
  const verifyOptions = {
    algorithms: [...(opts.keys.kind === 'secret' ? SECRET_ALGORITHMS : KEY_SET_ALGORITHMS)],
    issuer: opts.issuer,
    audience: opts.audience,
    clockTolerance: opts.clockSkewSeconds,
    requiredClaims: ['sub', 'exp'],
  };
  const verify = (token: string) =>
    opts.keys.kind === 'secret' ? jwtVerify(token, opts.keys.secret, verifyOptions) : jwtVerify(token, opts.keys.getKey, verifyOptions);

  return {
    async identify(req) {
      const token = tokenFromRequest(req, opts.cookieName);
      if (!token || token.length > MAX_TOKEN_CHARS) return null;
      let payload: JWTPayload;
      try {
        ({ payload } = await verify(token));
      } catch (err) {
        // Key-set trouble is the operator's problem; a bad token is the caller's. Never log the token.
        const keySetTrouble = err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || (err instanceof Error && !(err instanceof errors.JOSEError));
        if (keySetTrouble) opts.logger.warn({ err }, 'token verification could not run');
        else opts.logger.debug({ reason: err instanceof errors.JOSEError ? err.code : 'unknown' }, 'token refused');
        return null;
      }
      const userId = cleanUserId(payload.sub);
      if (!userId) return null;
      const displayName = pickDisplayName([payload.name, payload.preferred_username]);
      const isInstructor = instructorUsers.has(userId) || isInstructorByClaim(payload);
      return makeIdentity(userId, displayName, adminUsers.has(userId) || isAdminByClaim(payload), isInstructor);
    },
  };
}
