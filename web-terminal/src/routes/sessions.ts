// REST: create, list, read and end the caller's sessions.
import { Router } from 'express';
import { z } from 'zod';
import { getIdentity } from '../auth/identity.ts';
import { ApiError } from '../http/errors.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Session } from '../sessions/session.ts';
import { isSessionId } from '../sessions/ids.ts';

const createSessionBody = z
  .object({
    courseId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a course id (lowercase letters, digits, dashes)').optional(),
    stage: z.number().int().min(1).max(1000).optional(),
    profile: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'must be a profile name').optional(),
    resume: z.string().regex(/^[a-z2-7]{20}$/, 'must be the id of an earlier session').optional(),
  })
  .strict();

export interface SessionRoutesOptions {
  manager: SessionManager;
  /** The WebSocket path for a session; may carry a one-time ticket for this caller. */
  wsUrlFor: (session: Session, req: import('express').Request) => string;
}

export function createSessionRoutes({ manager, wsUrlFor }: SessionRoutesOptions): Router {
  const router = Router();

  const ownSession = (req: import('express').Request): Session => {
    const id = String(req.params.id);
    const session = isSessionId(id) ? manager.get(getIdentity(req), id) : undefined;
    if (!session) throw new ApiError('not_found', 'no such session');
    return session;
  };

  router.post('/api/sessions', (req, res) => {
    const identity = getIdentity(req);
    const parsed = createSessionBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      throw new ApiError('bad_request', `${field}: ${issue?.message ?? 'invalid'}`);
    }
    const session = manager.create(identity, parsed.data);
    res.status(201).location(`/api/sessions/${session.id}`).json({ ...session.view(), wsUrl: wsUrlFor(session, req) });
  });

  router.get('/api/sessions', (req, res) => {
    res.json({ sessions: manager.list(getIdentity(req)).map((s) => s.view()) });
  });

  router.get('/api/sessions/:id', (req, res) => {
    res.json(ownSession(req).view());
  });

  /** A fresh wsUrl (e.g. a new one-time ticket) for reattaching to a running session. */
  router.post('/api/sessions/:id/attach', (req, res) => {
    const session = ownSession(req);
    if (!session.isActive) throw new ApiError('conflict', `session is ${session.state}`);
    res.json({ ...session.view(), wsUrl: wsUrlFor(session, req) });
  });

  // Administrators may end any session (but not see into or attach to it).
  router.delete('/api/sessions/:id', async (req, res) => {
    const id = String(req.params.id);
    const session = isSessionId(id) ? manager.getForEnding(getIdentity(req), id) : undefined;
    if (!session) throw new ApiError('not_found', 'no such session');
    await manager.end(session.id, 'deleted');
    res.status(204).end();
  });

  return router;
}
