// The course format: what course.json (and a CLAUDE.md stage block) may contain. Validated with zod at load time.
import { z } from 'zod';

export const COURSE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_STAGES = 100;

const hexSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256 of the normalised answer)');

/** Only flags that change matching, never stateful ones (g, y) that would make `test` depend on the last call. */
const regexFlags = z.string().regex(/^[imsu]{0,4}$/, 'only the flags i, m, s and u are allowed');

export const exactCheckSchema = z.object({ type: z.literal('exact'), sha256: hexSha256 }).strict();

export const patternCheckSchema = z
  .object({ type: z.literal('pattern'), pattern: z.string().min(1).max(1000), flags: regexFlags.optional() })
  .strict()
  .superRefine((check, ctx) => {
    try {
      new RegExp(check.pattern, check.flags ?? '');
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${(err as Error).message}` });
    }
  });

export const stageCheckSchema = z.union([exactCheckSchema, patternCheckSchema]);

export const stageSchema = z
  .object({
    number: z.number().int().min(1).max(9999),
    title: z.string().min(1).max(200),
    goal: z.string().min(1).max(2000),
    hint: z.string().min(1).max(2000).optional(),
    check: stageCheckSchema.optional(),
  })
  .strict();

/** Stages are numbered 1..n in order, so "the last stage" and "the current stage" are unambiguous. */
export const stageListSchema = z
  .array(stageSchema)
  .max(MAX_STAGES)
  .superRefine((stages, ctx) => {
    stages.forEach((stage, index) => {
      if (stage.number !== index + 1) {
        ctx.addIssue({ code: 'custom', path: [index, 'number'], message: `expected ${index + 1}: stages are numbered 1..n in order` });
      }
    });
  });

export const courseFileSchema = z
  .object({
    id: z.string().regex(COURSE_ID_PATTERN, 'lowercase letters, digits and dashes, at most 63 characters'),
    title: z.string().min(1).max(200),
    description: z.string().min(1).max(4000),
    stages: stageListSchema.optional(),
  })
  .strict();

/** The block inside CLAUDE.md: either a bare array of stages or `{ "stages": [...] }`. Never checks (see loader). */
export const claudeMdStagesObjectSchema = z.object({ stages: stageListSchema }).strict();

export type StageCheck = z.infer<typeof stageCheckSchema>;
export type Stage = z.infer<typeof stageSchema>;
export type CourseFile = z.infer<typeof courseFileSchema>;

/** A loaded, valid course (server side: includes checks). */
export interface Course {
  id: string;
  title: string;
  description: string;
  stages: readonly Stage[];
  /** Where the stages came from, for operators. */
  stagesSource: 'course.json' | 'CLAUDE.md';
  /** Absolute path of the folder mounted read-only at /workspace. */
  contentDir: string;
}

/** What clients may see of a stage: never the check itself. */
export interface PublicStage {
  number: number;
  title: string;
  goal: string;
  hint: string | null;
  hasCheck: boolean;
}

export interface PublicCourse {
  id: string;
  title: string;
  description: string;
  stageCount: number;
}
