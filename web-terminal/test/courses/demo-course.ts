// A small in-memory course for tests: stage 2 has an exact check, stage 3 a pattern check.
import { hashAnswer } from '../../src/courses/answer-check.ts';
import type { Course } from '../../src/courses/schema.ts';

export const demoCourse: Course = {
  id: 'demo',
  title: 'Demo course',
  description: 'For tests',
  stagesSource: 'course.json',
  contentDir: '/nonexistent/demo/content',
  stages: [
    { number: 1, title: 'One', goal: 'Goal one', hint: 'A hint' },
    { number: 2, title: 'Two', goal: 'Goal two', check: { type: 'exact', sha256: hashAnswer('forty two') } },
    { number: 3, title: 'Three', goal: 'Goal three', check: { type: 'pattern', pattern: '^(8|eight)$', flags: 'i' } },
  ],
};
