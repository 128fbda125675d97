// Which browser origins may open a terminal socket or write through the API: the page's own origin (on a
// host name the service answers), plus configured ones.
import type { IncomingMessage } from 'node:http';
import type { HostAllowlist } from '../http/host-allowlist.ts';

/** True when the request's Origin is allowed. Requests without Origin come from non-browser clients. */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: readonly string[], hosts: HostAllowlist): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (allowedOrigins.includes(parsed.origin)) return true;
  // The page's own origin, only on a host name the service answers: a Host header alone proves nothing.
  const host = req.headers.host;
  return host !== undefined && parsed.host === host && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && hosts.allows(host);
}
