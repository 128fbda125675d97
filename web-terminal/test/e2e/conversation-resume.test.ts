// Conversations that outlive the sandbox, end to end in local mode: the real Claude Code CLI in a
// bubblewrap sandbox holds a conversation with the fake Anthropic API, the session is deleted, a new
// session resumes it and the next upstream request carries the earlier turns; the history lists it,
// the Markdown export holds it, deleting it removes it, and another user gets 404 on every route.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { as, bearer, jwtEnv, mintToken } from '../auth/helpers.ts';
import { startFakeAnthropic } from '../fakes/fake-anthropic.ts';
import type { FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { ask, assertHiddenFrom, conversationRequests, texts, type Message } from '../helpers/conversation.ts';
import { assertMatchesOpenApi } from '../helpers/openapi.ts';
import { startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { waitForText } from '../sandbox/helpers.ts';

/** The footer of Claude Code 2.1.332 under the managed `defaultMode: dontAsk`: the prompt is ready. */
const READY = /don.t ask on/;

describe('conversations that outlive the sandbox (local runtime, real CLI, fake model)', { timeout: 300_000 }, () => {
  let fake: FakeAnthropic;
  let service: Service;
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;
  let first = '';

  before(async () => {
    fake = await startFakeAnthropic();
    service = await startTestService(
      jwtEnv({ SESSION_COMMAND: '', TRANSCRIPT_SAVE_INTERVAL_SECONDS: '1', MAX_SESSIONS: '4' }),
      { proxyEnv: { UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-api03-resume-test-real-key-000000000000' } },
    );
    alice = as(service, bearer(await mintToken('alice')));
    bob = as(service, bearer(await mintToken('bob')));
  });
  after(async () => {
    await service?.close();
    await fake?.close();
  });

  it('saves the conversation of a deleted session and lists it in the history', async () => {
    const created = await alice('POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    first = String(created.body.id);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    try {
      await waitForText(term, READY, 60_000);
      await ask(term, 'first question about bananas', 'BANANA-REPLY-ONE');
    } finally {
      await term.close();
    }
    assert.equal((await alice('DELETE', `/api/sessions/${first}`)).status, 204);

    const history = await alice('GET', '/api/history');
    assert.equal(history.status, 200);
    assertMatchesOpenApi('get', '/api/history', 200, history.body);
    const entry = (history.body.sessions as Array<Record<string, unknown>>).find((s) => s.id === first);
    assert.ok(entry, 'the deleted session is in the history');
    assert.equal(entry.state, 'ended');
    assert.equal(entry.reason, 'deleted');
    assert.equal(entry.canContinue, true);
    assert.ok((entry.conversation as { bytes: number }).bytes > 0);
    assert.equal(typeof entry.durationSeconds, 'number');

    const markdown = await fetch(`${service.url}/api/conversations/${first}/markdown`, { headers: bearer(await mintToken('alice')) });
    assert.equal(markdown.status, 200);
    assert.match(markdown.headers.get('content-type') ?? '', /^text\/markdown/);
    assert.match(markdown.headers.get('content-disposition') ?? '', /attachment/);
    const text = await markdown.text();
    assert.match(text, /## You[^\n]*\n\nfirst question about bananas/);
    assert.match(text, /## Claude[^\n]*\n\nBANANA-REPLY-ONE/);
    assert.doesNotMatch(text, /"parentUuid"|"type":/, 'no raw JSON');
  });

  it('gives another user 404 on every history and conversation route, like an unknown id', async () => {
    await assertHiddenFrom(bob, first);
    assert.equal((await alice('GET', `/api/conversations/${first}/markdown`)).status, 200, 'still there for its owner');
  });

  it('continues the conversation in a new sandbox: the next upstream request carries the earlier turns', async () => {
    const created = await alice('POST', '/api/sessions', { resume: first });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assertMatchesOpenApi('post', '/api/sessions', 201, created.body);
    assert.notEqual(created.body.id, first);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    try {
      await waitForText(term, READY, 60_000);
      await ask(term, 'second question', 'SECOND-REPLY-TWO');
    } finally {
      await term.close();
    }
    const [request] = conversationRequests(fake, 'second question');
    assert.ok(request, 'the fake saw the second question');
    const messages = request.body.messages as Message[];
    assert.ok(texts(messages, 'user').some((t) => t.includes('first question about bananas')), 'the earlier user turn is sent again');
    assert.ok(texts(messages, 'assistant').some((t) => t.includes('BANANA-REPLY-ONE')), 'the earlier answer is sent again');

    // The continued session saves the whole conversation under its own id too.
    const second = String(created.body.id);
    assert.equal((await alice('DELETE', `/api/sessions/${second}`)).status, 204);
    // DELETE returns after the last save: the conversation is there at once.
    const saved = await alice('GET', `/api/conversations/${second}/markdown`);
    assert.equal(saved.status, 200);
    const both = String(saved.body);
    assert.match(both, /first question about bananas[\s\S]*second question/);
  });

  it('deletes a saved conversation: gone from the export, the history and resume', async () => {
    assert.equal((await alice('DELETE', `/api/conversations/${first}`)).status, 204);
    assert.equal((await alice('GET', `/api/conversations/${first}/markdown`)).status, 404);
    assert.equal((await alice('DELETE', `/api/conversations/${first}`)).status, 404);
    const resumed = await alice('POST', '/api/sessions', { resume: first });
    assert.equal(resumed.status, 404);
    const entry = ((await alice('GET', '/api/history')).body.sessions as Array<Record<string, unknown>>).find((s) => s.id === first);
    assert.ok(entry, 'the session record stays');
    assert.equal(entry.conversation, null);
    assert.equal(entry.canContinue, false);
  });
});
