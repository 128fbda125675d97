// What crosses the proxy: the real key goes up, client credentials and stray headers do not, the
// query and the API headers pass through, and locally answered routes never reach the upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiHeaders, messagesBody, REAL_KEY, request, startRig, type Rig } from './helpers.ts';

describe('forwarding', () => {
  let rig: Rig;
  let cred: string;
  before(async () => {
    rig = await startRig();
    cred = rig.credential();
  });
  after(() => rig.close());

  test('the upstream sees the real key and none of the client credential; allowed headers pass', async () => {
    const cliHeaders = {
      accept: 'application/json',
      'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)',
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      'anthropic-dangerous-direct-browser-access': 'true',
      'x-app': 'cli',
      'x-claude-code-session-id': '6f1c2d3e-0000-4000-8000-000000000001',
      'x-stainless-lang': 'js',
      'x-stainless-retry-count': '0',
      'accept-encoding': 'gzip, deflate, br, zstd',
      cookie: 'session=abc',
      'x-forwarded-for': '10.1.2.3',
      forwarded: 'for=10.1.2.3',
      'x-real-ip': '10.1.2.3',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      te: 'trailers',
      'x-upstream-override': 'https://evil.example',
    };
    const auths: Array<Record<string, string>> = [{ 'x-api-key': cred }, { authorization: `Bearer ${cred}` }, { 'x-api-key': cred, authorization: `Bearer ${cred}` }];
    for (const auth of auths) {
      rig.fake.reset();
      const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...cliHeaders, ...auth };
      const r = await request(rig.url, { headers, body: messagesBody() });
      assert.equal(r.status, 200);
      const seen = rig.fake.requests[0]!;
      assert.equal(seen.headers['x-api-key'], REAL_KEY);
      assert.equal(seen.headers.authorization, undefined);
      assert.ok(!JSON.stringify(seen.headers).includes(cred), 'client credential reached the upstream');
      assert.ok(!seen.rawBody.includes(cred));
      for (const name of ['anthropic-version', 'anthropic-beta', 'user-agent', 'accept', 'x-app', 'x-claude-code-session-id', 'x-stainless-lang', 'x-stainless-retry-count', 'anthropic-dangerous-direct-browser-access']) {
        assert.equal(seen.headers[name], headers[name], name);
      }
      for (const name of ['cookie', 'x-forwarded-for', 'forwarded', 'x-real-ip', 'proxy-authorization', 'te', 'x-upstream-override']) {
        assert.equal(seen.headers[name], undefined, name);
      }
      assert.equal(seen.headers['accept-encoding'], 'identity');
      assert.equal(seen.headers.host, new URL(rig.fake.url).host);
      assert.ok(!r.text.includes(REAL_KEY) && !JSON.stringify(r.headers).includes(REAL_KEY));
    }
  });

  test('path and ?beta=true pass through; the body arrives as sent', async () => {
    rig.fake.reset();
    const body = messagesBody({ stream: false, metadata: { user_id: '{"session_id":"x"}' }, thinking: { type: 'adaptive' } });
    assert.equal((await request(rig.url, { path: '/v1/messages?beta=true', headers: apiHeaders(cred), body })).status, 200);
    assert.equal((await request(rig.url, { path: '/v1/messages', headers: apiHeaders(cred), body })).status, 200);
    const ct = await request(rig.url, { path: '/v1/messages/count_tokens?beta=true', headers: apiHeaders(cred), body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(ct.status, 200);
    assert.equal(typeof ct.json().input_tokens, 'number');
    const [a, b, c] = rig.fake.requests;
    assert.equal(a!.rawUrl, '/v1/messages?beta=true');
    assert.equal(b!.rawUrl, '/v1/messages');
    assert.equal(c!.rawUrl, '/v1/messages/count_tokens?beta=true');
    assert.deepEqual(a!.body, JSON.parse(body));
  });

  test('the upstream reads the same model that was checked, whatever the duplicate-key spelling', async () => {
    const pretty = JSON.stringify(JSON.parse(messagesBody()), null, 2);
    const smuggled = [
      '{"model":"gpt-smuggled","model":"claude-x","max_tokens":5,"messages":[]}',
      '{"mod\\u0065l":"gpt-smuggled","model":"claude-x","max_tokens":5,"messages":[]}',
      '{"model":"claude-x","max_tokens":5,"max_tokens":999999999,"messages":[]}',
    ];
    rig.fake.reset();
    assert.equal((await request(rig.url, { headers: apiHeaders(cred), body: pretty })).status, 200);
    assert.equal(rig.fake.requests[0]!.rawBody, pretty, 'an unambiguous body goes up byte for byte');
    for (const body of smuggled) {
      rig.fake.reset();
      const r = await request(rig.url, { headers: apiHeaders(cred), body });
      if (body.includes('999999999')) {
        assert.equal(r.status, 400);
        assert.equal(rig.fake.hits(), 0);
        continue;
      }
      assert.equal(r.status, 200);
      const seen = rig.fake.requests[0]!.rawBody;
      assert.ok(!seen.includes('gpt-smuggled') && !seen.includes('\\u0065'), seen);
      assert.equal(JSON.parse(seen).model, 'claude-x');
    }
  });

  test('an upstream path prefix from UPSTREAM_URL is kept', async () => {
    const rig2 = await startRig({ UPSTREAM_URL: `${rig.fake.url}/some/prefix/` });
    try {
      rig.fake.reset();
      // rig2 brings its own fake, but its UPSTREAM_URL points at rig's fake, which records the path.
      const r = await request(rig2.url, { headers: apiHeaders(rig2.credential()), body: messagesBody() });
      assert.equal(r.status, 404); // the fake knows no /some/prefix route
      assert.equal(rig.fake.requests[0]!.path, '/some/prefix/v1/messages');
      assert.equal(rig2.fake.hits(), 0);
    } finally {
      await rig2.close();
    }
  });

  test('HEAD / and HEAD /api/hello are answered locally without a credential', async () => {
    rig.fake.reset();
    for (const path of ['/', '/api/hello']) {
      const r = await request(rig.url, { method: 'HEAD', path, headers: { 'user-agent': 'Bun/1.4.0' } });
      assert.equal(r.status, 200);
    }
    assert.equal(rig.fake.hits(), 0);
  });

  test('ordinary Host spellings are accepted', async () => {
    for (const host of ['api-proxy:8080', 'api-proxy.claudecode.svc.cluster.local:8080', 'api_proxy:8080', '127.0.0.1', '[::1]:8080', 'localhost']) {
      const r = await request(rig.url, { headers: { ...apiHeaders(cred), host }, body: messagesBody() });
      assert.equal(r.status, 200, host);
    }
  });

  test('healthz, readyz and metrics', async () => {
    assert.deepEqual((await request(rig.url, { method: 'GET', path: '/healthz' })).json(), { status: 'ok' });
    const ready = await request(rig.url, { method: 'GET', path: '/readyz' });
    assert.equal(ready.status, 200);
    assert.equal(ready.json().ready, true);
    const metrics = await request(rig.url, { method: 'GET', path: '/metrics' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /api_proxy_requests_total\{route="messages",status="200"\} \d+/);
    assert.match(metrics.text, /api_proxy_upstream_response_seconds_bucket/);
  });

  test('upstream errors come back in the Anthropic shape, with any echo of the real key scrubbed', async () => {
    rig.fake.script = () => ({ kind: 'error', status: 401, errorType: 'authentication_error', message: `invalid x-api-key ${REAL_KEY}` });
    try {
      const r = await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() });
      assert.equal(r.status, 401);
      assert.equal(r.json().error.type, 'authentication_error');
      assert.ok(!r.text.includes(REAL_KEY));
      assert.match(r.text, /\[redacted\]/);
    } finally {
      rig.fake.script = undefined;
    }
    rig.fake.script = () => ({ kind: 'error', status: 529, message: 'Overloaded', headers: { 'x-should-retry': 'true' } });
    try {
      const r = await request(rig.url, { headers: apiHeaders(cred), body: messagesBody({ stream: true }) });
      assert.equal(r.status, 529);
      assert.equal(r.json().error.type, 'overloaded_error');
      assert.equal(r.headers['x-should-retry'], 'true');
    } finally {
      rig.fake.script = undefined;
    }
  });

  test('the legacy static key is refused unless enabled', async () => {
    const legacy = 'sk-ant-dummy-legacy-123';
    assert.equal((await request(rig.url, { headers: apiHeaders(legacy), body: messagesBody() })).status, 401);
    const rig2 = await startRig({ LEGACY_DUMMY_KEY: legacy });
    try {
      assert.equal((await request(rig2.url, { headers: apiHeaders(legacy), body: messagesBody() })).status, 200);
      assert.equal(rig2.fake.requests[0]!.headers['x-api-key'], REAL_KEY);
      assert.equal((await request(rig2.url, { headers: apiHeaders(`${legacy}x`), body: messagesBody() })).status, 401);
      // Session credentials keep working alongside.
      assert.equal((await request(rig2.url, { headers: apiHeaders(rig2.credential()), body: messagesBody() })).status, 200);
    } finally {
      await rig2.close();
    }
  });
});
