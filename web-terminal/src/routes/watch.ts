// REST for instructors (and administrators): the running sessions, and a read-only socket onto one.
// Everyone else gets 404 here, as for an unknown path or session: the endpoints are not theirs to probe.
import { Router } from 'express';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { getIdentity } from '../auth/identity.ts';
import { canWatchSessions } from '../auth/roles.ts';
import { ApiError } from '../http/errors.ts';
import { isSessionId } from '../sessions/ids.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Session } from '../sessions/session.ts';

export interface WatchRoutesOptions {
  manager: SessionManager;
  /** The watch-only WebSocket path for a session, with a one-time ticket for this caller. */
  watchUrlFor: (session: Session, req: Request) => string;
  logger: Logger;
}

const watchView = (session: Session) => ({ ...session.view(), displayName: session.displayName, watchers: session.watcherNames() });

export function createWatchRoutes({ manager, watchUrlFor, logger }: WatchRoutesOptions): Router {
  const router = Router();

  router.get('/api/watch/sessions', (req, res) => {
    if (!canWatchSessions(getIdentity(req))) throw new ApiError('not_found', 'no such endpoint');
    res.json({ sessions: manager.listAll().filter((s) => s.isActive).map(watchView) });
  });

  router.post('/api/sessions/:id/watch', (req, res) => {
    const identity = getIdentity(req);
    const id = String(req.params.id);
    const session = isSessionId(id) ? manager.getForWatching(identity, id) : undefined;
    if (!session) throw new ApiError('not_found', 'no such session');
    if (!session.isActive) throw new ApiError('conflict', `session is ${session.state}`);
    logger.info({ sessionId: session.id, ownerHash: session.userHash, watcherId: identity.userId, watcherName: identity.displayName }, 'watch granted');
    res.json({ ...watchView(session), wsUrl: watchUrlFor(session, req) });
  });

  return router;
}
