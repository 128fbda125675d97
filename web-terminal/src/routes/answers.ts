// REST: server-verified stage answers. POST /api/sessions/:id/stages/:n/answer { "answer": string }.
// The session must be the caller's (findSession decides) and opened on a course; the stage must have a check.
import express, { Router } from 'express';
import { z } from 'zod';
import { getIdentity } from '../auth/identity.ts';
import { ApiError } from '../http/errors.ts';
import { describeReason } from '../../public/reasons.js';
import { MAX_ANSWER_BYTES, checkAnswer } from '../courses/answer-check.ts';
import type { CourseCatalog } from '../courses/catalog.ts';
import type { ProgressService } from '../courses/progress-service.ts';
import type { Identity, SessionEvent } from '../types.ts';

export interface AnswerSession {
  courseId: string | null;
  emit(event: SessionEvent): void;
}

export interface AnswerRoutesOptions {
  catalog: CourseCatalog;
  progress: ProgressService;
  /** The caller's session with that id, or undefined when it does not exist or belongs to someone else. */
  findSession: (identity: Identity, sessionId: string) => AnswerSession | undefined;
  /** Answers one user may submit per minute (guessing protection). */
  attemptsPerMinute?: number;
  now?: () => number;
}

const answerBodySchema = z
  .object({
    answer: z
      .string()
      .min(1, 'must not be empty')
      .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_ANSWER_BYTES, `must be at most ${MAX_ANSWER_BYTES} bytes`),
  })
  .strict();

const stageParamSchema = z.string().regex(/^[1-9][0-9]{0,3}$/).transform(Number);

/** Fixed one-minute windows per user; small and in memory, like the rest of the per-process limits. */
function createAttemptLimiter(limit: number, now: () => number) {
  const windows = new Map<string, { start: number; count: number }>();
  return (userId: string): void => {
    const t = now();
    if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= 60_000) windows.delete(k);
    const w = windows.get(userId);
    if (!w || t - w.start >= 60_000) {
      windows.set(userId, { start: t, count: 1 });
      return;
    }
    w.count += 1;
    if (w.count > limit) {
      throw new ApiError('rate_limited', describeReason('too_many_answers'), { retryAfterSeconds: (w.start + 60_000 - t) / 1000 });
    }
  };
}

export function createAnswerRoutes(options: AnswerRoutesOptions): Router {
  const { catalog, progress, findSession } = options;
  const limitAttempts = createAttemptLimiter(options.attemptsPerMinute ?? 30, options.now ?? Date.now);
  const router = Router();

  router.post('/api/sessions/:id/stages/:n/answer', express.json({ limit: MAX_ANSWER_BYTES * 2 }), (req, res) => {
    const identity = getIdentity(req);
    const session = findSession(identity, req.params.id);
    if (!session) throw new ApiError('not_found', 'no such session');
    if (!session.courseId) throw new ApiError('bad_request', 'this session was not opened on a course');
    const course = catalog.get(session.courseId);
    if (!course) throw new ApiError('not_found', `no course "${session.courseId}"`);
    const n = stageParamSchema.safeParse(req.params.n);
    const stage = n.success ? course.stages.find((s) => s.number === n.data) : undefined;
    if (!stage) throw new ApiError('not_found', `course "${course.id}" has no stage ${req.params.n}`);
    if (!stage.check) throw new ApiError('bad_request', `stage ${stage.number} has no answer to check; it completes in the terminal`);
    const body = answerBodySchema.safeParse(req.body);
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new ApiError('bad_request', `answer ${issue?.path.length ? `(${issue.path.join('.')}) ` : ''}${issue?.message ?? 'invalid'}`);
    }
    limitAttempts(identity.userId);
    if (!checkAnswer(stage.check, body.data.answer)) throw new ApiError('wrong_answer', describeReason('wrong_answer'));

    const outcome = progress.completeStage(identity.userId, course.id, stage.number, 'answer');
    for (const event of outcome.events) {
      try {
        session.emit(event);
      } catch {
        // The completion is committed; a viewer that cannot take the event reads it from the progress API.
      }
    }
    res.json({ correct: true, stage: stage.number, completedAt: outcome.completedAt, courseComplete: outcome.courseComplete });
  });

  return router;
}
