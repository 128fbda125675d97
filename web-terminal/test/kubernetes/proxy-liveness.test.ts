// Kubernetes mode end to end: the real service on the fake kube-apiserver pushes its live sessions to
// the real standalone api-proxy (its main, as a process, in front of the fake Anthropic API). A
// session's credential works while it is live and is refused within a push period of DELETE; what
// the upstream did to the session reaches the session's page through the push replies; the pod is
// told the one output-token ceiling; GET /api/info reports the api-proxy's key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiHeaders, messagesBody, request } from '../../../api-proxy/test/helpers.ts';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { api } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { refusalWithin, startProxyProcess, startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-liveness-test-shared-secret-0123456789';

describe('kubernetes mode: the api-proxy serves only sessions the web-terminal says are live', () => {
  let upstream: FakeAnthropic;
  let kube: FakeKubeApiserver;
  let proxy: Awaited<ReturnType<typeof startProxyProcess>>;
  let proxyUrl: string;
  let service: Service;

  before(async () => {
    upstream = await startFakeAnthropic();
    kube = await startFakeKubeApiserver();
    proxy = await startProxyProcess(upstream.url, SECRET, 'sk-ant-real-key-kubernetes-liveness');
    proxyUrl = proxy.url;
    const env = {
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '3',
      START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: 'echo pod-ready; exec cat', MAX_TOKENS_CEILING: '30000',
      API_PROXY_CONTROL_URL: proxy.controlUrl,
    };
    service = await startServiceOnFake(kube, env);
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
});
