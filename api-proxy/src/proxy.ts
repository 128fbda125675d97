// The proxy core: one `handle(req, res)` for the whole surface, usable in the standalone server and
// embedded in web-terminal. Order of checks: request target -> credential -> real key -> limits ->
// body -> forward. Every refusal happens before the upstream is contacted.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { ProxyConfig } from './config.ts';
import { constantTimeEquals, verifySessionCredential } from './credentials.ts';
import { rejection, sendRejection, type Rejection } from './errors.ts';
import { extractClientCredential } from './headers.ts';
import { CredentialLimits, type Caller } from './limits.ts';
import { createLogger } from './logger.ts';
import { readCappedBody, validateBody } from './messages-request.ts';
import { ProxyMetrics } from './metrics.ts';
import { classifyTarget, type ApiRoute, type OpsRoute, type RouteLabel } from './request-target.ts';
import { forwardToUpstream } from './forward.ts';
import { UpstreamClient } from './upstream.ts';
import { totalTokens } from './usage.ts';
import { checkBetas } from './betas.ts';
import type { LiveSessions } from './live-sessions.ts';
import { outcomeOfFailure, outcomeOfRejection, outcomeOfStatus, type UpstreamReason } from './upstream-outcomes.ts';

export interface ProxyDeps {
  logger?: Logger;
  registry?: Registry;
  /** Whether `handle` answers /metrics (default true). Off where the caller is a sandbox. */
  serveMetrics?: boolean;
  /**
   * When given, a session credential is accepted only while `lookup` finds its session (ended
   * sessions' credentials are refused), and accounting keys on the owner it names.
   */
  liveSessions?: LiveSessions;
  /** Told what the upstream (or a budget) did to a session's requests; null once they succeed again. */
  onUpstreamOutcome?(sessionId: string, reason: UpstreamReason | null): void;
}

