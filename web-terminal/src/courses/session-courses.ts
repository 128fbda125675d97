// Connects courses to sessions: what the manager needs to open a session on a course, and the marker
// detector that turns a session's output into recorded progress and live events.
import type { Logger } from 'pino';
import type { CourseRef } from '../sessions/manager.ts';
import type { Session } from '../sessions/session.ts';
import type { CourseCatalog } from './catalog.ts';
import { buildFirstPrompt, buildTutorBrief, startingStage } from './first-prompt.ts';
import { MarkerDetector } from './marker-detector.ts';
import type { ProgressService } from './progress-service.ts';

export function courseRefs(catalog: CourseCatalog, progress: ProgressService): (courseId: string, userId: string) => CourseRef | undefined {
  return (courseId, userId) => {
    const course = catalog.get(courseId);
    if (!course) return undefined;
    const stageNumbers = course.stages.map((s) => s.number);
    return {
      id: course.id,
      contentDir: course.contentDir,
      stageNumbers,
      startingStage: (requested) => {
        const completed = progress.describe(userId, course.id).completedStages.map((s) => s.stage);
        return startingStage(course, requested, completed);
      },
      initialPrompt: (stage) => buildFirstPrompt(course, stage),
      tutorBrief: buildTutorBrief(course),
    };
  };
}

/** Watches a course session's output for completion markers; records them and pushes the events. */
export function watchForMarkers(session: Session, progress: ProgressService, logger: Logger): void {
  const courseId = session.courseId;
  if (!courseId) return;
  const detector = new MarkerDetector();
  session.onInput((chunk) => detector.noteInput(chunk));
  session.onOutput((chunk) => {
    for (const marker of detector.push(chunk)) {
      const userId = session.ownerId;
      if (!userId) {
        logger.warn({ sessionId: session.id, marker }, 'marker seen before the owner is known; not recorded');
        continue;
      }
      for (const event of progress.handleMarker(userId, courseId, marker)) session.emitEvent(event);
    }
  });
}
