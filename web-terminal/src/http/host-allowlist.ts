// Which Host names the service answers (DNS rebinding): a page on an attacker's name that resolves to this
// service's address sends that name as Host, so only names the operator meant are served. Loopback names are
// always fine: no foreign page can make a browser send them (port-forwards arrive as `localhost:<port>`).
import type { RequestHandler } from 'express';
import { isLoopbackHost } from '../auth/cidr.ts';
import { ApiError, sendError } from './errors.ts';

export interface HostAllowlist {
  /** True when a request with this Host header may be served. */
  allows(hostHeader: string | undefined): boolean;
}

interface HostName {
  hostname: string;
  /** null: any port. */
  port: string | null;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`, lower-cased; null when it is no host at all. */
export function parseHost(value: string): HostName | null {
  const trimmed = value.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(trimmed);
  if (!match) return null;
  return { hostname: match[1]!, port: match[2] ?? null };
}

/** The host of an origin URL with its port made explicit (`https://a.example` -> a.example:443). */
function originHost(origin: string): HostName | null {
  try {
    const url = new URL(origin);
    const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
    return { hostname: url.hostname.toLowerCase(), port: port || null };
  } catch {
    return null;
  }
}

const DEFAULT_PORTS = new Set(['80', '443']);

export function createHostAllowlist(opts: { allowedOrigins: readonly string[]; allowedHosts: readonly string[] }): HostAllowlist {
  const allowed: HostName[] = [
    ...opts.allowedOrigins.map(originHost),
    ...opts.allowedHosts.map(parseHost),
  ].filter((h): h is HostName => h !== null);
  return {
    allows(hostHeader) {
      if (hostHeader === undefined) return false;
      const host = parseHost(hostHeader);
      if (!host) return false;
      if (isLoopbackHost(host.hostname)) return true;
      // A Host without a port means the scheme's default port; an entry without a port matches any port.
      return allowed.some((a) => a.hostname === host.hostname && (a.port === null || a.port === host.port || (host.port === null && DEFAULT_PORTS.has(a.port))));
    },
  };
}

/** What a refused Host gets, on REST and WebSocket alike. */
export const HOST_REFUSAL = {
  status: 421,
  text: 'Misdirected Request',
  code: 'host_not_allowed',
  message: 'this service does not answer for that host name (set ALLOWED_ORIGINS or ALLOWED_HOSTS to add one)',
} as const;

/** Express guard: refuses a request for a host name the service does not answer, before anything else runs. */
export function hostGuard(hosts: HostAllowlist, opts: { exemptPaths: readonly string[] }): RequestHandler {
  const exempt = new Set(opts.exemptPaths);
  return (req, res, next) => {
    // Probes (kubelet sends the pod IP as Host) read nothing a rebinding page could use.
    if (exempt.has(req.path) && (req.method === 'GET' || req.method === 'HEAD')) return next();
    if (hosts.allows(req.headers.host)) return next();
    sendError(res, new ApiError(HOST_REFUSAL.code, HOST_REFUSAL.message));
  };
}
