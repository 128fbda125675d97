// Header policy. Requests: an allowlist (anything not named here never reaches the upstream: client
// credentials, cookies, hop-by-hop and forwarding headers, accept-encoding). Responses: a blocklist of
// hop-by-hop headers and cookies; the rest (request-id, rate-limit hints, retry-after) flows back.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Request headers the Messages API uses, plus the CLI's harmless client-identification headers. */
const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'anthropic-version',
  'anthropic-beta',
  'content-type',
  'accept',
  'user-agent',
  // Sent by Claude Code; they identify the client build and the CLI session, never a credential.
  'x-app',
  'x-claude-code-session-id',
  'anthropic-dangerous-direct-browser-access',
]);
/** The Stainless SDK's telemetry headers (lang, os, arch, runtime, retry-count, timeout, ...). */
const FORWARDED_REQUEST_PREFIX = 'x-stainless-';
const MAX_FORWARDED_VALUE = 8192;

const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'alt-svc',
]);

export type ClientCredential = { ok: true; value: string } | { ok: false; reason: 'missing' | 'conflicting' };

/** The CLI sends its key as `x-api-key`, `authorization: Bearer`, or both (apiKeyHelper). */
export function extractClientCredential(headers: IncomingHttpHeaders): ClientCredential {
  const apiKey = typeof headers['x-api-key'] === 'string' ? headers['x-api-key'].trim() : '';
  const auth = headers.authorization ?? '';
  const bearer = /^Bearer +(\S+)\s*$/i.exec(auth)?.[1] ?? '';
  if (auth && !bearer) return { ok: false, reason: 'missing' };
  if (apiKey && bearer && apiKey !== bearer) return { ok: false, reason: 'conflicting' };
  const value = apiKey || bearer;
  return value ? { ok: true, value } : { ok: false, reason: 'missing' };
}

export function buildUpstreamHeaders(
  client: IncomingHttpHeaders,
  realKey: string,
  contentLength: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in client) {
    if (!FORWARDED_REQUEST_HEADERS.has(name) && !name.startsWith(FORWARDED_REQUEST_PREFIX)) continue;
    const value = client[name];
    if (typeof value === 'string' && value.length <= MAX_FORWARDED_VALUE) out[name] = value;
  }
  out['content-type'] = 'application/json';
  out['content-length'] = String(contentLength);
  // No compression: bytes pass through untouched and usage can be read from them.
  out['accept-encoding'] = 'identity';
  out['x-api-key'] = realKey;
  return out;
}

/** Drops hop-by-hop headers and cookies, and any header whose value would echo the real key. */
export function filterResponseHeaders(upstream: IncomingHttpHeaders, realKey: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
    const value = upstream[name];
    if (value === undefined) continue;
    if (typeof value === 'string' ? value.includes(realKey) : value.some((v) => v.includes(realKey))) continue;
    out[name] = value;
  }
  return out;
}
