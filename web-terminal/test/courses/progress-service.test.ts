import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCourseCatalog } from '../../src/courses/catalog.ts';
import { createProgressService } from '../../src/courses/progress-service.ts';
import { buildFirstPrompt, buildTutorBrief, startingStage } from '../../src/courses/first-prompt.ts';
import { hashAnswer } from '../../src/courses/answer-check.ts';
import { openProgressStore } from '../../src/db/progress.ts';
import { demoCourse as testCourse } from './demo-course.ts';


function setup(t: { after: (fn: () => void) => void }) {
  let ms = Date.UTC(2026, 4, 1);
  const store = openProgressStore(':memory:', { now: () => new Date((ms += 1000)) });
  t.after(() => store.close());
  const service = createProgressService({ catalog: createCourseCatalog([testCourse]), store });
  return { store, service };
}

test('completing a stage returns one stage_complete event, only the first time', (t) => {
  const { service } = setup(t);
  const first = service.completeStage('u1', 'demo', 1, 'marker');
  assert.equal(first.newlyCompleted, true);
  assert.deepEqual(first.events, [{ name: 'stage_complete', courseId: 'demo', stage: 1, completedAt: first.completedAt }]);
  const again = service.completeStage('u1', 'demo', 1, 'answer');
  assert.deepEqual({ ...again, events: again.events }, { ...first, newlyCompleted: false, events: [] });
});

test('completing the last open stage also completes the course, once', (t) => {
  const { service } = setup(t);
  service.completeStage('u1', 'demo', 3, 'marker');
  service.completeStage('u1', 'demo', 1, 'marker');
  const last = service.completeStage('u1', 'demo', 2, 'answer');
  assert.deepEqual(last.events.map((e) => e.name), ['stage_complete', 'course_complete']);
  assert.equal(last.courseComplete, true);
  assert.equal(service.completeStage('u1', 'demo', 2, 'answer').events.length, 0);
  const view = service.describe('u1', 'demo');
  assert.equal(view.isCourseComplete, true);
  assert.equal(view.currentStage, null);
  assert.equal(view.totalStages, 3);
});

test('markers: unchecked stages complete, checked stages and unknown stages do not, course marker needs all stages', (t) => {
  const { service } = setup(t);
  assert.deepEqual(service.handleMarker('u1', 'demo', { kind: 'stage', stage: 2 }), [], 'stage 2 needs its answer');
  assert.deepEqual(service.handleMarker('u1', 'demo', { kind: 'stage', stage: 9 }), []);
  assert.deepEqual(service.handleMarker('u1', 'nope', { kind: 'stage', stage: 1 }), []);
  assert.equal(service.handleMarker('u1', 'demo', { kind: 'stage', stage: 1 })[0]?.name, 'stage_complete');
  assert.deepEqual(service.handleMarker('u1', 'demo', { kind: 'course' }), [], 'stages still open');
  assert.equal(service.describe('u1', 'demo').currentStage, 2);
  service.handleMarker('u1', 'demo', { kind: 'stage', stage: 3 });
  service.completeStage('u1', 'demo', 2, 'answer');
  assert.deepEqual(service.handleMarker('u1', 'demo', { kind: 'course' }), [], 'already complete: no second event');
});

test('a crash between the stage write and the course write heals on the next completion call', (t) => {
  const { store, service } = setup(t);
  for (const stage of [1, 2, 3]) store.recordStageComplete({ userId: 'u1', courseId: 'demo', stage, source: 'marker' });
  assert.equal(service.describe('u1', 'demo').isCourseComplete, false);
  const outcome = service.completeStage('u1', 'demo', 3, 'marker');
  assert.deepEqual(outcome.events.map((e) => e.name), ['course_complete']);
});

test('unknown course or stage is a not_found error; describeAll lists catalog courses', (t) => {
  const { service } = setup(t);
  assert.throws(() => service.completeStage('u1', 'nope', 1, 'marker'), { code: 'not_found' });
  assert.throws(() => service.completeStage('u1', 'demo', 4, 'marker'), { code: 'not_found' });
  assert.deepEqual(service.describeAll('u1'), [
    { courseId: 'demo', completedStages: [], isCourseComplete: false, completedAt: null, totalStages: 3, currentStage: 1 },
  ]);
});

test('the first message names the stage; the tutor brief orients to the course; neither carries checks', () => {
  const prompt = buildFirstPrompt(testCourse, 2);
  assert.equal(prompt, 'Let\'s start stage 2 of 3: "Two".');
  const brief = buildTutorBrief(testCourse);
  assert.match(brief, /Demo course/);
  assert.match(brief, /Stage 2, "Two"/);
  for (const text of [prompt, brief]) assert.ok(!text.includes(hashAnswer('forty two')));
  assert.equal(startingStage(testCourse, 3), 3);
  assert.equal(startingStage(testCourse, 7, [1]), 2);
  assert.equal(startingStage(testCourse, undefined, [1, 2, 3]), 1);
});
