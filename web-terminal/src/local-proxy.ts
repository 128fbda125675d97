// Local mode: the API proxy core runs in-process on a unix socket that each sandbox gets bind-mounted
// as its only way out. The real key stays in this process.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createProxy, loadProxyConfig } from 'api-proxy';

export interface LocalProxy {
  socketPath: string;
  isReady(): boolean;
  close(): Promise<void>;
}

export async function startLocalProxy(opts: { env: NodeJS.ProcessEnv; secret: string; logger: Logger; registry: Registry }): Promise<LocalProxy> {
  const config = loadProxyConfig({ ...opts.env, PROXY_SHARED_SECRET: opts.secret, PROXY_SHARED_SECRET_FILE: undefined });
  // The socket's only callers are sandboxes: no metrics there (they would show every session).
  // Said once at start, where an operator looks: without a key every session's Claude Code is refused.
  if (!config.anthropicApiKey) opts.logger.warn('no API key is configured (ANTHROPIC_API_KEY or ANTHROPIC_API_KEY_FILE): Claude cannot answer in any session');
  const proxy = createProxy(config, { logger: opts.logger.child({ component: 'api-proxy' }), registry: opts.registry, serveMetrics: false });
  const dir = mkdtempSync(join(tmpdir(), 'claudecode-proxy-'));
  // Sandboxes run as other uids: they may traverse to the socket, not list the folder.
  chmodSync(dir, 0o711);
  const socketPath = join(dir, 'proxy.sock');
  const server = createServer((req, res) => proxy.handle(req, res));
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolveListen());
  });
  chmodSync(socketPath, 0o666);
  return {
    socketPath,
    isReady: () => proxy.isReady(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
