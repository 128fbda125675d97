// Identifiers: session ids safe in URLs, pod names and labels; user hashes that do not reveal the user.
import { createHmac, randomBytes } from 'node:crypto';

const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/** 20 lowercase base32 characters (100 random bits). */
export function newSessionId(): string {
  const bytes = randomBytes(20);
  let id = '';
  for (const byte of bytes) id += alphabet[byte & 31];
  return id;
}

export const isSessionId = (value: string): boolean => /^[a-z2-7]{20}$/.test(value);

/** A stable, keyed hash of a user id: fit for pod labels and logs, not reversible by guessing ids. */
export function makeUserHasher(key: string): (userId: string) => string {
  return (userId) => createHmac('sha256', key).update(`user:${userId}`).digest('hex').slice(0, 32);
}
