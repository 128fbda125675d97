// The real key (and the shared secret, and session credentials) never show up in a response, an error,
// a log line or a metric, whatever path a request takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiHeaders, messagesBody, REAL_KEY, request, SECRET, startRig, type Reply } from './helpers.ts';

test('no response, error, log line or metric carries the real key, the secret or a credential', async () => {
  const rig = await startRig({ UPSTREAM_IDLE_TIMEOUT_MS: '300', RATE_LIMIT_PER_MINUTE: '1000' });
  const replies: Reply[] = [];
  const cred = rig.credential({ sessionId: 'secret-sess', userHash: 'secret-user' });
  try {
    const send = async (opts: Parameters<typeof request>[1]) => replies.push(await request(rig.url, opts));
    await send({ headers: apiHeaders(cred), body: messagesBody() });
    await send({ headers: apiHeaders(cred), body: messagesBody({ stream: true }) });
    await send({ headers: { ...apiHeaders(cred), authorization: `Bearer ${cred}` }, body: messagesBody() });
    await send({ path: '/v1/messages/count_tokens', headers: apiHeaders(cred), body: JSON.stringify({ model: 'claude-x', messages: [] }) });
    await send({ headers: apiHeaders(`${cred}x`), body: messagesBody() });
    await send({ headers: apiHeaders(REAL_KEY), body: messagesBody() });
    await send({ headers: apiHeaders(cred), body: messagesBody({ model: `gpt-${REAL_KEY}` }) });
    await send({ path: `/v1/${REAL_KEY}`, headers: apiHeaders(cred), body: messagesBody() });
    await send({ headers: apiHeaders(cred), body: '{"broken' });
    rig.fake.script = () => ({ kind: 'error', status: 400, message: `your key ${REAL_KEY} is bad`, headers: { 'x-echo': REAL_KEY } });
    await send({ headers: apiHeaders(cred), body: messagesBody() });
    rig.fake.script = () => ({ kind: 'json', body: { usage: { input_tokens: 1, output_tokens: 1 } }, headers: { 'x-other': 'ok' } });
    await send({ headers: apiHeaders(cred), body: messagesBody() });
    rig.fake.script = () => ({ kind: 'hang' });
    await send({ headers: apiHeaders(cred), body: messagesBody() });
    rig.fake.script = undefined;
    await send({ method: 'HEAD', path: '/' });
    await send({ method: 'GET', path: '/readyz' });
    await send({ method: 'GET', path: '/healthz' });
    await send({ method: 'GET', path: '/metrics' });

    assert.equal(replies[0]!.status, 200, 'sanity: the happy path worked');
    const metrics = (await request(rig.url, { method: 'GET', path: '/metrics' })).text;
    assert.match(metrics, /^api_proxy_tokens_total\{kind="input_tokens"\} [1-9]/m, 'sanity: usage metrics were recorded');
    const logs = rig.logs();
    assert.match(logs, /"msg":"request"/, 'sanity: request lines were logged');
    const everything = [metrics, logs, ...replies.map((r) => `${JSON.stringify(r.headers)}\n${r.text}`)];
    for (const text of everything) {
      // The upstream's echoed-back header is the only place the fake puts the key in a header.
      assert.ok(!text.includes(REAL_KEY), `real key leaked in: ${text.slice(0, 200)}`);
      assert.ok(!text.includes(SECRET), 'shared secret leaked');
      assert.ok(!text.includes(cred), 'session credential leaked');
    }
  } finally {
    await rig.close();
  }
});
