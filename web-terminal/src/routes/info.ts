// GET /api/info: what this server offers a page before it starts a session, and facts the page
// shows its user (e.g. "no API key configured").
import { Router } from 'express';

export interface ServerInfo {
  /** Whether the API proxy holds a real key (Kubernetes: as the api-proxy last said; false until it has). */
  apiKeyConfigured: boolean;
  runtime: 'local' | 'kubernetes';
  /** Profiles `POST /api/sessions` accepts, `default` first. */
  profiles: readonly string[];
  /**
   * Lines of scrollback a (re)attaching viewer gets with the screen (SCREEN_RESTORE), or null when the
   * server replays raw output instead. The page keeps as many, so a reload shows what it showed before.
   */
  scrollbackLines: number | null;
}

export function createInfoRoutes(opts: { info: () => ServerInfo }): Router {
  const router = Router();
  router.get('/api/info', (_req, res) => {
    const info = opts.info();
    res.json({ ...info, profiles: [...info.profiles] });
  });
  return router;
}
