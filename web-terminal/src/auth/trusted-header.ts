// AUTH_MODE=trusted-header: an authenticating reverse proxy (oauth2-proxy, Traefik forward-auth) has
// established who the user is and says so in request headers. Those headers are believed only when
// the TCP peer is one of the configured proxies; from anyone else they are ignored, so a client that
// reaches the service directly cannot claim to be someone. X-Forwarded-For is never consulted: it is
// written by the client as much as by the proxy.
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from './authenticator.ts';
import type { AddressRanges } from './cidr.ts';
import { cleanUserId, makeIdentity, pickDisplayName } from './identity-values.ts';

export interface TrustedHeaderOptions {
  trustedProxies: AddressRanges;
  /** Lower-case header names. */
  userHeader: string;
  emailHeader?: string | undefined;
  groupsHeader?: string | undefined;
  adminGroups: readonly string[];
  adminUsers: readonly string[];
  instructorGroups?: readonly string[];
  instructorUsers?: readonly string[];
}

/** The header's value when it was sent exactly once; a repeated identity header is ambiguous. */
function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const values = req.headersDistinct[name];
  return values && values.length === 1 ? values[0] : undefined;
}

export function trustedHeaderAuthenticator(opts: TrustedHeaderOptions): Authenticator {
  const adminGroups = new Set(opts.adminGroups);
  const adminUsers = new Set(opts.adminUsers);
  const instructorGroups = new Set(opts.instructorGroups ?? []);
  const instructorUsers = new Set(opts.instructorUsers ?? []);
  return {
    async identify(req) {
      if (!opts.trustedProxies.contains(req.socket.remoteAddress)) return null;
      const userId = cleanUserId(singleHeader(req, opts.userHeader));
      if (!userId) return null;
      const email = opts.emailHeader ? singleHeader(req, opts.emailHeader) : undefined;
      const groups = opts.groupsHeader
        ? (req.headersDistinct[opts.groupsHeader] ?? []).flatMap((v) => v.split(',')).map((g) => g.trim()).filter(Boolean)
        : [];
      const isAdmin = adminUsers.has(userId) || groups.some((g) => adminGroups.has(g));
      const isInstructor = instructorUsers.has(userId) || groups.some((g) => instructorGroups.has(g));
      return makeIdentity(userId, pickDisplayName([email]), isAdmin, isInstructor);
    },
  };
}
