// REST: course and stage definitions, as clients may see them (never checks or answers).
import { Router } from 'express';
import { getIdentity } from '../auth/identity.ts';
import { ApiError } from '../http/errors.ts';
import type { CourseCatalog } from '../courses/catalog.ts';

export interface CourseRoutesOptions {
  catalog: CourseCatalog;
}

export function createCourseRoutes({ catalog }: CourseRoutesOptions): Router {
  const router = Router();

  router.get('/api/courses', (req, res) => {
    getIdentity(req);
    res.json({ courses: catalog.publicView() });
  });

  router.get('/api/courses/:courseId/stages', (req, res) => {
    getIdentity(req);
    const courseId = req.params.courseId;
    const stages = catalog.publicStages(courseId);
    if (!stages) throw new ApiError('not_found', `no course "${courseId}"`);
    res.json({ courseId, stages });
  });

  return router;
}
