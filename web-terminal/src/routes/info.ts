// GET /api/info: facts about this server a page shows to its user (e.g. "no API key configured").
import { Router } from 'express';

export interface ServerInfo {
  /** Whether the API proxy holds a real key (Kubernetes: as the api-proxy last said; false until it has). */
  apiKeyConfigured: boolean;
  runtime: 'local' | 'kubernetes';
}

export function createInfoRoutes(opts: { info: () => ServerInfo }): Router {
  const router = Router();
  router.get('/api/info', (_req, res) => {
    res.json(opts.info());
  });
  return router;
}
