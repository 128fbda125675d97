// What POST /api/sessions {"resume"} asks of a runtime, through the real service with a recording runtime:
// the earlier conversation and its id, the earlier course, no first prompt; and the history's stages
// completed during a session. Validation: a bad id is 400, an unknown one 404, another course 400.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { recordingRuntime } from '../auth/helpers.ts';
import { api, startTestService } from '../helpers/service.ts';

const COURSES_DIR = fileURLToPath(new URL('../../../courses', import.meta.url));
const COURSE = 'attention-is-all-you-need';
const CONVERSATION = '7e57ab1e-1111-4222-8333-444455556666';
const CONTENT = Buffer.from('{"type":"user","message":{"role":"user","content":"recorded question"}}\n');

describe('resume requests', () => {
  let service: Service;
  let recording: ReturnType<typeof recordingRuntime>;
  let earlier = '';

  before(async () => {
    recording = recordingRuntime();
    recording.runtime.readTranscript = async () => ({ conversationId: CONVERSATION, content: CONTENT, truncated: false });
    service = await startTestService({ COURSES_DIR }, { runtime: recording.runtime });
    const created = await api(service, 'POST', '/api/sessions', { courseId: COURSE, stage: 1 });
    assert.equal(created.status, 201);
    earlier = String(created.body.id);
    const answer = await api(service, 'POST', `/api/sessions/${earlier}/stages/2/answer`, { answer: 'sqrt(d_k)' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal((await api(service, 'DELETE', `/api/sessions/${earlier}`)).status, 204);
  });
  after(() => service?.close());

  it('lists the ended session with the stages completed while it ran', async () => {
    const history = await api(service, 'GET', '/api/history');
    const entry = (history.body.sessions as Array<Record<string, unknown>>).find((s) => s.id === earlier);
    assert.deepEqual(entry && { courseId: entry.courseId, stagesCompleted: entry.stagesCompleted, canContinue: entry.canContinue, reason: entry.reason },
      { courseId: COURSE, stagesCompleted: [2], canContinue: true, reason: 'deleted' });
    assert.equal((await api(service, 'GET', '/api/history?limit=0')).status, 400);
  });

  it('hands the runtime the saved conversation, the earlier course and no first prompt', async () => {
    const created = await api(service, 'POST', '/api/sessions', { resume: earlier });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.courseId, COURSE);
    const spec = recording.specs.find((s) => s.sessionId === created.body.id);
    assert.ok(spec);
    assert.equal(spec.env.CLAUDECODE_RESUME_SESSION, CONVERSATION);
    assert.equal(spec.env.CLAUDECODE_INITIAL_PROMPT, undefined);
    assert.match(String(spec.env.CLAUDECODE_TUTOR_BRIEF), /You are guiding a learner/, 'the tutor brief still applies to the new turns');
    assert.equal(spec.course?.id, COURSE);
    assert.deepEqual(spec.resume, { conversationId: CONVERSATION, content: CONTENT, truncated: false });
    const first = recording.specs.find((s) => s.sessionId === earlier);
    assert.equal(first?.resume, undefined);
    assert.match(String(first?.env.CLAUDECODE_INITIAL_PROMPT), /stage 1/);
    await api(service, 'DELETE', `/api/sessions/${String(created.body.id)}`);
  });

  it('refuses a malformed id (400), an unknown one (404) and another course (400)', async () => {
    const malformed = await api(service, 'POST', '/api/sessions', { resume: '../etc' });
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.body.error?.message), /^resume:/);
    assert.equal((await api(service, 'POST', '/api/sessions', { resume: 'zzzzzzzzzzzzzzzzzzzz' })).status, 404);
    const otherCourse = await api(service, 'POST', '/api/sessions', { resume: earlier, courseId: 'another-course' });
    assert.equal(otherCourse.status, 400);
  });
});
