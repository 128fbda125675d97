// REST: what this server offers a page before it starts a session (the runtime, the profiles a
// session may ask for).
import { Router } from 'express';

export interface InfoRoutesOptions {
  runtime: 'local' | 'kubernetes';
  /** Profiles `POST /api/sessions` accepts, `default` first. */
  profiles: readonly string[];
}

export function createInfoRoutes(opts: InfoRoutesOptions): Router {
  const router = Router();
  const body = { runtime: opts.runtime, profiles: [...opts.profiles] };
  router.get('/api/info', (_req, res) => {
    res.json(body);
  });
  return router;
}
