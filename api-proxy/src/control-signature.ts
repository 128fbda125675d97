// Authenticates the web-terminal's pushes to the proxy's control endpoint: an HMAC-SHA256 over a
// timestamp and the exact body bytes, keyed by the shared secret (domain-separated from session
// credentials by its prefix). Stale timestamps are refused here; replays within the window are
// refused by the snapshot store (each source's stamps must increase).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { STAMP_WINDOW_MS } from './live-sessions.ts';

export const CONTROL_SIGNATURE_HEADER = 'x-claudecode-signature';
const PREFIX = 'cccontrol1';
const HEADER_FORMAT = /^t=(\d{1,16}),s=([A-Za-z0-9_-]{43})$/;

function mac(secret: string, stamp: number, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${PREFIX}.${stamp}.`).update(body).digest();
}

/** The header value for `body` sent at `stamp` (ms since the epoch). */
export function signControlBody(secret: string, body: Buffer | string, stamp: number = Date.now()): string {
  return `t=${stamp},s=${mac(secret, stamp, Buffer.from(body)).toString('base64url')}`;
}

export type ControlVerdict = { ok: true; stamp: number } | { ok: false; reason: 'bad_signature' | 'stale' };

export function verifyControlSignature(secret: string, header: string | undefined, body: Buffer, now: number = Date.now()): ControlVerdict {
  const match = HEADER_FORMAT.exec(header ?? '');
  if (!match) return { ok: false, reason: 'bad_signature' };
  const stamp = Number(match[1]);
  const given = Buffer.from(match[2]!, 'base64url');
  const expected = mac(secret, stamp, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  if (Math.abs(now - stamp) > STAMP_WINDOW_MS) return { ok: false, reason: 'stale' };
  return { ok: true, stamp };
}
