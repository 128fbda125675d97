// Response headers that keep the page to its own code: scripts only from this origin (no inline
// script, no CDN), sockets only back to this origin, no framing by other sites, no MIME sniffing.
import type { RequestHandler } from 'express';

export function securityHeaders(opts: { allowedOrigins: readonly string[] }): RequestHandler {
  const frameAncestors = ["'self'", ...opts.allowedOrigins].join(' ');
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    // xterm.js sizes its rows with inline styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', policy);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
}
