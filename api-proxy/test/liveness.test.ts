// Embedded proxy: a session credential works only while its session is live, only from the session's
// own connection when the caller says which one it is, and the upstream's outcomes are reported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LiveSession } from '../src/live-sessions.ts';
import { apiHeaders, messagesBody, request, startRig, type Rig } from './helpers.ts';

describe('live sessions only', () => {
  const live = new Map<string, LiveSession>();
  const outcomes: Array<[string, string | null]> = [];
  let rig: Rig;
  before(async () => {
    rig = await startRig({ TOKEN_BUDGET_PER_USER: '1000000' }, {
      liveSessions: { lookup: (id) => live.get(id) },
      onUpstreamOutcome: (id, reason) => outcomes.push([id, reason]),
    });
  });
  after(() => rig.close());

  test('an ended session\'s credential is refused at once, without an upstream hit', async () => {
    live.set('s-live', { userHash: 'owner-a' });
    const cred = rig.credential({ sessionId: 's-live', userHash: 'owner-a' });
    assert.equal((await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() })).status, 200);
    live.delete('s-live');
    const hits = rig.fake.hits();
    const r = await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() });
    assert.equal(r.status, 401);
    assert.equal(r.headers['x-proxy-rejection'], 'session_ended');
    assert.equal(r.headers['x-should-retry'], 'false');
    assert.match(r.json().error.message, /session has ended/);
    assert.equal(rig.fake.hits(), hits);
  });

  test('a session that was never live is refused', async () => {
    const r = await request(rig.url, { headers: apiHeaders(rig.credential({ sessionId: 'never' })), body: messagesBody() });
    assert.equal(r.headers['x-proxy-rejection'], 'session_ended');
  });

  test('accounting keys on the live session\'s owner, not on the credential\'s claim', async () => {
    // A budget of one token: the first answer spends it, so who was charged shows in who is refused next.
    const tight = await startRig({ TOKEN_BUDGET_PER_USER: '1' }, { liveSessions: { lookup: (id) => live.get(id) } });
    const send = (sessionId: string, userHash: string) =>
      request(tight.url, { headers: apiHeaders(tight.credential({ sessionId, userHash })), body: messagesBody() });
    try {
      live.set('s-warm', { userHash: 'claimed-by-b' });
      live.set('s-b2', { userHash: 'claimed-by-b' });
      live.set('s-other', { userHash: 'someone-else' });
      assert.equal((await send('s-warm', 'made-for-nobody')).status, 200);
      const refused = await send('s-b2', 'claimed-by-b');
      assert.equal(refused.status, 429, 'the owner\'s budget was charged');
      assert.equal(refused.headers['x-proxy-rejection'], 'user_budget');
      assert.equal((await send('s-other', 'made-for-nobody')).status, 200, 'the name in the credential was not charged');
      const metrics = await tight.registry.metrics();
      assert.doesNotMatch(metrics, /claimed-by-b|made-for-nobody|s-warm/, 'metrics name no user and no session');
    } finally {
      await tight.close();
    }
  });

  test('upstream outcomes are reported per session, and success clears them', async () => {
    live.set('s-fail', { userHash: 'u' });
    outcomes.length = 0;
    const cred = rig.credential({ sessionId: 's-fail', userHash: 'u' });
    const replies = [401, 403, 429, 529, 500, 200];
    for (const status of replies) {
      rig.fake.script = () => (status === 200 ? undefined : { kind: 'error', status });
      await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() });
    }
    rig.fake.script = undefined;
    assert.deepEqual(outcomes, [
      ['s-fail', 'upstream_unauthorized'],
      ['s-fail', 'upstream_forbidden'],
      ['s-fail', 'upstream_rate_limited'],
      ['s-fail', 'upstream_overloaded'],
      ['s-fail', 'upstream_overloaded'],
      ['s-fail', null],
    ]);
  });
});

describe('a connection bound to a session', () => {
  test('refuses another session\'s credential and serves its own', async () => {
    const rig = await startRig({}, { liveSessions: { lookup: () => ({ userHash: 'u' }) } });
    const http = await import('node:http');
    // A second listener whose connections belong to session "mine", as a sandbox's own socket does.
    const bound = http.createServer((req, res) => rig.proxy.handle(req, res, 'mine'));
    await new Promise<void>((r) => bound.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(bound.address() as import('node:net').AddressInfo).port}`;
    try {
      const hits = rig.fake.hits();
      const other = await request(url, { headers: apiHeaders(rig.credential({ sessionId: 'theirs' })), body: messagesBody() });
      assert.equal(other.status, 401);
      assert.equal(other.headers['x-proxy-rejection'], 'credential_wrong_sandbox');
      assert.equal(rig.fake.hits(), hits);
      const own = await request(url, { headers: apiHeaders(rig.credential({ sessionId: 'mine' })), body: messagesBody() });
      assert.equal(own.status, 200);
    } finally {
      bound.closeAllConnections();
      await new Promise<void>((r) => bound.close(() => r()));
      await rig.close();
    }
  });
});
