// Establishes who is calling, for HTTP requests and WebSocket upgrades.
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Identity } from '../types.ts';
import { setIdentity } from './identity.ts';
import { makeIdentity } from './identity-values.ts';

export interface Authenticator {
  /** The identity behind a request, or null when it carries none (or none that is trusted). */
  identify(req: IncomingMessage): Promise<Identity | null>;
}

/** AUTH_MODE=none: a single local user (an instructor only when AUTH_INSTRUCTOR_USERS names `local`). */
export function localUserAuthenticator(opts: { instructorUsers?: readonly string[] } = {}): Authenticator {
  const local: Identity = makeIdentity('local', 'local user', false, opts.instructorUsers?.includes('local') ?? false);
  return { identify: async () => local };
}

/** Sets the identity on API requests; requests without one continue anonymous (routes answer 401). */
export function identityMiddleware(authenticator: Authenticator): RequestHandler {
  return (req, _res, next) => {
    authenticator.identify(req).then(
      (identity) => {
        if (identity) setIdentity(req, identity);
        next();
      },
      next,
    );
  };
}
