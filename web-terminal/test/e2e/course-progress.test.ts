// A course session end to end in local mode: the real Claude Code CLI in a bubblewrap sandbox talks
// through the embedded proxy to the fake Anthropic API, whose reply carries a stage marker; the
// marker becomes a stage_complete event on the session's socket and shows in the progress API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic } from '../fakes/fake-anthropic.ts';
import type { FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { assertMatchesOpenApi } from '../helpers/openapi.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { SAMPLE_COURSES_DIR } from '../helpers/sample-course.ts';

const COURSE = 'attention-is-all-you-need';
const lastUserText = (body: { messages?: Array<{ role: string; content: unknown }> }): string => {
  const user = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  return (user.content as Array<{ type: string; text?: string }>).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
};

describe('course progress end to end (local runtime, real CLI, fake model)', () => {
  let fake: FakeAnthropic;
  let service: Service;
  before(async () => {
    fake = await startFakeAnthropic();
    fake.script = (req) => {
      if (req.path !== '/v1/messages' || !req.body?.tools?.length) return undefined;
      if (!/start stage 1 of/.test(lastUserText(req.body))) return undefined;
      return { kind: 'message', content: [{ type: 'text', text: 'You explained both limits well.\n[STAGE_COMPLETE:1]' }] };
    };
    service = await startTestService(
      { COURSES_DIR: SAMPLE_COURSES_DIR, SESSION_COMMAND: '' },
      { proxyEnv: { UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-api03-course-test-real-key-0000000000' } },
    );
  });
  after(async () => {
    await service?.close();
    await fake?.close();
  });

  it('turns a marker in the model output into a live stage_complete event and recorded progress', async () => {
    const created = await api(service, 'POST', '/api/sessions', { courseId: COURSE, stage: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assertMatchesOpenApi('post', '/api/sessions', 201, created.body);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    const event = await term.waitForControl((m) => m.type === 'event' && m.name === 'stage_complete', 60_000);
    assert.equal(event.courseId, COURSE);
    assert.equal(event.stage, 1);

    const progress = await api(service, 'GET', `/api/progress/${COURSE}`);
    assert.equal(progress.status, 200);
    assertMatchesOpenApi('get', '/api/progress/{courseId}', 200, progress.body);
    const completed = (progress.body.completedStages as Array<{ stage: number; completedAt: string }>).map((s) => s.stage);
    assert.deepEqual(completed, [1]);
    assert.equal(progress.body.isCourseComplete, false);

    const id = created.body.id as string;
    const wrong = await api(service, 'POST', `/api/sessions/${id}/stages/2/answer`, { answer: 'divided by two' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error?.code, 'wrong_answer');
    const right = await api(service, 'POST', `/api/sessions/${id}/stages/2/answer`, { answer: 'sqrt(d_k)' });
    assert.equal(right.status, 200, JSON.stringify(right.body));
    assert.equal(right.body.correct, true);
    await term.waitForControl((m) => m.type === 'event' && m.name === 'stage_complete' && m.stage === 2);
    const after = await api(service, 'GET', `/api/progress/${COURSE}`);
    assert.deepEqual((after.body.completedStages as Array<{ stage: number }>).map((s) => s.stage), [1, 2]);

    await term.close();
    assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
  });
});
