import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { setIdentity } from '../../src/auth/identity.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { createCourseCatalog } from '../../src/courses/catalog.ts';
import { createProgressService } from '../../src/courses/progress-service.ts';
import { openProgressStore } from '../../src/db/progress.ts';
import { createCourseRoutes } from '../../src/routes/stages.ts';
import { createProgressRoutes } from '../../src/routes/progress.ts';
import { createAnswerRoutes } from '../../src/routes/answers.ts';
import type { Identity, SessionEvent } from '../../src/types.ts';
import { assertMatchesOpenApi, assertMatchesSchema } from '../helpers/openapi.ts';
import { demoCourse } from './demo-course.ts';

interface FakeSession {
  owner: string;
  courseId: string | null;
  events: SessionEvent[];
}

async function startApp(t: { after: (fn: () => Promise<void> | void) => void }, opts: { attemptsPerMinute?: number } = {}) {
  const catalog = createCourseCatalog([demoCourse]);
  const store = openProgressStore(':memory:');
  const progress = createProgressService({ catalog, store });
  const sessions = new Map<string, FakeSession>([
    ['aaaaaaaaaaaaaaaaaaaa', { owner: 'alice', courseId: 'demo', events: [] }],
    ['bbbbbbbbbbbbbbbbbbbb', { owner: 'bob', courseId: 'demo', events: [] }],
    ['cccccccccccccccccccc', { owner: 'alice', courseId: null, events: [] }],
  ]);
  const app = express();
  app.use(express.json({ limit: '64kb' }));
  app.use((req, _res, next) => {
    const user = req.get('x-test-user');
    if (user) setIdentity(req, { userId: user, displayName: user, isAdmin: false } satisfies Identity);
    next();
  });
  app.use(createCourseRoutes({ catalog }));
  app.use(createProgressRoutes({ catalog, store }));
  app.use(
    createAnswerRoutes({
      catalog,
      progress,
      attemptsPerMinute: opts.attemptsPerMinute,
      findSession: (identity, id) => {
        const s = sessions.get(id);
        if (!s || s.owner !== identity.userId) return undefined;
        return { courseId: s.courseId, emit: (event) => s.events.push(event) };
      },
    }),
  );
  app.use(errorHandler({ error: () => {} }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  t.after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    store.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Calls the API and validates the response against docs/openapi.yaml. */
  async function call(method: string, path: string, template: string, opts: { user?: string | null; body?: unknown; raw?: string } = {}) {
    const headers: Record<string, string> = {};
    if (opts.user !== null) headers['x-test-user'] = opts.user ?? 'alice';
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) });
    const text = await res.text();
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    assertMatchesOpenApi(method, template, res.status, body);
    return { status: res.status, body: body as Record<string, any>, headers: res.headers }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  return { call, sessions, store };
}

const ANSWER = '/api/sessions/{sessionId}/stages/{stage}/answer';

test('courses and stages are listed without any check or answer', async (t) => {
  const { call } = await startApp(t);
  const courses = await call('GET', '/api/courses', '/api/courses');
  assert.equal(courses.status, 200);
  assert.deepEqual(courses.body, { courses: [{ id: 'demo', title: 'Demo course', description: 'For tests', stageCount: 3 }] });
  const stages = await call('GET', '/api/courses/demo/stages', '/api/courses/{courseId}/stages');
  assert.equal(stages.status, 200);
  assert.deepEqual(stages.body.stages.map((s: { hasCheck: boolean }) => s.hasCheck), [false, true, true]);
  const text = JSON.stringify(stages.body);
  for (const secret of ['sha256', 'pattern', 'eight', demoCourse.stages[1]?.check?.type === 'exact' ? demoCourse.stages[1].check.sha256 : 'x']) {
    assert.ok(!text.includes(secret), `stages leak ${secret}`);
  }
  const missing = await call('GET', '/api/courses/nope/stages', '/api/courses/{courseId}/stages');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'not_found');
});

