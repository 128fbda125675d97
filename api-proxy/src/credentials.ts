// Per-session credentials: `ccp1.<payload>.<signature>`, both parts base64url, the signature an
// HMAC-SHA256 over `ccp1.<payload>` with the secret shared by web-terminal and the proxy.
// Printable ASCII only (it lives in an env var, and the CLI approves its last 20 characters).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export interface SessionClaims {
  sessionId: string;
  userHash: string;
  expiresAt: Date;
}

export type VerifyFailure = 'missing' | 'malformed' | 'unknown_version' | 'bad_signature' | 'expired';
export type VerifyResult = { ok: true; claims: SessionClaims } | { ok: false; reason: VerifyFailure };

const VERSION = 'ccp1';
const MAX_TOKEN_LENGTH = 1024;
const MIN_SECRET_BYTES = 32;
const B64URL = /^[A-Za-z0-9_-]+$/;
const ID = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const payloadSchema = z.strictObject({
  sid: ID,
  uh: ID,
  exp: z.number().int().positive(),
});

function sign(secret: string, signedPart: string): Buffer {
  return createHmac('sha256', secret).update(signedPart).digest();
}

export function issueSessionCredential(
  claims: { sessionId: string; userHash: string; expiresAt: Date },
  secret: string,
): string {
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new Error('issue credential: secret shorter than 32 bytes');
  const exp = claims.expiresAt.getTime();
  const payload = payloadSchema.parse({ sid: claims.sessionId, uh: claims.userHash, exp });
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signedPart = `${VERSION}.${encoded}`;
  return `${signedPart}.${sign(secret, signedPart).toString('base64url')}`;
}

export function verifySessionCredential(token: string, secret: string, now: Date = new Date()): VerifyResult {
  if (!token) return { ok: false, reason: 'missing' };
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [version, encoded, signature] = parts as [string, string, string];
  if (version !== VERSION) return { ok: false, reason: 'unknown_version' };
  if (!B64URL.test(encoded) || !B64URL.test(signature)) return { ok: false, reason: 'malformed' };
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) return { ok: false, reason: 'bad_signature' };

  const expected = sign(secret, `${version}.${encoded}`);
  const given = Buffer.from(signature, 'base64url');
  // Re-encoding must give back the same text: rejects non-canonical base64url spellings.
  if (given.length !== expected.length || given.toString('base64url') !== signature) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };

  let payload: z.infer<typeof payloadSchema>;
  try {
    payload = payloadSchema.parse(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (payload.exp <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { sessionId: payload.sid, userHash: payload.uh, expiresAt: new Date(payload.exp) } };
}

/** Constant-time string comparison (for the legacy static key). */
export function constantTimeEquals(a: string, b: string): boolean {
  const x = createHmac('sha256', 'compare').update(a).digest();
  const y = createHmac('sha256', 'compare').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}
