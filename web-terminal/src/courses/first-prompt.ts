// The first prompt a course session starts Claude Code with: orients it to the course and the starting stage.
// Pure; never includes checks (they stay server-side).
import type { Course } from './schema.ts';

/** The stage a session starts on: the requested one if it exists, else the first not yet completed, else 1. */
export function startingStage(course: Course, requested: number | null | undefined, completed: readonly number[] = []): number {
  if (requested !== null && requested !== undefined && course.stages.some((s) => s.number === requested)) return requested;
  const done = new Set(completed);
  return course.stages.find((s) => !done.has(s.number))?.number ?? 1;
}

export function buildFirstPrompt(course: Course, stageNumber: number): string {
  const stage = course.stages.find((s) => s.number === stageNumber) ?? course.stages[0];
  const lines = [
    `You are guiding a learner through the course "${course.title}". The course material is in the current folder; read CLAUDE.md first and follow it.`,
    stage ? `We are starting at stage ${stage.number} of ${course.stages.length}: "${stage.title}". Goal: ${stage.goal}` : '',
    'Greet the learner briefly, say what this stage is about, and ask your first question.',
  ];
  return lines.filter(Boolean).join('\n');
}
