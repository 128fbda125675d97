// Identity and access for the service: who is calling (HTTP and WebSocket), and how a browser gets
// onto a session's socket (a one-time ticket in the wsUrl, in every mode: one code path).
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { ConfigError } from '../config/errors.ts';
import type { Identity } from '../types.ts';
import { localUserAuthenticator } from './authenticator.ts';
import type { Authenticator } from './authenticator.ts';
import { parseAddressRanges } from './cidr.ts';
import { refuseCrossSiteWrites } from './cross-site.ts';
import { createHostAllowlist } from '../http/host-allowlist.ts';
import { makeIdentity } from './identity-values.ts';
import { jwtAuthenticator, keySetFromJson, keySetFromUrl, secretKeys } from './jwt.ts';
import type { JwtKeys } from './jwt.ts';
import { assertAuthConfigSafe, readSecretFile } from './safety.ts';
import { TicketStore } from './tickets.ts';
import type { SocketAccess } from './tickets.ts';
import { trustedHeaderAuthenticator } from './trusted-header.ts';

export { assertAuthConfigSafe } from './safety.ts';

export interface Auth {
  authenticator: Authenticator;
  /** The path a caller opens for a session's terminal, with a fresh one-time ticket. */
  wsUrlFor(identity: Identity, sessionId: string): string;
  /** The path a watcher (instructor) opens to watch a session read-only, with a fresh one-time ticket. */
  watchUrlFor(identity: Identity, sessionId: string): string;
  /** Who is opening a session's terminal socket (`access`: the owner's or a watcher's); null refuses it. */
  authenticateUpgrade(req: IncomingMessage, sessionId: string, url: URL, access?: SocketAccess): Promise<Identity | null>;
}

function jwtKeys(config: Config, logger: Logger): JwtKeys {
  if (config.AUTH_JWT_SECRET) return secretKeys(config.AUTH_JWT_SECRET);
  if (config.AUTH_JWT_SECRET_FILE) return secretKeys(readSecretFile(config.AUTH_JWT_SECRET_FILE, 'AUTH_JWT_SECRET_FILE'));
  if (config.AUTH_JWKS_FILE) {
    try {
      return keySetFromJson(JSON.parse(readFileSync(config.AUTH_JWKS_FILE, 'utf8')));
    } catch (err) {
      throw new ConfigError([`AUTH_JWKS_FILE: cannot use ${config.AUTH_JWKS_FILE} (${err instanceof Error ? err.message : 'error'})`]);
    }
  }
  const url = config.AUTH_JWKS_URL!;
  if (url.startsWith('http:')) logger.warn({ url }, 'AUTH_JWKS_URL is plain http: keys can be swapped in transit unless the network is trusted');
  return keySetFromUrl(url);
}

export function makeAuthenticator(config: Config, logger: Logger): Authenticator {
  switch (config.AUTH_MODE) {
    case 'none':
      return localUserAuthenticator({ instructorUsers: config.AUTH_INSTRUCTOR_USERS });
    case 'trusted-header':
      return trustedHeaderAuthenticator({
        trustedProxies: parseAddressRanges(config.AUTH_TRUSTED_PROXIES),
        userHeader: config.AUTH_USER_HEADER,
        emailHeader: config.AUTH_EMAIL_HEADER,
        groupsHeader: config.AUTH_GROUPS_HEADER,
        adminGroups: config.AUTH_ADMIN_GROUPS,
        adminUsers: config.AUTH_ADMIN_USERS,
        instructorGroups: config.AUTH_INSTRUCTOR_GROUPS,
        instructorUsers: config.AUTH_INSTRUCTOR_USERS,
      });
    case 'jwt':
      return jwtAuthenticator({
        keys: jwtKeys(config, logger),
        issuer: config.AUTH_JWT_ISSUER!,
        audience: config.AUTH_JWT_AUDIENCE!,
        clockSkewSeconds: config.AUTH_JWT_CLOCK_SKEW_SECONDS,
        cookieName: config.AUTH_JWT_COOKIE,
        adminClaim: config.AUTH_JWT_ADMIN_CLAIM,
        adminUsers: config.AUTH_ADMIN_USERS,
        instructorClaim: config.AUTH_JWT_INSTRUCTOR_CLAIM,
        instructorUsers: config.AUTH_INSTRUCTOR_USERS,
        logger,
      });
  }
}

export function createAuth(config: Config, logger: Logger): Auth {
  assertAuthConfigSafe(config);
  const authenticator = refuseCrossSiteWrites(makeAuthenticator(config, logger), config.ALLOWED_ORIGINS,
    createHostAllowlist({ allowedOrigins: config.ALLOWED_ORIGINS, allowedHosts: config.ALLOWED_HOSTS }));
  const tickets = new TicketStore({ ttlSeconds: config.AUTH_TICKET_TTL_SECONDS });
  // What a ticket presented on the wrong session (or by another user) is worth: an identity that owns
  // nothing, so the bridge answers exactly as for a session that does not exist (404; ids cannot be probed).
  const nobody = makeIdentity(`\u0000nobody:${randomBytes(16).toString('hex')}`, 'nobody', false);
  logger.info({ mode: config.AUTH_MODE }, 'authentication configured');

  return {
    authenticator,
    wsUrlFor: (identity, sessionId) => `/ws/sessions/${encodeURIComponent(sessionId)}?ticket=${tickets.issue(identity, sessionId)}`,
    watchUrlFor: (identity, sessionId) => `/ws/sessions/${encodeURIComponent(sessionId)}/watch?ticket=${tickets.issue(identity, sessionId, 'watch')}`,
    async authenticateUpgrade(req, sessionId, url, access = 'owner') {
      const ticket = url.searchParams.get('ticket');
      if (!ticket) return null;
      const grant = tickets.redeem(ticket);
      if (!grant) return null;
      // A request that also says who it is (proxy headers, a token cookie) must be the ticket's user.
      const caller = await authenticator.identify(req).catch(() => null);
      if (caller && caller.userId !== grant.identity.userId) return nobody;
      // A watch ticket does not open the owner's socket, nor the other way round.
      if (grant.sessionId !== sessionId || grant.access !== access) return nobody;
      return grant.identity;
    },
  };
}
