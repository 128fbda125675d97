// The allowlist. A request target is matched byte for byte against a tiny table; anything that is not
// exactly one of these (percent-encoding, dot segments, doubled slashes, absolute-form, `*`, extra query
// parameters, odd Host) is refused here, before any credential or upstream work.
import type { IncomingMessage } from 'node:http';
import { rejection, type Rejection } from './errors.ts';

export type ApiRoute = 'messages' | 'count_tokens';
export type OpsRoute = 'healthz' | 'readyz' | 'metrics';
export type RouteLabel = ApiRoute | OpsRoute | 'preconnect' | 'other';

export type Target =
  | { kind: 'api'; route: ApiRoute; /** Path + query to append to the upstream base path. */ upstreamPath: string }
  | { kind: 'ops'; route: OpsRoute }
  | { kind: 'preconnect'; route: 'preconnect' }
  | { kind: 'reject'; route: RouteLabel; rejection: Rejection };

interface Entry {
  methods: readonly string[];
  target: { kind: 'api'; route: ApiRoute } | { kind: 'ops'; route: OpsRoute } | { kind: 'preconnect'; route: 'preconnect' };
}

const TABLE: ReadonlyMap<string, Entry> = new Map<string, Entry>([
  ['/v1/messages', { methods: ['POST'], target: { kind: 'api', route: 'messages' } }],
  ['/v1/messages/count_tokens', { methods: ['POST'], target: { kind: 'api', route: 'count_tokens' } }],
  // The CLI's key-less pre-connect (HEAD / in 2.1.197, HEAD /api/hello in 2.1.332): answered locally.
  ['/', { methods: ['HEAD'], target: { kind: 'preconnect', route: 'preconnect' } }],
  ['/api/hello', { methods: ['HEAD'], target: { kind: 'preconnect', route: 'preconnect' } }],
  ['/healthz', { methods: ['GET', 'HEAD'], target: { kind: 'ops', route: 'healthz' } }],
  ['/readyz', { methods: ['GET', 'HEAD'], target: { kind: 'ops', route: 'readyz' } }],
  ['/metrics', { methods: ['GET'], target: { kind: 'ops', route: 'metrics' } }],
]);

/** The only query the CLI sends; passed through as is. */
const ALLOWED_API_QUERIES: ReadonlySet<string> = new Set(['', 'beta=true']);

// A hostname or IPv4 (optionally :port), or a bracketed IPv6 literal (optionally :port). Underscores are
// tolerated (container service names use them).
const HOST_HEADER = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function reject(route: RouteLabel, status: number, reason: string, message: string, allow?: string): Target {
  const type = status === 404 ? 'not_found_error' : 'invalid_request_error';
  return { kind: 'reject', route, rejection: rejection(status, type, reason, message, allow ? { allow } : {}) };
}

function hostIsSane(req: IncomingMessage): boolean {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'host') count++;
  }
  const host = req.headers.host;
  return count === 1 && host !== undefined && host.length <= 261 && HOST_HEADER.test(host);
}

export function classifyTarget(req: IncomingMessage): Target {
  const method = req.method ?? '';
  const url = req.url ?? '';
  if (method === 'CONNECT') return reject('other', 405, 'method_not_allowed', 'method not allowed');
  // Origin-form only: absolute-form (`http://x/...`), authority-form and `*` never match.
  if (!url.startsWith('/') || url.startsWith('//')) return reject('other', 400, 'bad_target', 'malformed request target');
  if (!hostIsSane(req)) return reject('other', 400, 'bad_host', 'malformed Host header');

  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const entry = TABLE.get(path);
  if (!entry) return reject('other', 404, 'not_found', 'not found');
  const target = entry.target;
  if (!entry.methods.includes(method)) {
    return reject(target.route, 405, 'method_not_allowed', 'method not allowed', entry.methods.join(', '));
  }
  if (target.kind === 'api') {
    // `?` with nothing after it is also refused: only the exact spellings pass.
    if (!ALLOWED_API_QUERIES.has(query) || (q !== -1 && query === '')) {
      return reject(target.route, 400, 'bad_query', 'query not allowed');
    }
    return { kind: 'api', route: target.route, upstreamPath: query ? `${path}?${query}` : path };
  }
  if (q !== -1) return reject(target.route, 400, 'bad_query', 'query not allowed');
  return target;
}
