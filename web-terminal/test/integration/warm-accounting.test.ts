// A warm sandbox's API use belongs to the learner who claimed it (local runtime, real bubblewrap sandboxes,
// the embedded proxy on each sandbox's own unix socket, the fake Anthropic API behind it). Each warm
// sandbox's program first calls the proxy with its credential while nobody owns it, then waits as a shell:
// that early call is refused. Once a learner claims the sandbox, the same credential works and its tokens
// count against that learner's daily budget (and carry their user hash in the metrics), not against the
// "unclaimed" hash every warm credential names; another learner's warm sandbox is unaffected; once the
// session is deleted the credential is refused from another sandbox, and its socket is gone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { as, bearer, jwtEnv, mintToken } from '../auth/helpers.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { descendants } from '../helpers/processes.ts';
import { startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl, type TerminalClient } from '../helpers/terminal-client.ts';

/** A call to the proxy: "<status> <x-proxy-rejection>" for the credential `credentialExpr` (shell syntax). */
const callProxy = (credentialExpr: string) =>
  `curl -s -o /dev/null -w '%{http_code} %header{x-proxy-rejection}' -H "x-api-key: ${credentialExpr}" -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' --data '{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}' --unix-socket "$ANTHROPIC_UNIX_SOCKET" http://api-proxy/v1/messages`;
/** The warm sandbox's program: one call before anyone claims it, then a shell. */
const SESSION_COMMAND = `echo "early=[$(${callProxy('$ANTHROPIC_API_KEY')})]"; exec /bin/bash --norc --noprofile -i`;
/** Each fake reply costs more than this many tokens (input = body bytes / 4, plus the answer): one call spends it. */
const USER_BUDGET = 20;

