// Liveness and readiness (metrics have their own listener: metrics-server.ts).
import { Router } from 'express';

export interface HealthCheck {
  name: string;
  check: () => Promise<{ ok: boolean; message?: string }>;
}

/** A check that has not answered by then counts as failed: /readyz answers within the probe's 3 s. */
export const CHECK_TIMEOUT_MS = 2_500;

function bounded(check: HealthCheck['check'], ms: number): Promise<{ ok: boolean; message?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ ok: boolean; message: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, message: `no answer within ${ms} ms` }), ms);
  });
  return Promise.race([check(), late]).finally(() => clearTimeout(timer));
}

export function createHealthRoutes(opts: { checks: HealthCheck[]; isShuttingDown: () => boolean; checkTimeoutMs?: number }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      opts.checks.map(async ({ name, check }) => {
        try {
          return { name, ...(await bounded(check, opts.checkTimeoutMs ?? CHECK_TIMEOUT_MS)) };
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
