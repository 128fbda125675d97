// The standalone api-proxy (its real main, as a process) accepts a session credential only while a
// web-terminal's fresh, signed snapshot lists the session: a session that leaves the snapshot, or
// whose source stops pushing, is refused within the snapshot's ttl. Pushes are authenticated, fresh
// and never replayed, and they are answered with the upstream outcomes of the snapshot's sessions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { startFakeAnthropic, type FakeAnthropic } from '../../web-terminal/test/fakes/fake-anthropic.ts';
import { CONTROL_SIGNATURE_HEADER, signControlBody } from '../src/control-signature.ts';
import { issueSessionCredential } from '../src/credentials.ts';
import { apiHeaders, messagesBody, request } from './helpers.ts';
import { freePort, MAIN_SECRET, startMain } from './main-process.ts';

const credentialFor = (sessionId: string, userHash = 'u') =>
  issueSessionCredential({ sessionId, userHash, expiresAt: new Date(Date.now() + 3600_000) }, MAIN_SECRET);

describe('standalone api-proxy: credentials only for sessions a fresh snapshot lists', () => {
  let fake: FakeAnthropic;
  let child: ChildProcess;
  let api: string;
  let ops: string;

  before(async () => {
    fake = await startFakeAnthropic();
    const [p, m] = [await freePort(), await freePort()];
    ({ child } = await startMain({ PORT: String(p), METRICS_PORT: String(m), UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-real-key-for-control-tests' }));
    api = `http://127.0.0.1:${p}`;
    ops = `http://127.0.0.1:${m}`;
  });
  after(async () => {
    child.kill('SIGKILL');
    await fake.close();
  });

  async function push(source: string, ids: string[], opts: { ttlMs?: number; stamp?: number; secret?: string; url?: string } = {}) {
    const body = JSON.stringify({ source, sessions: ids.map((id) => ({ id, userHash: `owner-of-${id}` })), ttlMs: opts.ttlMs ?? 30_000 });
    const signature = signControlBody(opts.secret ?? MAIN_SECRET, body, opts.stamp ?? Date.now());
    return request(opts.url ?? ops, { path: '/control/sessions', headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signature }, body });
  }
  const call = (sessionId: string) => request(api, { headers: apiHeaders(credentialFor(sessionId)), body: messagesBody() });

  test('no snapshot: refused without an upstream hit', async () => {
    const r = await call('s-unknown');
    assert.equal(r.status, 401);
    assert.equal(r.headers['x-proxy-rejection'], 'session_ended');
    assert.equal(fake.hits(), 0);
  });

  test('listed: served; left the snapshot: refused at the next push', async () => {
    const first = await push('prod', ['s1', 's2']);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json(), { apiKeyConfigured: true, outcomes: {} });
    assert.equal((await call('s1')).status, 200);
    assert.equal((await call('s2')).status, 200);
    assert.equal((await push('prod', ['s2'])).status, 200);
    const refused = await call('s1');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['x-proxy-rejection'], 'session_ended');
    assert.equal((await call('s2')).status, 200);
  });

  test('each source has its own snapshot; one that stops pushing loses its sessions after its ttl', { timeout: 30_000 }, async () => {
    const pushedAt = Date.now();
    assert.equal((await push('laptop', ['dev-1'], { ttlMs: 1000 })).status, 200);
    assert.equal((await call('dev-1')).status, 200);
    // prod keeps pushing (a heartbeat) while the laptop has gone quiet.
    const heartbeat = setInterval(() => void push('prod', ['s2']), 300);
    try {
      let status = 200;
      while (status === 200) {
        assert.ok(Date.now() - pushedAt < 10_000, 'the quiet source\'s session is still served after 10 s');
        await new Promise((r) => setTimeout(r, 100));
        status = (await call('dev-1')).status;
      }
      assert.equal(status, 401);
      assert.ok(Date.now() - pushedAt >= 1000, 'refused before the ttl ran out');
      assert.equal((await call('s2')).status, 200, 'the pushing source\'s session is unaffected');
    } finally {
      clearInterval(heartbeat);
    }
  });

  test('pushes: a bad signature, a stale or replayed one, a bad body, and the API port are refused', async () => {
    assert.equal((await push('evil', ['x'], { secret: 'not-the-shared-secret-0123456789abcdef' })).status, 401);
    const stale = await push('evil', ['x'], { stamp: Date.now() - 60_000 });
    assert.equal(stale.status, 401);
    assert.equal(stale.headers['x-proxy-rejection'], 'stale');
    assert.equal((await push('evil', ['x'], { url: api })).status, 404, 'the API port (sandboxes) has no control endpoint');
    // A replay of a captured push is refused, even within the timestamp window.
    const body = JSON.stringify({ source: 'prod', sessions: [{ id: 's1', userHash: 'u' }], ttlMs: 30_000 });
    const headers = { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signControlBody(MAIN_SECRET, body) };
    assert.equal((await request(ops, { path: '/control/sessions', headers, body })).status, 200);
    const replay = await request(ops, { path: '/control/sessions', headers, body });
    assert.equal(replay.status, 409);
    assert.equal(replay.headers['x-proxy-rejection'], 'replayed');
    const badBody = '{"source":"prod","sessions":"all"}';
    const bad = await request(ops, { path: '/control/sessions', headers: { [CONTROL_SIGNATURE_HEADER]: signControlBody(MAIN_SECRET, badBody) }, body: badBody });
    assert.equal(bad.status, 400);
    assert.equal((await request(ops, { method: 'GET', path: '/control/sessions' })).status, 405);
  });

  test('a push is answered with the upstream outcomes of its sessions', async () => {
    assert.equal((await push('prod', ['s3'])).status, 200);
    fake.script = () => ({ kind: 'error', status: 401, message: 'invalid x-api-key' });
    try {
      assert.equal((await call('s3')).status, 401);
    } finally {
      fake.script = undefined;
    }
    assert.deepEqual((await push('prod', ['s3'])).json().outcomes, { s3: 'upstream_unauthorized' });
    assert.equal((await call('s3')).status, 200);
    assert.deepEqual((await push('prod', ['s3'])).json().outcomes, { s3: null });
  });
});

describe('standalone api-proxy without METRICS_PORT', () => {
  test('takes the snapshots on its one port, where /metrics also is', { timeout: 60_000 }, async () => {
    const fake = await startFakeAnthropic();
    const port = await freePort();
    const { child } = await startMain({ PORT: String(port), UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-real-key-one-port' });
    try {
      const url = `http://127.0.0.1:${port}`;
      const body = JSON.stringify({ source: 'one-port', sessions: [{ id: 'p1', userHash: 'u' }], ttlMs: 5000 });
      const pushed = await request(url, { path: '/control/sessions', headers: { [CONTROL_SIGNATURE_HEADER]: signControlBody(MAIN_SECRET, body) }, body });
      assert.equal(pushed.status, 200, pushed.text);
      assert.equal((await request(url, { headers: apiHeaders(credentialFor('p1')), body: messagesBody() })).status, 200);
      // A sandbox on this port still cannot push without the secret.
      const forged = await request(url, { path: '/control/sessions', headers: { [CONTROL_SIGNATURE_HEADER]: signControlBody('a-sandbox-guess-of-the-secret-0123456789', body) }, body });
      assert.equal(forged.status, 401);
    } finally {
      child.kill('SIGKILL');
      await fake.close();
    }
  });
});
