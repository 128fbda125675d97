// Which browser origins may open a terminal socket: the page's own origin, plus configured ones.
import type { IncomingMessage } from 'node:http';

/** True when the upgrade's Origin is allowed. Requests without Origin come from non-browser clients. */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const host = req.headers.host;
  if (host && parsed.host === host && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return true;
  return allowedOrigins.includes(parsed.origin);
}
