// Prometheus metrics of the web-terminal service. Labels never carry user ids or credentials.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  activeSessions: Gauge;
  startSeconds: Histogram<'runtime'>;
  startFailures: Counter<'reason'>;
  bridgedBytes: Counter<'direction'>;
  rejections: Counter<'reason'>;
  viewers: Gauge;
}

export function createMetrics(registry = new Registry()): ServiceMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'webterminal_process_' });
  return {
    registry,
    activeSessions: new Gauge({ name: 'webterminal_active_sessions', help: 'Sessions holding a slot (starting or running).', registers: [registry] }),
    startSeconds: new Histogram({
      name: 'webterminal_session_start_seconds',
      help: 'Time from admission until the session program runs.',
      labelNames: ['runtime'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    startFailures: new Counter({ name: 'webterminal_session_start_failures_total', help: 'Sessions that failed to start, by reason.', labelNames: ['reason'], registers: [registry] }),
    bridgedBytes: new Counter({ name: 'webterminal_bridged_bytes_total', help: 'Terminal bytes bridged, by direction (input: browser to sandbox).', labelNames: ['direction'], registers: [registry] }),
    rejections: new Counter({ name: 'webterminal_rejections_total', help: 'Requests and sockets refused, by reason.', labelNames: ['reason'], registers: [registry] }),
    viewers: new Gauge({ name: 'webterminal_attached_viewers', help: 'WebSockets attached to a session.', registers: [registry] }),
  };
}
