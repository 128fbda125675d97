// Every refusal path answers with its documented status and never contacts the upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { issueSessionCredential } from '../src/credentials.ts';
import { apiHeaders, messagesBody, rawRequest, request, startRig, statusOf, type Rig } from './helpers.ts';

describe('refusals never reach the upstream', () => {
  let rig: Rig;
  let cred: string;
  before(async () => {
    rig = await startRig({ ALLOWED_MODELS: 'claude-*', MAX_TOKENS_CEILING: '64000', MAX_BODY_BYTES: '4096' });
    cred = rig.credential();
  });
  after(() => rig.close());

  const assertRefused = async (status: number, send: () => Promise<number>, label: string) => {
    const before = rig.fake.hits();
    assert.equal(await send(), status, label);
    assert.equal(rig.fake.hits() - before, 0, `${label}: upstream was contacted`);
  };

  test('credentials: missing, malformed, forged, wrong secret, expired, conflicting', async () => {
    const expired = rig.credential({ expiresAt: new Date(Date.now() - 1000) });
    const forgedPayload = (() => {
      const [v, , sig] = cred.split('.');
      const payload = Buffer.from(JSON.stringify({ sid: 'other', uh: 'user-a', exp: Date.now() + 3600_000 })).toString('base64url');
      return `${v}.${payload}.${sig}`;
    })();
    const wrongSecret = issueSessionCredential(
      { sessionId: 'sess-1', userHash: 'user-a', expiresAt: new Date(Date.now() + 60_000) },
      'another-secret-that-is-long-enough-0123456789',
    );
    const cases: Array<[string, Record<string, string>]> = [
      ['no credential', { 'content-type': 'application/json' }],
      ['empty x-api-key', apiHeaders('')],
      ['garbage', apiHeaders('sk-ant-dummy-123')],
      ['real key itself', apiHeaders('sk-ant-real-KEY-0123456789-abcdefghijklmnop')],
      ['forged payload', apiHeaders(forgedPayload)],
      ['wrong secret', apiHeaders(wrongSecret)],
      ['expired', apiHeaders(expired)],
      ['unknown version', apiHeaders(cred.replace(/^ccp1\./, 'ccp2.'))],
      ['truncated signature', apiHeaders(cred.slice(0, -2))],
      ['basic auth', { 'content-type': 'application/json', authorization: `Basic ${cred}` }],
      ['conflicting x-api-key and bearer', apiHeaders(cred, { authorization: 'Bearer something-else' })],
    ];
    for (const [label, headers] of cases) {
      await assertRefused(401, async () => {
        const r = await request(rig.url, { headers, body: messagesBody() });
        assert.equal(r.json().type, 'error');
        assert.equal(r.json().error.type, 'authentication_error');
        return r.status;
      }, label);
    }
  });

  test('disallowed methods on allowed paths, and CONNECT', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
      await assertRefused(405, async () => (await request(rig.url, { method, headers: apiHeaders(cred) })).status, method);
    }
    await assertRefused(405, async () => (await request(rig.url, { method: 'GET', path: '/v1/messages/count_tokens', headers: apiHeaders(cred) })).status, 'GET count_tokens');
    await assertRefused(405, async () => (await request(rig.url, { method: 'POST', path: '/', headers: apiHeaders(cred), body: '{}' })).status, 'POST /');
    await assertRefused(405, async () => {
      const r = await request(rig.url, { method: 'GET', path: '/api/hello' });
      assert.equal(r.headers.allow, 'HEAD');
      return r.status;
    }, 'GET /api/hello');
    await assertRefused(405, async () => statusOf(await rawRequest(rig.port, `CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\nx-api-key: ${cred}\r\n\r\n`)), 'CONNECT');
    await assertRefused(405, async () => statusOf(await rawRequest(rig.port, `TRACE /v1/messages HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n`)), 'TRACE');
  });

  test('paths outside the allowlist and encoding tricks', async () => {
    const notFound = [
      '/v1/models', '/v1/complete', '/v1/messages/batches', '/v1/messages/', '/v1/messages/count_tokens/',
      '/v1/Messages', '/V1/messages', '/v1/messages/../messages', '/v1/%2e%2e/v1/messages', '/v1/messages%2fcount_tokens',
      '/v1/%6dessages', '/./v1/messages', '/v1/./messages', '/v1/messages;x', '/v1/messages%00', '/v1//messages',
      '/api/oauth/profile', '/v1/oauth/hello', '/__requests', '/v1/files', '/v1/messages\\..\\x', '/.%2e/v1/messages',
    ];
    for (const path of notFound) {
      await assertRefused(404, async () => (await request(rig.url, { path, headers: apiHeaders(cred), body: messagesBody() })).status, path);
    }
    // Request targets a normal client will not send: absolute-form, protocol-relative, asterisk, bare.
    const rawTargets: Array<[string, number]> = [
      ['http://evil.example/v1/messages', 400],
      [`${rig.url}/v1/messages`, 400],
      ['//evil.example/v1/messages', 400],
      ['*', 400],
      ['v1/messages', 400],
    ];
    for (const [target, status] of rawTargets) {
      const body = messagesBody();
      const text = `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${cred}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
      await assertRefused(status, async () => statusOf(await rawRequest(rig.port, text)), target);
    }
  });

  test('query tricks', async () => {
    for (const q of ['?beta=true&x=1', '?beta=false', '?', '?beta=true&beta=true', '?beta=%74rue', '?x=1', '?beta=true#frag', '?beta=TRUE', '?beta=true;']) {
      await assertRefused(400, async () => (await request(rig.url, { path: `/v1/messages${q}`, headers: apiHeaders(cred), body: messagesBody() })).status, q);
    }
    await assertRefused(400, async () => (await request(rig.url, { method: 'HEAD', path: '/?x=1' })).status, 'HEAD /?x=1');
  });

  test('odd Host headers', async () => {
    const body = messagesBody();
    const send = (hostLines: string) =>
      rawRequest(rig.port, `POST /v1/messages HTTP/1.1\r\n${hostLines}x-api-key: ${cred}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    const hosts = [
      'Host: evil.example/v1\r\n', 'Host: user@evil.example\r\n', 'Host: evil.example:80:80\r\n', 'Host: a b\r\n',
      'Host: 127.0.0.1\r\nHost: evil.example\r\n', 'Host: \r\n', 'Host: -bad-.example\r\n', 'Host: evil.example?x\r\n',
    ];
    for (const h of hosts) await assertRefused(400, async () => statusOf(await send(h)), JSON.stringify(h));
    // HTTP/1.1 without any Host is refused by Node's parser itself, also before the proxy.
    await assertRefused(400, async () => statusOf(await send('')), 'no Host');
  });

  test('bodies: oversize (declared and chunked), wrong type, not JSON, not a Messages request, policy', async () => {
    const big = messagesBody({}, 'x'.repeat(5000));
    await assertRefused(413, async () => {
      const r = await request(rig.url, { headers: apiHeaders(cred), body: big });
      assert.equal(r.json().error.type, 'request_too_large');
      return r.status;
    }, 'content-length over cap');
    await assertRefused(413, async () => {
      const text = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${cred}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${Buffer.byteLength(big).toString(16)}\r\n${big}\r\n0\r\n\r\n`;
      return statusOf(await rawRequest(rig.port, text));
    }, 'chunked over cap');
    const cases: Array<[number, string, Record<string, string>, string]> = [
      [415, 'text/plain', {}, messagesBody()],
      [415, 'no content-type', { 'content-type': '' }, messagesBody()],
      [400, 'not JSON', {}, '{"model": '],
      [400, 'JSON array', {}, '[]'],
      [400, 'no messages', {}, JSON.stringify({ model: 'claude-x', max_tokens: 10 })],
      [400, 'no max_tokens', {}, JSON.stringify({ model: 'claude-x', messages: [] })],
      [400, 'bad role', {}, messagesBody({ messages: [{ role: 'robot', content: 'x' }] })],
      [400, 'max_tokens not integer', {}, messagesBody({ max_tokens: 1.5 })],
      [400, 'max_tokens over ceiling', {}, messagesBody({ max_tokens: 64001 })],
      [403, 'model not allowed', {}, messagesBody({ model: 'gpt-4o' })],
      [403, 'duplicate key smuggling a model', {}, '{"model":"claude-x","max_tokens":5,"messages":[],"model":"other-model"}'],
    ];
    for (const [status, label, extra, body] of cases) {
      const headers = { ...apiHeaders(cred), ...(label === 'text/plain' ? { 'content-type': 'text/plain' } : {}), ...extra };
      if (headers['content-type'] === '') delete (headers as Record<string, string>)['content-type'];
      await assertRefused(status, async () => (await request(rig.url, { headers, body })).status, label);
    }
    await assertRefused(403, async () => (await request(rig.url, { path: '/v1/messages/count_tokens', headers: apiHeaders(cred), body: JSON.stringify({ model: 'gpt-4o', messages: [] }) })).status, 'count_tokens model');
  });

  test('the refusal reasons are counted in metrics', async () => {
    const text = (await request(rig.url, { method: 'GET', path: '/metrics' })).text;
    for (const reason of ['credential_missing', 'credential_bad_signature', 'credential_expired', 'not_found', 'method_not_allowed', 'bad_query', 'bad_host', 'body_too_large', 'model_not_allowed', 'max_tokens_too_large']) {
      assert.match(text, new RegExp(`api_proxy_rejections_total\\{reason="${reason}"\\} [1-9]`), reason);
    }
  });
});

describe('per-credential limits', () => {
  test('requests per minute: 429 with retry-after, other sessions unaffected', async () => {
    const rig = await startRig({ RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const cred = rig.credential();
      for (let i = 0; i < 2; i++) assert.equal((await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() })).status, 200);
      const hits = rig.fake.hits();
      const r = await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() });
      assert.equal(r.status, 429);
      assert.equal(r.json().error.type, 'rate_limit_error');
      assert.ok(Number(r.headers['retry-after']) >= 1);
      assert.equal(rig.fake.hits(), hits);
      const other = rig.credential({ sessionId: 'sess-2' });
      assert.equal((await request(rig.url, { headers: apiHeaders(other), body: messagesBody() })).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('concurrent requests: the one over the limit is refused while the first is in flight', async () => {
    const rig = await startRig({ MAX_CONCURRENT_PER_CREDENTIAL: '1' });
    try {
      rig.fake.script = () => ({ kind: 'hang' });
      const cred = rig.credential();
      const first = request(rig.url, { headers: apiHeaders(cred), body: messagesBody() }).catch(() => undefined);
      await rig.fake.waitFor(() => rig.fake.hits() === 1);
      const r = await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() });
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(rig.fake.hits(), 1);
      rig.fake.script = undefined;
      await rig.proxy.close(); // ends the hanging request
      await first;
    } finally {
      await rig.close();
    }
  });

  test('token budgets per session and per user: refused once spent', async () => {
    const rig = await startRig({ TOKEN_BUDGET_PER_SESSION: '100', TOKEN_BUDGET_PER_USER: '150' });
    try {
      rig.fake.script = () => ({ kind: 'message', content: [{ type: 'text', text: 'hi' }], usage: { input_tokens: 60, output_tokens: 50 } });
      const s1 = rig.credential({ sessionId: 's1', userHash: 'u1' });
      assert.equal((await request(rig.url, { headers: apiHeaders(s1), body: messagesBody() })).status, 200);
      let hits = rig.fake.hits();
      const over = await request(rig.url, { headers: apiHeaders(s1), body: messagesBody() });
      assert.equal(over.status, 429);
      assert.match(over.json().error.message, /session/);
      assert.ok(Number(over.headers['retry-after']) >= 1);
      assert.equal(rig.fake.hits(), hits);
      // Same user, new session: 110 of the user's 150 used, so one more passes, then the user budget bites.
      const s2 = rig.credential({ sessionId: 's2', userHash: 'u1' });
      assert.equal((await request(rig.url, { headers: apiHeaders(s2), body: messagesBody() })).status, 200);
      hits = rig.fake.hits();
      const userOver = await request(rig.url, { headers: apiHeaders(rig.credential({ sessionId: 's3', userHash: 'u1' })), body: messagesBody() });
      assert.equal(userOver.status, 429);
      assert.match(userOver.json().error.message, /user/);
      assert.equal(rig.fake.hits(), hits);
      // Another user is unaffected.
      assert.equal((await request(rig.url, { headers: apiHeaders(rig.credential({ sessionId: 's4', userHash: 'u2' })), body: messagesBody() })).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('without a real key: 503 for API calls, not ready, upstream untouched', async () => {
    const rig = await startRig({ ANTHROPIC_API_KEY: '' });
    try {
      const r = await request(rig.url, { headers: apiHeaders(rig.credential()), body: messagesBody() });
      assert.equal(r.status, 503);
      assert.equal(r.json().type, 'error');
      assert.equal(r.json().error.type, 'api_error');
      assert.equal((await request(rig.url, { method: 'GET', path: '/readyz' })).status, 503);
      assert.equal((await request(rig.url, { method: 'GET', path: '/healthz' })).status, 200);
      assert.equal(rig.proxy.isReady(), false);
      assert.equal(rig.fake.hits(), 0);
    } finally {
      await rig.close();
    }
  });
});