export interface Proxy {
  /**
   * Serves one request. `boundSessionId`: the connection is known to come from this session's
   * sandbox (its own socket), so any other session's credential is refused on it.
   */
  handle(req: IncomingMessage, res: ServerResponse, boundSessionId?: string): void;
  /** Operations only: /metrics, /healthz, /readyz (for a separate metrics port). */
  handleOps(req: IncomingMessage, res: ServerResponse): void;
  isReady(): boolean;
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60_000;
/** Per-session state and metric series are kept this long after the credential expires. */
const SESSION_GRACE_MS = 10 * 60_000;
const VERIFIED_CACHE_SIZE = 10_000;
const LEGACY_CALLER: Caller = { sessionId: 'legacy', userHash: 'legacy', expiresAtMs: Number.MAX_SAFE_INTEGER };

export function createProxy(config: ProxyConfig, deps: ProxyDeps = {}): Proxy {
  const logger = (deps.logger ?? createLogger(config.logLevel)).child({ component: 'api-proxy' });
  const metrics = new ProxyMetrics(deps.registry ?? new Registry());
  const limits = new CredentialLimits(config, () => Date.now());
  const upstream = new UpstreamClient({
    baseUrl: config.upstreamUrl,
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
  });
  const inFlight = new Set<ServerResponse>();
  /** Credentials already verified (HMAC is the costliest step of a request); expiry is still checked every time. */
  const verified = new Map<string, Caller>();
  let closed = false;

  const sweeper = setInterval(() => {
    limits.sweep(SESSION_GRACE_MS);
    const now = Date.now();
    for (const [token, caller] of verified) if (caller.expiresAtMs <= now) verified.delete(token);
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  const isReady = () => !closed && config.anthropicApiKey !== undefined;

  function authenticate(req: IncomingMessage, boundSessionId: string | undefined): Caller | Rejection {
    const caller = verifyCredential(req);
    if ('status' in caller || caller === LEGACY_CALLER) return caller;
    const live = deps.liveSessions ? deps.liveSessions.lookup(caller.sessionId) : { userHash: caller.userHash };
    if (!live) return rejection(401, 'authentication_error', 'session_ended', 'this session has ended; start a new one');
    if (boundSessionId !== undefined && caller.sessionId !== boundSessionId) {
      return rejection(401, 'authentication_error', 'credential_wrong_sandbox', 'this credential belongs to another session');
    }
    return live.userHash === caller.userHash ? caller : { ...caller, userHash: live.userHash };
  }

  function verifyCredential(req: IncomingMessage): Caller | Rejection {
    const credential = extractClientCredential(req.headers);
    if (!credential.ok) {
      return rejection(401, 'authentication_error', `credential_${credential.reason}`, 'missing or invalid credential');
    }
    if (config.legacyDummyKey !== undefined && constantTimeEquals(credential.value, config.legacyDummyKey)) {
      return LEGACY_CALLER;
    }
    const now = Date.now();
    const known = verified.get(credential.value);
    if (known && known.expiresAtMs > now) return known;
    const verdict = config.sharedSecret
      ? verifySessionCredential(credential.value, config.sharedSecret, new Date(now))
      : ({ ok: false, reason: 'bad_signature' } as const);
    if (!verdict.ok) {
      verified.delete(credential.value);
      const message = verdict.reason === 'expired' ? 'credential expired' : 'missing or invalid credential';
      return rejection(401, 'authentication_error', `credential_${verdict.reason}`, message);
    }
    const { sessionId, userHash, expiresAt } = verdict.claims;
    const caller = { sessionId, userHash, expiresAtMs: expiresAt.getTime() };
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear();
    verified.set(credential.value, caller);
    return caller;
  }

  /** What the access log line says about a response besides route and status. */
  const notes = new WeakMap<ServerResponse, { reason?: string; session?: string }>();

  function report(sessionId: string, reason: UpstreamReason | null | undefined): void {
    if (reason === undefined || !deps.onUpstreamOutcome) return;
    try {
      deps.onUpstreamOutcome(sessionId, reason);
    } catch (err) {
      logger.warn({ err: { message: (err as Error)?.message } }, 'upstream outcome listener failed');
    }
  }

  function refuse(res: ServerResponse, r: Rejection, method: string | undefined, caller?: Caller): void {
    metrics.rejections.inc({ reason: r.reason });
    if (caller) report(caller.sessionId, outcomeOfRejection(r.reason));
    notes.set(res, { reason: r.reason, session: caller?.sessionId });
    sendRejection(res, r, method);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, route: ApiRoute, upstreamPath: string, boundSessionId?: string) {
    const caller = authenticate(req, boundSessionId);
    if ('status' in caller) return refuse(res, caller, req.method);
    const realKey = config.anthropicApiKey;
    if (realKey === undefined || closed) {
      const r = closed
        ? rejection(503, 'api_error', 'closing', 'the proxy is shutting down', { retryable: true })
        : rejection(503, 'api_error', 'not_ready', 'no Anthropic API key is configured on this server, so Claude cannot answer');
      return refuse(res, r, req.method, caller);
    }
    const beta = checkBetas(req.headers['anthropic-beta']);
    if (beta) return refuse(res, beta, req.method, caller);
    notes.set(res, { session: caller.sessionId });
    const admission = limits.admit(caller);
    if (!admission.ok) return refuse(res, admission.rejection, req.method, caller);
    res.once('close', admission.release);

    const raw = await readCappedBody(req, config.maxBodyBytes);
    if (res.destroyed) return;
    if (!Buffer.isBuffer(raw)) return refuse(res, raw, req.method, caller);
    const body = validateBody(route, req.headers['content-type'], raw, config);
    if ('status' in body) return refuse(res, body, req.method, caller);

    inFlight.add(res);
    metrics.inFlight.inc();
    res.once('close', () => {
      inFlight.delete(res);
      metrics.inFlight.dec();
    });
    forwardToUpstream({
      req,
      res,
      route,
      upstreamPath,
      body: body.bytes,
      realKey,
      upstream,
      onUpstreamHeaders: (seconds, status) => {
        metrics.observeUpstream(route, seconds);
        report(caller.sessionId, outcomeOfStatus(status));
      },
      onUsage: (usage) => {
        limits.recordUsage(caller, totalTokens(usage));
        metrics.recordUsage(usage);
        logger.debug({ session: caller.sessionId, usage }, 'usage');
      },
      onFailure: (kind) => {
        logger.warn({ session: caller.sessionId, route, failure: kind }, 'upstream failure');
        report(caller.sessionId, outcomeOfFailure(kind));
      },
    });
  }

  async function handleOps(res: ServerResponse, route: OpsRoute, method: string) {
    if (route === 'metrics') {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return;
    }
    const ok = route === 'healthz' || isReady();
    const body = JSON.stringify(
      route === 'healthz' ? { status: 'ok' } : { ready: ok, ...(ok ? {} : { reason: closed ? 'closing' : 'no upstream API key' }) },
    );
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(method === 'HEAD' ? undefined : body);
  }

  function handle(req: IncomingMessage, res: ServerResponse, boundSessionId?: string): void {
    const started = performance.now();
    const target = classifyTarget(req);
    const route: RouteLabel = target.route;
    res.once('close', () => {
      const status = res.headersSent ? String(res.statusCode) : 'aborted';
      metrics.countRequest(route, status);
      if (target.kind === 'api' || target.kind === 'reject') {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        logger.info({ route, status, ms, ...notes.get(res) }, 'request');
      }
    });
    let work: Promise<void> | void;
    try {
      switch (target.kind) {
        case 'reject':
          return refuse(res, target.rejection, req.method);
        case 'preconnect':
          res.writeHead(200, { 'content-length': 0 });
          res.end();
          return;
        case 'ops':
          if (target.route === 'metrics' && deps.serveMetrics === false) {
            return refuse(res, rejection(404, 'not_found_error', 'not_found', 'not found'), req.method);
          }
          work = handleOps(res, target.route, req.method ?? 'GET');
          break;
        case 'api':
          work = handleApi(req, res, target.route, target.upstreamPath, boundSessionId);
          break;
      }
    } catch (err) {
      work = Promise.reject(err);
    }
    void Promise.resolve(work).catch((err: unknown) => {
      logger.error({ err: { message: (err as Error)?.message } }, 'unexpected failure');
      sendRejection(res, rejection(500, 'api_error', 'internal', 'internal proxy error', { retryable: true }), req.method);
    });
  }

  async function close(): Promise<void> {
    closed = true;
    clearInterval(sweeper);
    for (const res of inFlight) res.destroy();
    await upstream.close();
  }

  function handleOpsOnly(req: IncomingMessage, res: ServerResponse): void {
    const target = classifyTarget(req);
    if (target.kind !== 'ops') {
      sendRejection(res, rejection(404, 'not_found_error', 'not_found', 'not found'), req.method);
      return;
    }
    void handleOps(res, target.route, req.method ?? 'GET').catch(() => res.destroy());
  }

  return { handle, handleOps: handleOpsOnly, isReady, close };
}
