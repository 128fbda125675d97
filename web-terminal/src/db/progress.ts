// Durable per-user progress in SQLite (better-sqlite3: synchronous, so a returned call is a committed write).
// WAL + synchronous=FULL: a write that returned survives kill -9 of the service (and power loss).
// Writes are idempotent: the first completion wins and keeps its time.
import { openDatabase } from './open.ts';

export type CompletionSource = 'marker' | 'answer';

export interface StageCompletion {
  stage: number;
  completedAt: string;
  source: CompletionSource;
}

export interface CourseProgress {
  courseId: string;
  completedStages: StageCompletion[];
  isCourseComplete: boolean;
  completedAt: string | null;
}

export interface RecordStageInput {
  userId: string;
  courseId: string;
  stage: number;
  source: CompletionSource;
}

export interface RecordResult {
  completedAt: string;
  /** False when it was already recorded (then `completedAt` is the first time). */
  newlyCompleted: boolean;
}

export interface ProgressStore {
  recordStageComplete(input: RecordStageInput): RecordResult & { stage: number; source: CompletionSource };
  recordCourseComplete(input: { userId: string; courseId: string }): RecordResult;
  /** Every course the user has progress in, ordered by course id. */
  getProgress(userId: string): CourseProgress[];
  /** The user's progress in one course (empty when none). */
  getCourseProgress(userId: string, courseId: string): CourseProgress;
  /** True when the database answers (for readiness). */
  isHealthy(): boolean;
  /** The connection's durability settings, for diagnostics and tests. */
  settings(): { journalMode: string; synchronous: number; foreignKeys: boolean; schemaVersion: number };
  close(): void;
}

export interface ProgressStoreOptions {
  /** Clock, for tests. */
  now?: () => Date;
  /** How long a writer waits for another connection's lock. */
  busyTimeoutMs?: number;
}

const MAX_ID_LENGTH = 256;

function assertId(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw new TypeError(`${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
}

function assertStage(stage: number): void {
  if (!Number.isInteger(stage) || stage < 1) throw new TypeError('stage must be a positive integer');
}

interface StageRow {
  course_id: string;
  stage: number;
  completed_at: string;
  source: CompletionSource;
}

interface CourseRow {
  course_id: string;
  completed_at: string | null;
}

export function openProgressStore(path: string, options: ProgressStoreOptions = {}): ProgressStore {
  const now = options.now ?? (() => new Date());
  const db = openDatabase(path, { busyTimeoutMs: options.busyTimeoutMs, what: 'progress' });

  const ensureCourse = db.prepare('INSERT INTO course_progress (user_id, course_id, started_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  const insertStage = db.prepare(
    'INSERT INTO stage_completions (user_id, course_id, stage, completed_at, source) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const readStage = db.prepare<[string, string, number], StageRow>(
    'SELECT course_id, stage, completed_at, source FROM stage_completions WHERE user_id = ? AND course_id = ? AND stage = ?',
  );
  const completeCourse = db.prepare('UPDATE course_progress SET completed_at = ? WHERE user_id = ? AND course_id = ? AND completed_at IS NULL');
  const readCourse = db.prepare<[string, string], CourseRow>('SELECT course_id, completed_at FROM course_progress WHERE user_id = ? AND course_id = ?');
  const readCourses = db.prepare<[string], CourseRow>('SELECT course_id, completed_at FROM course_progress WHERE user_id = ? ORDER BY course_id');
  const readStagesOfCourse = db.prepare<[string, string], StageRow>(
    'SELECT course_id, stage, completed_at, source FROM stage_completions WHERE user_id = ? AND course_id = ? ORDER BY stage',
  );
  const readStagesOfUser = db.prepare<[string], StageRow>(
    'SELECT course_id, stage, completed_at, source FROM stage_completions WHERE user_id = ? ORDER BY course_id, stage',
  );

  const timestamp = (): string => now().toISOString();
  const toCompletion = (row: StageRow): StageCompletion => ({ stage: row.stage, completedAt: row.completed_at, source: row.source });

  const recordStage = db.transaction((input: RecordStageInput) => {
    const at = timestamp();
    ensureCourse.run(input.userId, input.courseId, at);
    const inserted = insertStage.run(input.userId, input.courseId, input.stage, at, input.source).changes === 1;
    const row = readStage.get(input.userId, input.courseId, input.stage);
    if (!row) throw new Error('stage completion missing after insert');
    return { stage: row.stage, completedAt: row.completed_at, source: row.source, newlyCompleted: inserted };
  });

  const recordCourse = db.transaction((userId: string, courseId: string) => {
    const at = timestamp();
    ensureCourse.run(userId, courseId, at);
    const updated = completeCourse.run(at, userId, courseId).changes === 1;
    const row = readCourse.get(userId, courseId);
    if (!row?.completed_at) throw new Error('course completion missing after update');
    return { completedAt: row.completed_at, newlyCompleted: updated };
  });

  const readUser = db.transaction((userId: string): CourseProgress[] => {
    const stages = readStagesOfUser.all(userId);
    return readCourses.all(userId).map((course) => ({
      courseId: course.course_id,
      completedStages: stages.filter((s) => s.course_id === course.course_id).map(toCompletion),
      isCourseComplete: course.completed_at !== null,
      completedAt: course.completed_at,
    }));
  });

  const readOne = db.transaction((userId: string, courseId: string): CourseProgress => {
    const course = readCourse.get(userId, courseId);
    return {
      courseId,
      completedStages: readStagesOfCourse.all(userId, courseId).map(toCompletion),
      isCourseComplete: Boolean(course?.completed_at),
      completedAt: course?.completed_at ?? null,
    };
  });

  return {
    recordStageComplete(input) {
      assertId('userId', input.userId);
      assertId('courseId', input.courseId);
      assertStage(input.stage);
      if (input.source !== 'marker' && input.source !== 'answer') throw new TypeError('source must be marker or answer');
      return recordStage.immediate(input);
    },
    recordCourseComplete({ userId, courseId }) {
      assertId('userId', userId);
      assertId('courseId', courseId);
      return recordCourse.immediate(userId, courseId);
    },
    getProgress(userId) {
      assertId('userId', userId);
      return readUser(userId);
    },
    getCourseProgress(userId, courseId) {
      assertId('userId', userId);
      assertId('courseId', courseId);
      return readOne(userId, courseId);
    },
    isHealthy() {
      try {
        return db.open && db.prepare('SELECT 1 AS ok').get() !== undefined;
      } catch {
        return false;
      }
    },
    settings() {
      return {
        journalMode: db.pragma('journal_mode', { simple: true }) as string,
        synchronous: db.pragma('synchronous', { simple: true }) as number,
        foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
        schemaVersion: db.pragma('user_version', { simple: true }) as number,
      };
    },
    close() {
      if (db.open) db.close();
    },
  };
}
