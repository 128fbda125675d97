// Warm sandboxes on Kubernetes and the real standalone api-proxy: a warm pod's credential names no
// learner ('unclaimed'); it is refused until a session claims the pod, then served and accounted to
// the learner who claimed it (the owner comes from the live-session push, not the credential), and
// refused again within a push period once that session ends. A budget of one token per learner shows
// who was charged: the claimer is refused next, another learner (whose credential also says
// 'unclaimed') is not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiHeaders, messagesBody, request } from '../../../api-proxy/test/helpers.ts';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { as, bearer, jwtEnv, mintToken } from '../auth/helpers.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { eventually, refusalWithin, startProxyProcess, startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-warm-proxy-test-shared-secret-0123456789';

describe('kubernetes warm sandboxes: the api-proxy serves a warm pod only for the session that claimed it', () => {
  let upstream: FakeAnthropic;
  let kube: FakeKubeApiserver;
  let proxy: Awaited<ReturnType<typeof startProxyProcess>>;
  let proxyUrl: string;
  let controlUrl: string;
  let service: Service;
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;

  before(async () => {
    upstream = await startFakeAnthropic();
    kube = await startFakeKubeApiserver();
    proxy = await startProxyProcess(upstream.url, SECRET, 'sk-ant-real-key-kubernetes-warm', { TOKEN_BUDGET_PER_USER: '1' });
    ({ url: proxyUrl, controlUrl } = proxy);
    const env = jwtEnv({
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '3',
      START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: 'echo pod-ready; exec cat', API_PROXY_CONTROL_URL: controlUrl,
      WARM_SANDBOXES: '2', WARM_POOLS: '-', MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4',
    });
    service = await startServiceOnFake(kube, env);
    alice = as(service, bearer(await mintToken('alice')));
    bob = as(service, bearer(await mintToken('bob')));
  });
  after(async () => {
    await service?.close();
    proxy?.stop();
    await kube?.close();
    await upstream?.close();
  });

  const credentialOf = (sessionId: string) => {
    const pod = kube.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === sessionId)!;
    return new Map((pod.spec?.containers?.[0]?.env ?? []).map((e) => [e.name, e.value])).get('ANTHROPIC_API_KEY')!;
  };
  const call = (credential: string) => request(proxyUrl, { headers: apiHeaders(credential), body: messagesBody() });
  /** The first call once the push naming the session has arrived (it may still be on its way). */
  const firstServed = async (credential: string) => {
    let status = 0;
    const deadline = Date.now() + 15_000; // generous: two busy cores
    while ((status = (await call(credential)).status) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return status;
  };
  const unclaimed = () => kube.pods().filter((p) => p.metadata?.labels?.['claudecode.io/user-hash'] === 'unclaimed' && !p.metadata?.deletionTimestamp);

  it('refused while unclaimed, served and accounted to the claimer while live, refused after DELETE', { timeout: 90_000 }, async () => {
    await eventually(() => unclaimed().filter((p) => p.status?.phase === 'Running').length === 2, 'two running warm pods', 30_000);
    const warmIds = unclaimed().map((p) => p.metadata!.labels!['claudecode.io/session-id']!);

    const created = await alice('POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    assert.ok(warmIds.includes(id), 'the session claimed a warm pod');
    const otherId = warmIds.find((w) => w !== id)!;
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
    try {
      await term.waitFor('pod-ready', 30_000);
      const credential = credentialOf(id);
      assert.equal(await firstServed(credential), 200, 'the claimed session is served');

      // The same push that names the claimed session leaves out the pod still in the pool.
      const refusedWarm = await call(credentialOf(otherId));
      assert.equal(refusedWarm.status, 401);
      assert.equal(refusedWarm.headers['x-proxy-rejection'], 'session_ended', 'an unclaimed warm pod\'s credential is not served');

      // Accounted to Alice, who claimed it: her one-token budget is spent.
      const spent = await call(credential);
      assert.equal(spent.status, 429);
      assert.equal(spent.headers['x-proxy-rejection'], 'user_budget');
      // Bob's warm pod (its credential says 'unclaimed' too) is Bob's: nothing was charged to 'unclaimed'.
      const bobs = await bob('POST', '/api/sessions', {});
      assert.equal(bobs.status, 201, JSON.stringify(bobs.body));
      assert.equal(await firstServed(credentialOf(String(bobs.body.id))), 200, 'Bob is served');
      // The metrics name neither session nor learner.
      const metrics = await (await fetch(`${controlUrl}/metrics`)).text();
      assert.match(metrics, /^api_proxy_tokens_total\{kind="input_tokens"\} [1-9]/m);
      assert.ok(!metrics.includes(id) && !metrics.includes('user_hash'), 'no session id or user hash in the metrics');
      assert.equal((await bob('DELETE', `/api/sessions/${String(bobs.body.id)}`)).status, 204);

      assert.equal((await alice('DELETE', `/api/sessions/${id}`)).status, 204);
      const refused = await refusalWithin(() => call(credential), 2000);
      assert.ok(refused, 'still served two seconds after DELETE');
      assert.equal(refused.headers['x-proxy-rejection'], 'session_ended');
    } finally {
      await term.close();
    }
  });
});
