// Where request handlers read the caller's identity. The auth middleware sets it; handlers never parse credentials.
import type { Request } from 'express';
import type { Identity } from '../types.ts';
import { ApiError } from '../http/errors.ts';

const identityKey = Symbol('identity');

export function setIdentity(req: Request, identity: Identity): void {
  (req as unknown as Record<symbol, Identity>)[identityKey] = identity;
}

/** The authenticated caller; throws 401 when the request carries no identity. */
export function getIdentity(req: Request): Identity {
  const identity = (req as unknown as Record<symbol, Identity | undefined>)[identityKey];
  if (!identity) throw new ApiError('unauthenticated', 'authentication required');
  return identity;
}
