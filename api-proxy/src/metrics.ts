// Prometheus metrics. Labels are fixed route names, statuses, reasons, session ids and user hashes:
// never a key or a credential. Names carry an `api_proxy_` prefix so an embedding service can share
// its registry.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { totalTokens, USAGE_KINDS, type Usage } from './usage.ts';

export class ProxyMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly upstreamLatency: Histogram<'route'>;
  readonly tokens: Counter<'session' | 'user_hash' | 'kind'>;
  readonly rejections: Counter<'reason'>;
  readonly inFlight: Gauge;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'api_proxy_requests_total',
      help: 'Requests handled, by route and response status.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'api_proxy_upstream_response_seconds',
      help: 'Time from forwarding a request to the upstream response headers.',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.tokens = new Counter({
      name: 'api_proxy_tokens_total',
      help: 'Tokens reported by upstream responses, by session, user hash and kind.',
      labelNames: ['session', 'user_hash', 'kind'],
      registers,
    });
    this.rejections = new Counter({
      name: 'api_proxy_rejections_total',
      help: 'Requests refused by the proxy itself, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'api_proxy_upstream_in_flight',
      help: 'Requests currently forwarded to the upstream.',
      registers,
    });
  }

  // Labelled children are cached: resolving labels hashes them on every call, which shows on the hot path.
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly latencyChildren = new Map<string, { observe(v: number): void }>();

  countRequest(route: string, status: string): void {
    const key = `${route} ${status}`;
    let child = this.requestChildren.get(key);
    if (!child) {
      child = this.requests.labels({ route, status });
      this.requestChildren.set(key, child);
    }
    child.inc();
  }

  observeUpstream(route: string, seconds: number): void {
    let child = this.latencyChildren.get(route);
    if (!child) {
      child = this.upstreamLatency.labels({ route });
      this.latencyChildren.set(route, child);
    }
    child.observe(seconds);
  }

  recordUsage(session: string, userHash: string, usage: Usage): void {
    if (totalTokens(usage) === 0) return;
    for (const kind of USAGE_KINDS) {
      if (usage[kind] > 0) this.tokens.inc({ session, user_hash: userHash, kind }, usage[kind]);
    }
  }

  /** Drops per-session series once a session is long gone, so labels do not grow without bound. */
  forgetSession(session: string, userHash: string): void {
    for (const kind of USAGE_KINDS) this.tokens.remove({ session, user_hash: userHash, kind });
  }
}
