// Loads every course under COURSES_DIR once at boot. A broken course is reported (file + field) and skipped;
// it never takes the service down. The catalog is the only place that sees checks; `publicView` strips them.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { claudeMdStagesObjectSchema, courseFileSchema, stageListSchema } from './schema.ts';
import type { Course, PublicCourse, PublicStage, Stage } from './schema.ts';
import { extractStagesBlock, findChecks } from './claude-md-stages.ts';

export interface CourseLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** One reason a course was skipped. `field` is a dotted path inside `file`, or null for the whole file. */
export interface CourseProblem {
  courseDir: string;
  file: string;
  field: string | null;
  message: string;
}

export interface CourseCatalog {
  list(): readonly Course[];
  get(id: string): Course | undefined;
  /** Client-safe views: no checks, no file paths. */
  publicView(): PublicCourse[];
  publicStages(id: string): PublicStage[] | undefined;
  /** Absolute path of the course's content folder (mounted read-only at /workspace), or undefined. */
  contentDir(id: string): string | undefined;
  /** Why courses were skipped at load time. */
  readonly problems: readonly CourseProblem[];
}

export const COURSE_FILE = 'course.json';
export const CONTENT_DIR = 'content';
export const CLAUDE_MD = 'CLAUDE.md';

class CourseLoadError extends Error {
  readonly problems: Omit<CourseProblem, 'courseDir'>[];
  constructor(problems: Omit<CourseProblem, 'courseDir'>[]) {
    super(problems.map((p) => `${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('; '));
    this.problems = problems;
  }
}

function formatPath(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function zodProblems(file: string, error: z.ZodError): Omit<CourseProblem, 'courseDir'>[] {
  return error.issues.map((issue) => ({ file, field: formatPath(issue.path), message: issue.message }));
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function readJsonFile(path: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CourseLoadError([{ file, field: null, message: code === 'ENOENT' ? 'missing' : `unreadable (${code ?? 'error'})` }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CourseLoadError([{ file, field: null, message: `not valid JSON: ${(err as Error).message}` }]);
  }
}

async function stagesFromClaudeMd(path: string, file: string): Promise<Stage[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const block = extractStagesBlock(text);
  if (!block.found) return undefined;
  if (!block.ok) throw new CourseLoadError([{ file, field: null, message: block.message }]);
  const checks = findChecks(block.value);
  if (checks.length > 0) {
    throw new CourseLoadError(
      checks.map((field) => ({ file, field, message: 'checks are not allowed here: the sandbox can read CLAUDE.md; put them in course.json' })),
    );
  }
  // Pick the shape first, so errors point at the field rather than at "neither alternative matched".
  if (Array.isArray(block.value)) {
    const parsed = stageListSchema.safeParse(block.value);
    if (!parsed.success) throw new CourseLoadError(zodProblems(file, parsed.error));
    return parsed.data;
  }
  const parsed = claudeMdStagesObjectSchema.safeParse(block.value);
  if (!parsed.success) throw new CourseLoadError(zodProblems(file, parsed.error));
  return parsed.data.stages;
}

/** Loads one course folder; throws CourseLoadError describing every problem found. */
async function loadCourse(courseDir: string, folderName: string): Promise<Course> {
  const courseFile = `${folderName}/${COURSE_FILE}`;
  const parsed = courseFileSchema.safeParse(await readJsonFile(join(courseDir, COURSE_FILE), courseFile));
  if (!parsed.success) throw new CourseLoadError(zodProblems(courseFile, parsed.error));
  const meta = parsed.data;
  if (meta.id !== folderName) {
    throw new CourseLoadError([{ file: courseFile, field: 'id', message: `must equal the folder name "${folderName}"` }]);
  }
  const contentPath = join(courseDir, CONTENT_DIR);
  if (!(await isDirectory(contentPath))) {
    throw new CourseLoadError([{ file: `${folderName}/${CONTENT_DIR}`, field: null, message: 'missing content folder (mounted at /workspace)' }]);
  }
  const claudeMdFile = `${folderName}/${CONTENT_DIR}/${CLAUDE_MD}`;
  let stages: Stage[] | undefined = meta.stages;
  let stagesSource: Course['stagesSource'] = 'course.json';
  if (!stages || stages.length === 0) {
    stages = await stagesFromClaudeMd(join(contentPath, CLAUDE_MD), claudeMdFile);
    stagesSource = 'CLAUDE.md';
  }
  if (!stages || stages.length === 0) {
    throw new CourseLoadError([
      { file: courseFile, field: 'stages', message: `no stages: define them in course.json or in a \`\`\`json stages block of ${CLAUDE_MD}` },
    ]);
  }
  return {
    id: meta.id,
    title: meta.title,
    description: meta.description,
    stages: Object.freeze(stages.map((s) => Object.freeze({ ...s }))),
    stagesSource,
    contentDir: await realpath(contentPath),
  };
}

export function toPublicStage(stage: Stage): PublicStage {
  return { number: stage.number, title: stage.title, goal: stage.goal, hint: stage.hint ?? null, hasCheck: stage.check !== undefined };
}

export function createCourseCatalog(courses: readonly Course[], problems: readonly CourseProblem[] = []): CourseCatalog {
  const byId = new Map(courses.map((c) => [c.id, c]));
  const sorted = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  return {
    list: () => sorted,
    get: (id) => byId.get(id),
    publicView: () => sorted.map((c) => ({ id: c.id, title: c.title, description: c.description, stageCount: c.stages.length })),
    publicStages: (id) => byId.get(id)?.stages.map(toPublicStage),
    contentDir: (id) => byId.get(id)?.contentDir,
    problems: Object.freeze([...problems]),
  };
}

/** Reads every `<dir>/<id>/` folder. Never throws for a bad course; a missing `dir` gives an empty catalog. */
export async function loadCourseCatalog(dir: string, logger: CourseLogger): Promise<CourseCatalog> {
  const root = resolve(dir);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (err) {
    logger.warn({ coursesDir: root, code: (err as NodeJS.ErrnoException).code }, 'courses folder not readable: no courses available');
    return createCourseCatalog([], []);
  }
  const courses: Course[] = [];
  const problems: CourseProblem[] = [];
  for (const name of entries.sort()) {
    const courseDir = join(root, name);
    try {
      const course = await loadCourse(courseDir, name);
      courses.push(course);
      logger.info({ courseId: course.id, stages: course.stages.length, stagesSource: course.stagesSource }, 'course loaded');
    } catch (err) {
      const found = err instanceof CourseLoadError ? err.problems : [{ file: name, field: null, message: (err as Error).message }];
      for (const problem of found) {
        problems.push({ courseDir, ...problem });
        logger.warn({ courseDir, file: problem.file, field: problem.field, problem: problem.message }, 'course skipped: invalid');
      }
    }
  }
  return createCourseCatalog(courses, problems);
}