let runs = 0;
/** Runs a shell command line in the session and returns what it printed between two markers. */
async function run(term: TerminalClient, command: string, timeoutMs = 30_000): Promise<string> {
  const tag = `R${(runs += 1)}`;
  term.type(`echo "<${tag}"">$(${command})</${tag}"">"\r`);
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`);
  return pattern.exec(await term.waitFor(pattern, timeoutMs))![1]!.trim();
}

async function metricsText(service: Service): Promise<string> {
  return (await fetch(service.metricsUrl!)).text();
}
async function metric(service: Service, line: RegExp): Promise<number> {
  const match = line.exec(await metricsText(service));
  return match ? Number(match[1]) : 0;
}
async function waitForReadyWarm(service: Service, want: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await metric(service, /^webterminal_warm_sandboxes\{state="ready"\} (\d+)/m)) !== want) {
    assert.ok(Date.now() < deadline, `${want} warm sandbox(es) ready in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The live sandboxes: session id and the host path of its proxy socket, from bubblewrap's command line. */
function sandboxes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const p of descendants()) {
    if (p.comm !== 'bwrap') continue;
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      const id = argv[argv.indexOf('CLAUDECODE_SESSION_ID') + 1];
      const socket = argv[argv.indexOf('/run/claudecode/proxy.sock') - 1];
      if (id && socket) found.set(id, socket);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** A call to the proxy from this host over a socket path; the error code when nothing listens there. */
function callSocket(socketPath: string, credential: string): Promise<string> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const req = request({ socketPath, path: '/v1/messages', method: 'POST', headers: { host: 'api-proxy', 'x-api-key': credential, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['x-proxy-rejection'] ?? '')}`.trim()));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
}

describe('a warm sandbox\'s proxy use is accounted to the learner who claimed it (local runtime)', { timeout: 180_000 }, () => {
  let fake: FakeAnthropic;
  let service: Service;
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;
  const terms: TerminalClient[] = [];
  const claimed = new Set<string>();

  before(async () => {
    fake = await startFakeAnthropic();
    service = await startTestService(
      jwtEnv({ SESSION_COMMAND, WARM_SANDBOXES: '1', WARM_POOLS: '-', MAX_SESSIONS: '4', METRICS_PORT: '0' }),
      { proxyEnv: { UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-real-key-for-warm-accounting', TOKEN_BUDGET_PER_USER: String(USER_BUDGET) } },
    );
    alice = as(service, bearer(await mintToken('alice')));
    bob = as(service, bearer(await mintToken('bob')));
  });
  after(async () => {
    for (const term of terms) await term.close();
    await service?.close();
    await fake?.close();
  });

  /** Claims the pool's ready sandbox for a user; asserts it was the warm one made ahead. */
  async function claimWarm(user: ReturnType<typeof as>): Promise<{ id: string; socket: string; term: TerminalClient }> {
    await waitForReadyWarm(service, 1);
    const [warmId, socket] = [...sandboxes().entries()].find(([id]) => !claimed.has(id)) ?? [];
    assert.ok(warmId && socket, 'a warm sandbox is running');
    const warmClaims = await metric(service, /^webterminal_warm_claims_total\{how="warm"\} (\d+)/m);
    const created = await user('POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.id, warmId, 'the session is the sandbox the pool made ahead');
    claimed.add(warmId);
    assert.equal(await metric(service, /^webterminal_warm_claims_total\{how="warm"\} (\d+)/m), warmClaims + 1);
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
    terms.push(term);
    return { id: warmId, socket, term };
  }

  it('refuses an unclaimed warm sandbox\'s credential, then accounts its use to the learner who claimed it', async () => {
    const a = await claimWarm(alice);
    // What the program printed before the claim is replayed to its new owner.
    const early = await a.term.waitFor(/early=\[[^\]]*\]/, 10_000);
    assert.match(early, /early=\[401 session_ended\]/, 'unclaimed, the credential was refused');
    assert.equal(fake.hits(), 0, 'the upstream saw nothing before the claim');

    const credential = await run(a.term, 'printf %s "$ANTHROPIC_API_KEY"');
    assert.match(credential, /^ccp1\./);
    assert.equal(await run(a.term, callProxy('$ANTHROPIC_API_KEY')), '200', 'claimed: the same credential is served');
    assert.equal(fake.hits(), 1);
    assert.equal(await run(a.term, callProxy('$ANTHROPIC_API_KEY')), '429 user_budget', 'Alice\'s daily budget is spent');

    // Metrics name nobody: neither the session nor a user hash (the budgets above did the accounting).
    const metrics = await metricsText(service);
    assert.match(metrics, /^api_proxy_tokens_total\{kind="input_tokens"\} [1-9]/m, 'the tokens are counted');
    assert.ok(!metrics.includes(a.id), 'no session id in the metrics');
    // Bob's warm sandbox (its credential names "unclaimed" too) is Bob's: his budget is untouched.
    const b = await claimWarm(bob);
    await b.term.waitFor(/early=\[401 session_ended\]/, 10_000);
    assert.equal(await run(b.term, callProxy('$ANTHROPIC_API_KEY')), '200', 'Bob is served: Alice\'s spending was charged to her, not to the "unclaimed" both credentials name');
    assert.equal(fake.hits(), 2);

    // Deleted: Alice's credential is refused from Bob's sandbox, and her socket no longer answers at all.
    assert.equal((await alice('DELETE', `/api/sessions/${a.id}`)).status, 204);
    assert.equal(await run(b.term, callProxy(credential)), '401 session_ended');
    // Its socket closes with the sandbox: refused while it still answers, then nothing listens there.
    const deadline = Date.now() + 10_000;
    for (let answer = await callSocket(a.socket, credential); !/^(ENOENT|ECONNREFUSED)$/.test(answer); answer = await callSocket(a.socket, credential)) {
      assert.equal(answer, '401 session_ended', 'the same socket refuses the deleted session\'s credential');
      assert.ok(Date.now() < deadline, 'the deleted session\'s socket is closed');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(fake.hits(), 2, 'the upstream saw nothing more');
    assert.equal((await bob('DELETE', `/api/sessions/${b.id}`)).status, 204);
  });
});
