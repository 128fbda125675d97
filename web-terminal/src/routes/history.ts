// REST: the caller's session history, and their saved conversations (Markdown download, delete).
// Always the caller's own: another user's session id answers exactly like an unknown one (404).
import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { getIdentity } from '../auth/identity.ts';
import type { HistoryEntry, HistoryStore } from '../db/history.ts';
import type { ProgressStore } from '../db/progress.ts';
import { transcriptToMarkdown } from '../history/markdown.ts';
import { ApiError } from '../http/errors.ts';
import type { SessionManager } from '../sessions/manager.ts';
import { isSessionId } from '../sessions/ids.ts';

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();

export interface HistoryRoutesOptions {
  store: HistoryStore;
  progress: ProgressStore;
  manager: SessionManager;
}

export function createHistoryRoutes({ store, progress, manager }: HistoryRoutesOptions): Router {
  const router = Router();

  const sessionIdParam = (req: Request): string => {
    const id = String(req.params.sessionId);
    if (!isSessionId(id)) throw new ApiError('not_found', 'no saved conversation for that session');
    return id;
  };

  /** Stages first completed while the session ran. */
  const stagesDuring = (userId: string, entry: HistoryEntry, cache: Map<string, { stage: number; completedAt: string }[]>): number[] => {
    if (!entry.courseId) return [];
    let stages = cache.get(entry.courseId);
    if (!stages) {
      stages = progress.getCourseProgress(userId, entry.courseId).completedStages;
      cache.set(entry.courseId, stages);
    }
    const end = entry.endedAt ?? '\uffff';
    return stages.filter((s) => s.completedAt >= entry.createdAt && s.completedAt <= end).map((s) => s.stage);
  };

  router.get('/api/history', (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw new ApiError('bad_request', `limit: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const identity = getIdentity(req);
    const cache = new Map<string, { stage: number; completedAt: string }[]>();
    const sessions = store.list(identity.userId, parsed.data.limit).map((entry) => {
      const live = manager.get(identity, entry.sessionId);
      const state = live?.state ?? entry.state ?? 'ended';
      const endedAt = live ? live.view().endedAt : entry.endedAt;
      const end = endedAt ? Date.parse(endedAt) : Date.now();
      return {
        id: entry.sessionId,
        courseId: entry.courseId,
        state,
        reason: live ? live.reason : entry.reason,
        active: live?.isActive ?? false,
        createdAt: entry.createdAt,
        endedAt,
        durationSeconds: Math.max(0, Math.round((end - Date.parse(entry.createdAt)) / 1000)),
        stagesCompleted: stagesDuring(identity.userId, { ...entry, endedAt }, cache),
        conversation: entry.conversation,
        canContinue: entry.conversation !== null,
      };
    });
    res.json({ sessions });
  });

  router.get('/api/conversations/:sessionId/markdown', (req, res) => {
    const id = sessionIdParam(req);
    const saved = store.getTranscript(getIdentity(req).userId, id);
    if (!saved) throw new ApiError('not_found', 'no saved conversation for that session');
    const markdown = transcriptToMarkdown(saved.content, { sessionId: id, courseId: saved.courseId, savedAt: saved.savedAt, truncated: saved.truncated });
    res
      .status(200)
      .type('text/markdown; charset=utf-8')
      .setHeader('content-disposition', `attachment; filename="conversation-${id}.md"`)
      .setHeader('cache-control', 'no-store')
      .send(markdown);
  });

  router.delete('/api/conversations/:sessionId', (req, res) => {
    const id = sessionIdParam(req);
    if (!store.deleteTranscript(getIdentity(req).userId, id)) throw new ApiError('not_found', 'no saved conversation for that session');
    res.status(204).end();
  });

  return router;
}
