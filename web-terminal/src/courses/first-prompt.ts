// What a course session starts Claude Code with: the tutor's brief (system prompt) and the learner's
// first message (the starting stage). Pure; never includes checks (they stay server-side).
import type { Course } from './schema.ts';

/** The stage a session starts on: the requested one if it exists, else the first not yet completed, else 1. */
export function startingStage(course: Course, requested: number | null | undefined, completed: readonly number[] = []): number {
  if (requested !== null && requested !== undefined && course.stages.some((s) => s.number === requested)) return requested;
  const done = new Set(completed);
  return course.stages.find((s) => !done.has(s.number))?.number ?? 1;
}

/**
 * The tutor's instructions for a course, given to Claude Code as an addition to its system prompt, so
 * they never show on the learner's screen as if typed. Course-wide (no stage): a warm sandbox made for
 * the course before anyone claims it starts with it too.
 */
export function buildTutorBrief(course: Course): string {
  const stages = course.stages.map((s) => `- Stage ${s.number}, "${s.title}": ${s.goal}`);
  return [
    `You are guiding a learner through the course "${course.title}". The course material is in the current folder; read CLAUDE.md first and follow it.`,
    stages.length ? `The stages:\n${stages.join('\n')}` : '',
    'The learner\'s first message says which stage they start at: greet them briefly, say what that stage is about, and ask your first question.',
  ].filter(Boolean).join('\n');
}

/** The learner's visible first message: one short line naming the stage (the instructions are in the brief). */
export function buildFirstPrompt(course: Course, stageNumber: number): string {
  const stage = course.stages.find((s) => s.number === stageNumber) ?? course.stages[0];
  return stage ? `Let's start stage ${stage.number} of ${course.stages.length}: "${stage.title}".` : `Let's start the course "${course.title}".`;
}
