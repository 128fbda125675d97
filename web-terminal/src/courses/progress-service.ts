// Stage completion as the rest of the service sees it: catalog rules + the durable store + the events to push.
// Events are returned only after the store committed, and only for what is newly completed, so a marker seen
// twice (e.g. on a screen redraw) or an answer sent twice never produces a second event.
import type { SessionEvent } from '../types.ts';
import { ApiError } from '../http/errors.ts';
import type { CourseCatalog } from './catalog.ts';
import type { Course } from './schema.ts';
import type { Marker } from './marker-detector.ts';
import type { CompletionSource, CourseProgress, ProgressStore } from '../db/progress.ts';

export interface CompletionOutcome {
  stage: number;
  completedAt: string;
  newlyCompleted: boolean;
  courseComplete: boolean;
  courseCompletedAt: string | null;
  /** Events to send to the session's viewer, in order (empty when nothing is new). */
  events: SessionEvent[];
}

/** Progress as the API returns it: the stored facts plus what the catalog knows about the course. */
export interface CourseProgressView extends CourseProgress {
  totalStages: number | null;
  /** First stage not completed yet, in order; null when all are done or the course is unknown. */
  currentStage: number | null;
}

export interface ProgressServiceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ProgressService {
  /** Records a stage as complete (idempotent). Throws ApiError not_found for an unknown course or stage. */
  completeStage(userId: string, courseId: string, stage: number, source: CompletionSource): CompletionOutcome;
  /**
   * Applies a marker found in a session's output. Never throws. Markers cannot complete stages that have a
   * server-verified check (the answer is the proof there); `[COURSE_COMPLETE]` completes the course only
   * when every stage is done.
   */
  handleMarker(userId: string, courseId: string, marker: Marker): SessionEvent[];
  describe(userId: string, courseId: string): CourseProgressView;
  describeAll(userId: string): CourseProgressView[];
}

export interface ProgressServiceOptions {
  catalog: CourseCatalog;
  store: ProgressStore;
  logger?: ProgressServiceLogger;
}

const silent: ProgressServiceLogger = { info: () => {}, warn: () => {} };

export function createProgressService({ catalog, store, logger = silent }: ProgressServiceOptions): ProgressService {
  function requireCourse(courseId: string): Course {
    const course = catalog.get(courseId);
    if (!course) throw new ApiError('not_found', `no course "${courseId}"`);
    return course;
  }

  /** Completes the course when every stage is done; returns the course_complete event if that is new. */
  function completeCourseIfDone(userId: string, course: Course): { done: boolean; completedAt: string | null; event?: SessionEvent } {
    const progress = store.getCourseProgress(userId, course.id);
    const done = new Set(progress.completedStages.map((s) => s.stage));
    if (!course.stages.every((s) => done.has(s.number))) return { done: false, completedAt: progress.completedAt };
    const result = store.recordCourseComplete({ userId, courseId: course.id });
    if (!result.newlyCompleted) return { done: true, completedAt: result.completedAt };
    logger.info({ courseId: course.id }, 'course completed');
    return { done: true, completedAt: result.completedAt, event: { name: 'course_complete', courseId: course.id, completedAt: result.completedAt } };
  }

  function completeStage(userId: string, courseId: string, stage: number, source: CompletionSource): CompletionOutcome {
    const course = requireCourse(courseId);
    if (!course.stages.some((s) => s.number === stage)) throw new ApiError('not_found', `course "${courseId}" has no stage ${stage}`);
    const recorded = store.recordStageComplete({ userId, courseId, stage, source });
    const events: SessionEvent[] = [];
    if (recorded.newlyCompleted) {
      logger.info({ courseId, stage, source }, 'stage completed');
      events.push({ name: 'stage_complete', courseId, stage, completedAt: recorded.completedAt });
    }
    // Checked even when the stage was already done: heals a crash between the two writes.
    const course_ = completeCourseIfDone(userId, course);
    if (course_.event) events.push(course_.event);
    return {
      stage,
      completedAt: recorded.completedAt,
      newlyCompleted: recorded.newlyCompleted,
      courseComplete: course_.done,
      courseCompletedAt: course_.completedAt,
      events,
    };
  }

  function handleMarker(userId: string, courseId: string, marker: Marker): SessionEvent[] {
    try {
      const course = catalog.get(courseId);
      if (!course) return [];
      if (marker.kind === 'course') {
        const result = completeCourseIfDone(userId, course);
        if (!result.done) logger.info({ courseId }, 'course marker ignored: stages still open');
        return result.event ? [result.event] : [];
      }
      const stage = course.stages.find((s) => s.number === marker.stage);
      if (!stage) {
        logger.info({ courseId, stage: marker.stage }, 'stage marker ignored: no such stage');
        return [];
      }
      if (stage.check) {
        logger.info({ courseId, stage: marker.stage }, 'stage marker ignored: stage needs a verified answer');
        return [];
      }
      return completeStage(userId, courseId, marker.stage, 'marker').events;
    } catch (err) {
      logger.warn({ err, courseId }, 'recording a stage marker failed');
      return [];
    }
  }

  function toView(progress: CourseProgress, course: Course | undefined): CourseProgressView {
    const done = new Set(progress.completedStages.map((s) => s.stage));
    return {
      ...progress,
      totalStages: course ? course.stages.length : null,
      currentStage: course?.stages.find((s) => !done.has(s.number))?.number ?? null,
    };
  }

  return {
    completeStage,
    handleMarker,
    describe(userId, courseId) {
      return toView(store.getCourseProgress(userId, courseId), requireCourse(courseId));
    },
    describeAll(userId) {
      const stored = new Map(store.getProgress(userId).map((p) => [p.courseId, p]));
      const empty = (courseId: string): CourseProgress => ({ courseId, completedStages: [], isCourseComplete: false, completedAt: null });
      const fromCatalog = catalog.list().map((c) => toView(stored.get(c.id) ?? empty(c.id), c));
      const retired = [...stored.values()].filter((p) => !catalog.get(p.courseId)).map((p) => toView(p, undefined));
      return [...fromCatalog, ...retired];
    },
  };
}