test('every endpoint requires an identity', async (t) => {
  const { call } = await startApp(t);
  for (const [method, path, template] of [
    ['GET', '/api/courses', '/api/courses'],
    ['GET', '/api/courses/demo/stages', '/api/courses/{courseId}/stages'],
    ['GET', '/api/progress', '/api/progress'],
    ['GET', '/api/progress/demo', '/api/progress/{courseId}'],
    ['POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER],
  ] as const) {
    const res = await call(method, path, template, { user: null, body: method === 'POST' ? { answer: 'x' } : undefined });
    assert.equal(res.status, 401, path);
    assert.equal(res.body.error.code, 'unauthenticated');
  }
});

test('a wrong answer is refused; the right one completes the stage once and pushes the event', async (t) => {
  const { call, sessions } = await startApp(t);
  const wrong = await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER, { body: { answer: 'forty three' } });
  assert.equal(wrong.status, 422);
  assert.equal(wrong.body.error.code, 'wrong_answer');

  const right = await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER, { body: { answer: '  Forty   TWO ' } });
  assert.equal(right.status, 200);
  assert.equal(right.body.correct, true);
  assert.equal(right.body.courseComplete, false);
  const events = sessions.get('aaaaaaaaaaaaaaaaaaaa')?.events ?? [];
  assert.deepEqual(events, [{ name: 'stage_complete', courseId: 'demo', stage: 2, completedAt: right.body.completedAt }]);
  for (const event of events) assertMatchesSchema('StageCompleteEvent', { type: 'event', ...event });

  const again = await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER, { body: { answer: 'forty two' } });
  assert.equal(again.body.completedAt, right.body.completedAt, 'the first completion time is kept');
  assert.equal(events.length, 1, 'no second event');

  const progress = await call('GET', '/api/progress/demo', '/api/progress/{courseId}');
  assert.deepEqual(progress.body, {
    courseId: 'demo',
    completedStages: [{ stage: 2, completedAt: right.body.completedAt, source: 'answer' }],
    isCourseComplete: false,
    completedAt: null,
    totalStages: 3,
    currentStage: 1,
  });
  const bobs = await call('GET', '/api/progress/demo', '/api/progress/{courseId}', { user: 'bob' });
  assert.deepEqual(bobs.body.completedStages, [], 'progress is per user');
});

test('the last stage completes the course and pushes course_complete', async (t) => {
  const { call, sessions, store } = await startApp(t);
  store.recordStageComplete({ userId: 'alice', courseId: 'demo', stage: 1, source: 'marker' });
  await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER, { body: { answer: 'forty two' } });
  const last = await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/3/answer', ANSWER, { body: { answer: 'Eight' } });
  assert.equal(last.status, 200);
  assert.equal(last.body.courseComplete, true);
  const events = sessions.get('aaaaaaaaaaaaaaaaaaaa')?.events ?? [];
  assert.deepEqual(events.map((e) => e.name), ['stage_complete', 'stage_complete', 'course_complete']);
  assertMatchesSchema('CourseCompleteEvent', { type: 'event', ...events[2] });

  const all = await call('GET', '/api/progress', '/api/progress');
  assert.equal(all.body.courses.length, 1);
  assert.equal(all.body.courses[0].isCourseComplete, true);
  assert.equal(all.body.courses[0].currentStage, null);
});

test('answers: foreign or unknown sessions are 404, bad stages and bodies are refused', async (t) => {
  const { call } = await startApp(t);
  const path = (session: string, stage: string) => `/api/sessions/${session}/stages/${stage}/answer`;
  const cases: [string, string, unknown, number, string][] = [
    ['bbbbbbbbbbbbbbbbbbbb', '2', { answer: 'forty two' }, 404, 'not_found'], // bob's session
    ['zzzzzzzzzzzzzzzzzzzz', '2', { answer: 'forty two' }, 404, 'not_found'],
    ['cccccccccccccccccccc', '2', { answer: 'forty two' }, 400, 'bad_request'], // no course
    ['aaaaaaaaaaaaaaaaaaaa', '9', { answer: 'x' }, 404, 'not_found'],
    ['aaaaaaaaaaaaaaaaaaaa', '1', { answer: 'x' }, 400, 'bad_request'], // no check
    ['aaaaaaaaaaaaaaaaaaaa', '2', {}, 400, 'bad_request'],
    ['aaaaaaaaaaaaaaaaaaaa', '2', { answer: '' }, 400, 'bad_request'],
    ['aaaaaaaaaaaaaaaaaaaa', '2', { answer: 42 }, 400, 'bad_request'],
    ['aaaaaaaaaaaaaaaaaaaa', '2', { answer: 'x', extra: true }, 400, 'bad_request'],
    ['aaaaaaaaaaaaaaaaaaaa', '2', { answer: 'é'.repeat(2049) }, 400, 'bad_request'],
  ];
  for (const [session, stage, body, status, code] of cases) {
    const res = await call('POST', path(session, stage), ANSWER, { body });
    assert.equal(res.status, status, `${session} ${stage} ${JSON.stringify(body).slice(0, 40)}`);
    assert.equal(res.body.error.code, code);
  }
  const notJson = await call('POST', path('aaaaaaaaaaaaaaaaaaaa', '2'), ANSWER, { raw: '{"answer":' });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.error.code, 'invalid_json');
});

test('answers are rate limited per user with Retry-After', async (t) => {
  const { call } = await startApp(t, { attemptsPerMinute: 3 });
  for (let i = 0; i < 3; i++) {
    assert.equal((await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER, { body: { answer: `guess ${i}` } })).status, 422);
  }
  const limited = await call('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/stages/2/answer', ANSWER, { body: { answer: 'forty two' } });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
});

test('progress overall lists every course, with nothing done yet', async (t) => {
  const { call } = await startApp(t);
  const all = await call('GET', '/api/progress', '/api/progress');
  assert.deepEqual(all.body, {
    courses: [{ courseId: 'demo', completedStages: [], isCourseComplete: false, completedAt: null, totalStages: 3, currentStage: 1 }],
  });
  const missing = await call('GET', '/api/progress/nope', '/api/progress/{courseId}');
  assert.equal(missing.status, 404);
});
