// Warm sandboxes on Kubernetes and the real standalone api-proxy: a warm pod's credential names no
// learner ('unclaimed'); it is refused until a session claims the pod, then served and accounted to
// the learner who claimed it (the owner comes from the live-session push, not the credential), and
// refused again within a push period once that session ends.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { freePort, startMain } from '../../../api-proxy/test/main-process.ts';
import { apiHeaders, messagesBody, request } from '../../../api-proxy/test/helpers.ts';
import { loadConfig } from '../../src/config.ts';
import { createKubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { eventually } from './helpers.ts';

const SECRET = 'kubernetes-warm-proxy-test-shared-secret-0123456789';

describe('kubernetes warm sandboxes: the api-proxy serves a warm pod only for the session that claimed it', () => {
  let upstream: FakeAnthropic;
  let kube: FakeKubeApiserver;
  let proxy: ChildProcess;
  let proxyUrl: string;
  let controlUrl: string;
  let service: Service;

  before(async () => {
    upstream = await startFakeAnthropic();
    kube = await startFakeKubeApiserver();
    const [port, controlPort] = [await freePort(), await freePort()];
    ({ child: proxy } = await startMain({
      PORT: String(port), METRICS_PORT: String(controlPort), UPSTREAM_URL: upstream.url,
      ANTHROPIC_API_KEY: 'sk-ant-real-key-kubernetes-warm', PROXY_SHARED_SECRET: SECRET,
    }));
    proxyUrl = `http://127.0.0.1:${port}`;
    controlUrl = `http://127.0.0.1:${controlPort}`;
    const env = {
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '3',
      START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: 'echo pod-ready; exec cat', API_PROXY_CONTROL_URL: controlUrl,
      WARM_SANDBOXES: '2', WARM_POOLS: '-', MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4',
    };
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', LOG_LEVEL: 'silent', ...env });
    const runtime = createKubernetesRuntime({ config, logger: pino({ level: 'silent' }), kubeConfig: kube.kubeConfig(), stopWaitMs: 10_000 });
    service = await startTestService(env, { runtime });
  });
  after(async () => {
    await service?.close();
    proxy?.kill('SIGKILL');
    await kube?.close();
    await upstream?.close();
  });

  const credentialOf = (sessionId: string) => {
    const pod = kube.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === sessionId)!;
    return new Map((pod.spec?.containers?.[0]?.env ?? []).map((e) => [e.name, e.value])).get('ANTHROPIC_API_KEY')!;
  };
  const call = (credential: string) => request(proxyUrl, { headers: apiHeaders(credential), body: messagesBody() });
  const unclaimed = () => kube.pods().filter((p) => p.metadata?.labels?.['claudecode.io/user-hash'] === 'unclaimed' && !p.metadata?.deletionTimestamp);

  it('refused while unclaimed, served and accounted to the claimer while live, refused after DELETE', { timeout: 90_000 }, async () => {
    await eventually(() => unclaimed().filter((p) => p.status?.phase === 'Running').length === 2, 'two running warm pods', 30_000);
    const warmIds = unclaimed().map((p) => p.metadata!.labels!['claudecode.io/session-id']!);

    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    assert.ok(warmIds.includes(id), 'the session claimed a warm pod');
    const otherId = warmIds.find((w) => w !== id)!;
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
    try {
      await term.waitFor('pod-ready', 30_000);
      const credential = credentialOf(id);
      // The first push naming the session may still be on its way.
      let status = 0;
      const deadline = Date.now() + 15_000; // generous: two busy cores
      while ((status = (await call(credential)).status) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(status, 200, 'the claimed session is served');

      // The same push that names the claimed session leaves out the pod still in the pool.
      const refusedWarm = await call(credentialOf(otherId));
      assert.equal(refusedWarm.status, 401);
      assert.equal(refusedWarm.headers['x-proxy-rejection'], 'session_ended', 'an unclaimed warm pod\'s credential is not served');

      // Accounted to the learner who claimed it, never to 'unclaimed'.
      const ownerHash = service.manager.listAll().find((s) => s.id === id)!.userHash;
      let metrics = '';
      const usageOf = () => metrics.split('\n').filter((line) => line.includes(`session="${id}"`));
      await eventually(async () => {
        metrics = await (await fetch(`${controlUrl}/metrics`)).text();
        return usageOf().length > 0;
      }, 'the call accounted', 10_000);
      const usage = usageOf();
      assert.ok(usage.every((line) => line.includes(`user_hash="${ownerHash}"`)), usage.join('\n'));
      assert.ok(!metrics.includes('user_hash="unclaimed"'));

      assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
      const deletedAt = Date.now();
      let refused: Awaited<ReturnType<typeof call>> | undefined;
      while (Date.now() - deletedAt < 2000) {
        const r = await call(credential);
        if (r.status === 401) {
          refused = r;
          break;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(refused, 'still served two seconds after DELETE');
      assert.equal(refused.headers['x-proxy-rejection'], 'session_ended');
    } finally {
      await term.close();
    }
  });
});
