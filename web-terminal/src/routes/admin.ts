// REST for administrators: every session, of every user.
import { Router } from 'express';
import { getIdentity } from '../auth/identity.ts';
import { ApiError } from '../http/errors.ts';
import type { SessionManager } from '../sessions/manager.ts';

export function createAdminRoutes({ manager }: { manager: SessionManager }): Router {
  const router = Router();
  router.get('/api/admin/sessions', (req, res) => {
    // Non-admins get the same answer as for any unknown path: the endpoint is not theirs to probe.
    if (!getIdentity(req).isAdmin) throw new ApiError('not_found', 'no such endpoint');
    res.json({ sessions: manager.listAll().map((s) => ({ ...s.view(), userHash: s.userHash, displayName: s.displayName })) });
  });
  return router;
}
