// Kubernetes mode end to end: the real service on the fake kube-apiserver pushes its live sessions to
// the real standalone api-proxy (its main, as a process, in front of the fake Anthropic API). A
// session's credential works while it is live and is refused within a push period of DELETE; what
// the upstream did to the session reaches the session's page through the push replies; the pod is
// told the one output-token ceiling; GET /api/info reports the api-proxy's key. A laptop instance in its own
// scope (K8S_SCOPE=dev-alice) pushes to the same api-proxy: both instances' sessions are served, and
// neither's pushes drop the other's sessions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiHeaders, messagesBody, request } from '../../../api-proxy/test/helpers.ts';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { api } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { eventually, refusalWithin, startProxyProcess, startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-liveness-test-shared-secret-0123456789';

describe('kubernetes mode: the api-proxy serves only sessions the web-terminal says are live', () => {
  let upstream: FakeAnthropic;
  let kube: FakeKubeApiserver;
  let proxy: Awaited<ReturnType<typeof startProxyProcess>>;
  let proxyUrl: string;
  let service: Service;
  let env: Record<string, string>;
  const startInstance = (extra: Record<string, string> = {}) => startServiceOnFake(kube, { ...env, ...extra });

  before(async () => {
    upstream = await startFakeAnthropic();
    kube = await startFakeKubeApiserver();
    proxy = await startProxyProcess(upstream.url, SECRET, 'sk-ant-real-key-kubernetes-liveness');
    proxyUrl = proxy.url;
    env = {
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '3',
      START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: 'echo pod-ready; exec cat', MAX_TOKENS_CEILING: '30000',
      API_PROXY_CONTROL_URL: proxy.controlUrl,
    };
    service = await startInstance();
  });
  after(async () => {
    await service?.close();
    proxy?.stop();
    await kube?.close();
    await upstream?.close();
  });

  it('live: served; outcomes reach the page; deleted: refused within two seconds', { timeout: 60_000 }, async () => {
    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
    try {
      await term.waitForControl((m) => m.type === 'status' && m.state === 'running', 30_000);
      const pod = kube.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === id)!;
      const env = new Map((pod.spec?.containers?.[0]?.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(env.get('CLAUDE_CODE_MAX_OUTPUT_TOKENS'), '30000');
      const credential = env.get('ANTHROPIC_API_KEY')!;
      const call = () => request(proxyUrl, { headers: apiHeaders(credential), body: messagesBody() });

      // The first push may still be on its way.
      let status = 0;
      const deadline = Date.now() + 5000;
      while ((status = (await call()).status) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(status, 200, 'a live session is served');

      upstream.script = () => ({ kind: 'error', status: 401, message: 'invalid x-api-key' });
      assert.equal((await call()).status, 401);
      await term.waitForControl((m) => m.type === 'status' && m.reason === 'upstream_unauthorized', 5000);
      upstream.script = undefined;

      assert.deepEqual((await api(service, 'GET', '/api/info')).body, { apiKeyConfigured: true, runtime: 'kubernetes', profiles: ['default'], scrollbackLines: 1000 });

      assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
      const refused = await refusalWithin(call, 2000);
      assert.ok(refused, 'still served two seconds after DELETE');
      assert.equal(refused.headers['x-proxy-rejection'], 'session_ended');
    } finally {
      upstream.script = undefined;
      await term.close();
    }
  });

  it('production and a laptop scope push to one api-proxy: both sessions served, each ended only by its own instance', { timeout: 90_000 }, async () => {
    const laptop = await startInstance({ K8S_SCOPE: 'dev-alice' });
    const opened: Array<{ id: string; owner: Service; term: Awaited<ReturnType<typeof openTerminal>> }> = [];
    try {
      await eventually(async () => (await api(laptop, 'GET', '/readyz')).status === 200, 'the laptop instance active', 20_000);
      for (const owner of [service, laptop]) {
        const created = await api(owner, 'POST', '/api/sessions', {});
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const term = await openTerminal(wsUrl(owner.url, String(created.body.wsUrl)));
        opened.push({ id: String(created.body.id), owner, term });
        await term.waitForControl((m) => m.type === 'status' && m.state === 'running', 30_000);
      }
      const credentialOf = (id: string) => {
        const pod = kube.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === id)!;
        return (pod.spec?.containers?.[0]?.env ?? []).find((e) => e.name === 'ANTHROPIC_API_KEY')!.value!;
      };
      const [prod, dev] = opened.map((o) => {
        const credential = credentialOf(o.id);
        return { id: o.id, call: () => request(proxyUrl, { headers: apiHeaders(credential), body: messagesBody() }) };
      });
      await eventually(async () => (await prod!.call()).status === 200 && (await dev!.call()).status === 200, 'both sessions served', 10_000);
      // Several push periods (one a second from each instance): each push replaces only its own scope's set.
      const until = Date.now() + 3500;
      while (Date.now() < until) {
        assert.equal((await prod!.call()).status, 200, 'production\'s session stays served');
        assert.equal((await dev!.call()).status, 200, 'the laptop\'s session stays served');
        await new Promise((r) => setTimeout(r, 250));
      }
      // The laptop ends its session: refused within two seconds; production's is still served.
      assert.equal((await api(laptop, 'DELETE', `/api/sessions/${dev!.id}`)).status, 204);
      await eventually(async () => (await dev!.call()).status === 401, 'the laptop\'s ended session refused', 2000);
      assert.equal((await prod!.call()).status, 200);
    } finally {
      for (const o of opened) {
        await o.term.close();
        await api(o.owner, 'DELETE', `/api/sessions/${o.id}`);
      }
      await laptop.close();
    }
  });
});
