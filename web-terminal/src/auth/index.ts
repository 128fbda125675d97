// Identity and access for the service: who is calling (HTTP and WebSocket), and how a browser gets
// onto a session's socket.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Identity } from '../types.ts';
import { localUserAuthenticator } from './authenticator.ts';
import type { Authenticator } from './authenticator.ts';

export interface Auth {
  authenticator: Authenticator;
  /** The path a caller opens for a session's terminal. */
  wsUrlFor(identity: Identity, sessionId: string): string;
  /** Who is opening a session's terminal socket; null refuses it. */
  authenticateUpgrade(req: IncomingMessage, sessionId: string, url: URL): Promise<Identity | null>;
}

export function createAuth(config: Config, _logger: Logger): Auth {
  if (config.AUTH_MODE !== 'none') throw new Error(`AUTH_MODE=${config.AUTH_MODE} is not supported yet`);
  const authenticator = localUserAuthenticator();
  return {
    authenticator,
    wsUrlFor: (_identity, sessionId) => `/ws/sessions/${sessionId}`,
    authenticateUpgrade: (req) => authenticator.identify(req),
  };
}
