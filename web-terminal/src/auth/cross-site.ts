// Cookies (a token cookie, an authenticating proxy's session cookie) and the loopback address of
// AUTH_MODE=none are sent by the browser whatever site made the request. A state-changing API request
// from a foreign origin therefore carries no identity here, unless it carries an explicit bearer
// token, which a foreign page cannot add without the service's consent (CORS).
import type { Authenticator } from './authenticator.ts';
import type { HostAllowlist } from '../http/host-allowlist.ts';
import { isOriginAllowed } from '../ws/origin.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function refuseCrossSiteWrites(inner: Authenticator, allowedOrigins: readonly string[], hosts: HostAllowlist): Authenticator {
  return {
    identify(req) {
      const writes = !SAFE_METHODS.has((req.method ?? 'GET').toUpperCase());
      const hasBearer = /^Bearer /i.test(req.headers.authorization ?? '');
      if (writes && !hasBearer && !isOriginAllowed(req, allowedOrigins, hosts)) return Promise.resolve(null);
      return inner.identify(req);
    },
  };
}
