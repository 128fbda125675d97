// The embedded API proxy through the real service (local runtime, real bubblewrap sandboxes, the fake
// Anthropic API behind the proxy): a credential works only from its own session's sandbox and only
// while the session is live; upstream outcomes reach the session's page; every sandbox's Claude Code
// is told the proxy's output-token ceiling; GET /api/info says whether a key is configured.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { assertMatchesOpenApi } from '../helpers/openapi.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl, type TerminalClient } from '../helpers/terminal-client.ts';

const CEILING = 20000;

async function openSession(service: Service): Promise<{ id: string; term: TerminalClient }> {
  const res = await api(service, 'POST', '/api/sessions', {});
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const term = await openTerminal(wsUrl(service.url, String(res.body.wsUrl)));
  await term.waitForControl((m) => m.type === 'status' && m.state === 'running', 30_000);
  return { id: String(res.body.id), term };
}

let runs = 0;
/** Runs a shell command line in the session and returns what it printed between two markers. */
async function run(term: TerminalClient, command: string, timeoutMs = 30_000): Promise<string> {
  const tag = `R${(runs += 1)}`;
  // The quotes split the markers in the echoed command line, so only the output matches.
  term.type(`echo "<${tag}"">$(${command})</${tag}"">"\r`);
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`);
  return pattern.exec(await term.waitFor(pattern, timeoutMs))![1]!.trim();
}

/** `curl` to the sandbox's proxy socket with a given credential: "<status> <x-proxy-rejection>". */
const callProxy = (credentialExpr: string) =>
  `curl -s -o /dev/null -w '%{http_code} %header{x-proxy-rejection}' -H "x-api-key: ${credentialExpr}" -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' --data '{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}' --unix-socket /run/claudecode/proxy.sock http://api-proxy/v1/messages`;

describe('the embedded proxy, per session', () => {
  let fake: FakeAnthropic;
  let service: Service;
  before(async () => {
    fake = await startFakeAnthropic();
    service = await startTestService(
      { MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4', SESSION_CREATES_PER_MINUTE: '1000', MAX_TOKENS_CEILING: String(CEILING) },
      { proxyEnv: { UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-real-key-for-proxy-credentials' } },
    );
  });
  after(async () => {
    await service.close();
    await fake.close();
  });

  it('refuses a live session\'s credential from another sandbox, and an ended session\'s everywhere', { timeout: 120_000 }, async () => {
    const a = await openSession(service);
    const b = await openSession(service);
    try {
      const credA = await run(a.term, 'printf %s "$ANTHROPIC_API_KEY"');
      assert.match(credA, /^ccp1\./);
      assert.equal(await run(a.term, callProxy('$ANTHROPIC_API_KEY')), '200', 'A on its own socket');
      const hits = fake.hits();
      assert.equal(await run(b.term, callProxy(credA)), '401 credential_wrong_sandbox', 'A\'s credential from B');
      assert.equal(fake.hits(), hits, 'the upstream saw nothing');
      assert.equal(await run(b.term, callProxy('$ANTHROPIC_API_KEY')), '200', 'B on its own socket');

      assert.equal((await api(service, 'DELETE', `/api/sessions/${a.id}`)).status, 204);
      const afterDelete = fake.hits();
      assert.equal(await run(b.term, callProxy(credA)), '401 session_ended', 'the deleted session\'s credential from B');
      assert.equal(fake.hits(), afterDelete);
    } finally {
      await a.term.close();
      await b.term.close();
      await api(service, 'DELETE', `/api/sessions/${b.id}`);
    }
  });

  it('tells the page what the upstream did to the session, and when it recovers', { timeout: 60_000 }, async () => {
    const s = await openSession(service);
    try {
      fake.script = () => ({ kind: 'error', status: 401, message: 'invalid x-api-key' });
      assert.equal(await run(s.term, callProxy('$ANTHROPIC_API_KEY')), '401');
      await s.term.waitForControl((m) => m.type === 'status' && m.reason === 'upstream_unauthorized');
      fake.script = () => ({ kind: 'error', status: 529, errorType: 'overloaded_error' });
      assert.equal(await run(s.term, callProxy('$ANTHROPIC_API_KEY')), '529');
      await s.term.waitForControl((m) => m.type === 'status' && m.reason === 'upstream_overloaded');
      fake.script = undefined;
      const before = s.term.controls.length;
      assert.equal(await run(s.term, callProxy('$ANTHROPIC_API_KEY')), '200');
      await s.term.waitForControl((m) => s.term.controls.indexOf(m) >= before && m.type === 'status' && m.state === 'running' && m.reason === undefined);
    } finally {
      fake.script = undefined;
      await s.term.close();
      await api(service, 'DELETE', `/api/sessions/${s.id}`);
    }
  });

  it('gives each sandbox the proxy\'s ceiling, so the real CLI\'s requests are accepted under a lower one', { timeout: 120_000 }, async () => {
    const s = await openSession(service);
    try {
      assert.equal(await run(s.term, 'printf %s "$CLAUDE_CODE_MAX_OUTPUT_TOKENS"'), String(CEILING));
      fake.reset();
      const answer = await run(s.term, 'claude -p "say hello ceiling-mark" </dev/null 2>&1', 90_000);
      assert.match(answer, /Hello from the fake Anthropic API!/);
      const calls = fake.requests.filter((r) => r.path === '/v1/messages');
      assert.ok(calls.length > 0);
      for (const call of calls) assert.ok(call.body.max_tokens <= CEILING, `max_tokens ${call.body.max_tokens}`);
    } finally {
      await s.term.close();
      await api(service, 'DELETE', `/api/sessions/${s.id}`);
    }
  });

  it('GET /api/info: a key is configured, local runtime', async () => {
    const res = await api(service, 'GET', '/api/info');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { apiKeyConfigured: true, runtime: 'local', profiles: ['default'], scrollbackLines: 1000 });
    assertMatchesOpenApi('get', '/api/info', 200, res.body);
  });
});

describe('without an API key', () => {
  it('warns at start-up; GET /api/info says so; a sandbox\'s call fails at once as final', { timeout: 60_000 }, async () => {
    let logs = '';
    const sink = new Writable({ write(chunk, _enc, done) { logs += String(chunk); done(); } });
    const service = await startTestService({ SCREEN_RESTORE: 'false' }, { logger: pino({ level: 'warn' }, sink) });
    try {
      assert.match(logs, /no API key is configured/);
      assert.deepEqual((await api(service, 'GET', '/api/info')).body, { apiKeyConfigured: false, runtime: 'local', profiles: ['default'], scrollbackLines: null });
      const s = await openSession(service);
      try {
        const out = await run(s.term, `curl -s -D - -o /dev/null ${callProxy('$ANTHROPIC_API_KEY').slice('curl -s -o /dev/null -w \'%{http_code} %header{x-proxy-rejection}\''.length)} | tr -d '\\r' | grep -iE '^(HTTP|x-should-retry)' | tr '\\n' ' '`);
        assert.match(out, /HTTP\/1\.1 503/);
        assert.match(out, /x-should-retry: false/);
        await s.term.waitForControl((m) => m.type === 'status' && m.reason === 'no_api_key');
      } finally {
        await s.term.close();
        await api(service, 'DELETE', `/api/sessions/${s.id}`);
      }
    } finally {
      await service.close();
    }
  });
});
