// The Kubernetes runtime behind the real service: REST + browser WebSocket against the fake
// kube-apiserver, through the real @kubernetes/client-node.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { waitUntil } from '../helpers/processes.ts';
import { api } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-service-test-shared-secret-0123456789';

async function startOnFake(fake: FakeKubeApiserver, env: Record<string, string> = {}): Promise<Service> {
  const fullEnv = {
    // Generous limits: on a loaded machine a slow API call must not fail a start (and free a slot).
    RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '15',
    START_TIMEOUT_SECONDS: '90', K8S_LEASE_DURATION_SECONDS: '60', K8S_LEASE_RENEW_SECONDS: '2', MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4', SESSION_CREATES_PER_MINUTE: '1000',
    SESSION_COMMAND: 'echo pod-ready; exec bash --norc --noprofile -i', ...env,
  };
  return startServiceOnFake(fake, fullEnv);
}

const managedPods = (fake: FakeKubeApiserver) => fake.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'claudecode-web-terminal');

describe('kubernetes runtime behind the service', () => {
  let fake: FakeKubeApiserver;
  // A fresh fake per test: a failed test's pods must not leak into the next one.
  beforeEach(async () => {
    fake = await startFakeKubeApiserver();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('runs the full lifecycle: create, progress, attach, type, resize, delete leaves no pod', async () => {
    const service = await startOnFake(fake);
    try {
      const created = await api(service, 'POST', '/api/sessions', {});
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
      await term.waitForControl((m) => m.type === 'status' && m.state === 'running', 30_000);
      assert.equal(managedPods(fake).length, 1);
      const pod = managedPods(fake)[0]!;
      assert.equal(pod.metadata?.labels?.['claudecode.io/session-id'], created.body.id);
      assert.equal(pod.spec?.automountServiceAccountToken, false);
      const env = Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
      assert.match(String(env.ANTHROPIC_API_KEY), /\S{40,}/, 'the pod gets a per-session credential');
      assert.ok(!String(env.ANTHROPIC_API_KEY).startsWith('sk-ant-'), 'never a real key');
      await term.waitFor('pod-ready');
      term.control({ type: 'resize', cols: 101, rows: 33 });
      term.type('stty size; echo "k8s=$((20+22))"\n');
      await term.waitFor('33 101');
      await term.waitFor('k8s=42');
      const deleted = await api(service, 'DELETE', `/api/sessions/${created.body.id}`);
      assert.equal(deleted.status, 204);
      assert.equal((await term.closed).code, 1000);
      assert.equal(managedPods(fake).length, 0, 'DELETE returns once the pod is gone');
    } finally {
      await service.close();
    }
  });

  it('ends the session with the exit code when the program in the pod exits', async () => {
    const service = await startOnFake(fake);
    try {
      const created = await api(service, 'POST', '/api/sessions', {});
      const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
      await term.waitFor('pod-ready', 30_000);
      term.type('exit 5\n');
      const exit = await term.waitForControl((m) => m.type === 'exit');
      assert.equal(exit.code, 5);
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'pod deleted after exit');
    } finally {
      await service.close();
    }
  });

  it('admits exactly 4 of 50 parallel creates: 4 pods, then zero after deletes', async () => {
    const service = await startOnFake(fake);
    try {
      const results = await Promise.all(Array.from({ length: 50 }, () => api(service, 'POST', '/api/sessions', {})));
      const created = results.filter((r) => r.status === 201);
      assert.equal(created.length, 4);
      assert.equal(results.filter((r) => r.status === 429).length, 46);
      await waitUntil(() => managedPods(fake).length === 4, 30_000, 'four pods');
      await waitUntil(() => service.manager.listAll().every((s) => s.state === 'running'), 30_000, 'all running');
      assert.equal(managedPods(fake).length, 4);
      await Promise.all(created.map((r) => api(service, 'DELETE', `/api/sessions/${(r.body as { id: string }).id}`)));
      assert.equal(managedPods(fake).length, 0);
    } finally {
      await service.close();
    }
  });

  it('names a start failure and leaves no pod', async () => {
    const service = await startOnFake(fake);
    try {
      fake.kubelet.behaveOnce({ kind: 'image_pull_failed', waitingReason: 'ImagePullBackOff' });
      const created = await api(service, 'POST', '/api/sessions', {});
      const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
      const failed = await term.waitForControl((m) => m.type === 'status' && m.state === 'failed', 30_000);
      assert.equal(failed.reason, 'image_pull_failed');
      assert.equal((await term.closed).code, 1000);
      const view = await api(service, 'GET', `/api/sessions/${created.body.id}`);
      assert.equal(view.body.state, 'failed');
      assert.equal(view.body.reason, 'image_pull_failed');
      assert.equal(managedPods(fake).length, 0);
    } finally {
      await service.close();
    }
  });

  it('after a restart, adopts running pods (same program) and removes pods no session owns', async (t) => {
    const first = await startOnFake(fake);
    t.after(() => first.close()); // closing twice is harmless; a failed assertion must not leave it open
    const created = await api(first, 'POST', '/api/sessions', {});
    const id = created.body.id as string;
    const term = await openTerminal(wsUrl(first.url, created.body.wsUrl as string));
    await term.waitFor('pod-ready', 30_000);
    term.type('export MARK=survivor-$$; echo "set $MARK"\n');
    const out = await term.waitFor(/set survivor-\d+/);
    const mark = /set (survivor-\d+)/.exec(out)![1]!;
    await first.close(); // in Kubernetes the pods outlive the service
    await term.closed;
    assert.equal(managedPods(fake).length, 1, 'the pod survives the restart');

    // An orphan: a managed pod no session can own (e.g. left by a crash in the middle of a create).
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'claudecode-sandboxes',
      body: {
        metadata: {
          name: 'claudecode-session-orphan',
          labels: { 'app.kubernetes.io/managed-by': 'claudecode-web-terminal', 'claudecode.io/session-id': 'orphan' },
        },
        spec: { containers: [{ name: 'sandbox', image: 'claudecode/sandbox:0.1.0', command: ['sleep', 'infinity'] }] },
      },
    });
    assert.equal(managedPods(fake).length, 2);

    const second = await startOnFake(fake);
    try {
      await waitUntil(() => managedPods(fake).length === 1, 15_000, 'the orphan deleted by reconciliation');
      assert.deepEqual(managedPods(fake).map((p) => p.metadata?.name), [`claudecode-session-${id}`]);
      const listed = await api(second, 'GET', '/api/sessions');
      assert.deepEqual((listed.body.sessions as Array<{ id: string }>).map((s) => s.id), [id], 'the same user sees the adopted session');
      const attach = await api(second, 'POST', `/api/sessions/${id}/attach`);
      assert.equal(attach.status, 200);
      const again = await openTerminal(wsUrl(second.url, attach.body.wsUrl as string));
      again.type('echo "still $MARK"\n');
      await again.waitFor(`still ${mark}`);
      await again.close();
      assert.equal((await api(second, 'DELETE', `/api/sessions/${id}`)).status, 204);
      assert.equal(managedPods(fake).length, 0);
    } finally {
      await second.close();
    }
  });
});
