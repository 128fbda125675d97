// Turning values from headers and token claims into an Identity: bounded, printable, never empty.
import type { Identity } from '../types.ts';

const MAX_USER_ID = 256;
const MAX_DISPLAY_NAME = 100;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A user id as received, or null when it is empty, too long or holds control characters. */
export function cleanUserId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = value.trim();
  if (id.length === 0 || id.length > MAX_USER_ID || CONTROL.test(id)) return null;
  return id;
}

/**
 * The first usable display name among the candidates, shortened; empty when there is none. Never the
 * user id: display names are what administrators see of other users (docs/auth.md).
 */
export function pickDisplayName(candidates: unknown[]): string {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    // eslint-disable-next-line no-control-regex
    const name = candidate.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '').trim();
    if (name) return name.length > MAX_DISPLAY_NAME ? `${name.slice(0, MAX_DISPLAY_NAME - 1)}…` : name;
  }
  return '';
}

export function makeIdentity(userId: string, displayName: string, isAdmin: boolean, isInstructor = false): Identity {
  return Object.freeze(isInstructor ? { userId, displayName, isAdmin, isInstructor } : { userId, displayName, isAdmin });
}
