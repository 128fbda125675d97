// Prometheus metrics. Labels are fixed route names, statuses, reasons and token kinds: never a key, a
// credential, a session or a user (whoever can read the metrics learns nothing about who is working).
// Per-user spending is enforced by the token budgets (limits.ts), not read from here. Names carry an
// `api_proxy_` prefix so an embedding service can share its registry.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { totalTokens, USAGE_KINDS, type Usage } from './usage.ts';

export class ProxyMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly upstreamLatency: Histogram<'route'>;
  readonly tokens: Counter<'kind'>;
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
      help: 'Tokens reported by upstream responses, by kind.',
      labelNames: ['kind'],
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

  recordUsage(usage: Usage): void {
    if (totalTokens(usage) === 0) return;
    for (const kind of USAGE_KINDS) {
      if (usage[kind] > 0) this.tokens.inc({ kind }, usage[kind]);
    }
  }
}
