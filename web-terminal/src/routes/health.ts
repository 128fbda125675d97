// Liveness and readiness (metrics have their own listener: metrics-server.ts).
import { Router } from 'express';

export interface HealthCheck {
  name: string;
  check: () => Promise<{ ok: boolean; message?: string }>;
}

export function createHealthRoutes(opts: { checks: HealthCheck[]; isShuttingDown: () => boolean }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      opts.checks.map(async ({ name, check }) => {
        try {
          return { name, ...(await check()) };
        } catch (err) {
          return { name, ok: false, message: err instanceof Error ? err.message : 'check failed' };
        }
      }),
    );
    const ready = !opts.isShuttingDown() && results.every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
  return router;
}
