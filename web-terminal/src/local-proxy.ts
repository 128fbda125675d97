// Local mode: the API proxy core runs in-process. Each sandbox gets a unix socket of its own,
// bind-mounted as its only way out, so the proxy knows which session every connection comes from: a
// credential used from another session's sandbox is refused. The live-session check and the upstream
// outcomes are in-process calls (no HTTP). The real key stays in this process.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createProxy, loadProxyConfig, type LiveSessions, type UpstreamReason } from 'api-proxy';
import type { ProxySockets } from './runtime/local/local-runtime.ts';

export interface LocalProxy extends ProxySockets {
  /** Whether the real key is configured (without it every API call is refused at once). */
  readonly apiKeyConfigured: boolean;
  isReady(): boolean;
  close(): Promise<void>;
}

export interface LocalProxyOptions {
  env: NodeJS.ProcessEnv;
  secret: string;
  /** The one output-token ceiling (web-terminal config MAX_TOKENS_CEILING), also given to each sandbox. */
  maxTokensCeiling: number;
  logger: Logger;
  registry: Registry;
  liveSessions: LiveSessions;
  onUpstreamOutcome(sessionId: string, reason: UpstreamReason | null): void;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

export async function startLocalProxy(opts: LocalProxyOptions): Promise<LocalProxy> {
  const config = loadProxyConfig({
    ...opts.env,
    PROXY_SHARED_SECRET: opts.secret,
    PROXY_SHARED_SECRET_FILE: undefined,
    MAX_TOKENS_CEILING: String(opts.maxTokensCeiling),
  });
  // The sockets' only callers are sandboxes: no metrics there (they would show every session).
  const proxy = createProxy(config, {
    logger: opts.logger.child({ component: 'api-proxy' }),
    registry: opts.registry,
    serveMetrics: false,
    liveSessions: opts.liveSessions,
    onUpstreamOutcome: opts.onUpstreamOutcome,
  });
  const dir = mkdtempSync(join(tmpdir(), 'claudecode-proxy-'));
  // Sandboxes run as other uids: they may traverse to their socket, not list the folders.
  chmodSync(dir, 0o711);
  const servers = new Map<string, Server>();

  async function closeServer(sessionId: string): Promise<void> {
    const server = servers.get(sessionId);
    if (!server) return;
    servers.delete(sessionId);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(join(dir, sessionId), { recursive: true, force: true });
  }

  return {
    apiKeyConfigured: config.anthropicApiKey !== undefined,
    isReady: () => proxy.isReady(),
    async open(sessionId) {
      if (!SAFE_ID.test(sessionId)) throw new Error('unsafe session id for a socket path');
      await closeServer(sessionId);
      const sessionDir = join(dir, sessionId);
      mkdirSync(sessionDir, { mode: 0o711 });
      const socketPath = join(sessionDir, 'proxy.sock');
      // Every request on this socket comes from this session's sandbox.
      const server = createServer((req, res) => proxy.handle(req, res, sessionId));
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolveListen());
      });
      chmodSync(socketPath, 0o666);
      servers.set(sessionId, server);
      return socketPath;
    },
    release: closeServer,
    async close() {
      await Promise.all([...servers.keys()].map(closeServer));
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
