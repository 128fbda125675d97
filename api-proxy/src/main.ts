// Standalone server: config -> logger/metrics -> proxy -> http server; graceful shutdown on signals.
import { destination as pinoDestination } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError, loadProxyConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createProxy } from './proxy.ts';
import { createProxyServer } from './server.ts';
import { createControlHandler, isControlRequest } from './control.ts';
import { SnapshotStore } from './live-sessions.ts';
import { OutcomeBook } from './upstream-outcomes.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';

const SHUTDOWN_GRACE_MS = 10_000;

function start(): void {
  let config;
  try {
    config = loadProxyConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Buffered, asynchronous log writes (one line per request would otherwise be one write syscall each);
  // flushed every second and on shutdown.
  const destination = pinoDestination({ dest: 1, sync: false, minLength: 4096 });
  const logger = createLogger(config.logLevel, destination);
  setInterval(() => destination.flush(), 1000).unref();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Session credentials are accepted only while a web-terminal's fresh snapshot lists their session.
  const store = new SnapshotStore();
  const outcomes = new OutcomeBook();
  const proxy = createProxy(config, {
    logger,
    registry,
    serveMetrics: config.metricsPort === undefined,
    liveSessions: store,
    onUpstreamOutcome: (sessionId, reason) => outcomes.record(sessionId, reason),
  });
  const control = config.sharedSecret
    ? createControlHandler({ secret: config.sharedSecret, store, outcomes, apiKeyConfigured: () => config.anthropicApiKey !== undefined, logger })
    : null;
  /** The control endpoint goes where the metrics go: the internal port when there is one. */
  const withControl = (next: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse) =>
    control && isControlRequest(req) ? control(req, res) : next(req, res);

  const server = createProxyServer(config.metricsPort === undefined ? withControl(proxy.handle) : proxy.handle);
  // Metrics on their own port, out of sandboxes' reach (they may call the API port by hand).
  const opsServer = config.metricsPort === undefined ? null : createProxyServer(withControl(proxy.handleOps));
  opsServer?.listen(config.metricsPort, config.host);
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ host: config.host, port, upstream: config.upstreamUrl.origin, ready: proxy.isReady() }, 'api-proxy listening');
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close();
    opsServer?.close();
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    server.once('close', () => {
      void proxy.close().then(() => {
        destination.flushSync();
        process.exit(0);
      });
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

start();
