// REST: the caller's progress, overall and per course. Always the caller's own: the user id comes from identity.
import { Router } from 'express';
import { getIdentity } from '../auth/identity.ts';
import type { CourseCatalog } from '../courses/catalog.ts';
import { createProgressService } from '../courses/progress-service.ts';
import type { ProgressStore } from '../db/progress.ts';

export interface ProgressRoutesOptions {
  catalog: CourseCatalog;
  store: ProgressStore;
}

export function createProgressRoutes({ catalog, store }: ProgressRoutesOptions): Router {
  const progress = createProgressService({ catalog, store });
  const router = Router();

  router.get('/api/progress', (req, res) => {
    const { userId } = getIdentity(req);
    res.json({ courses: progress.describeAll(userId) });
  });

  router.get('/api/progress/:courseId', (req, res) => {
    const { userId } = getIdentity(req);
    res.json(progress.describe(userId, req.params.courseId));
  });

  return router;
}
