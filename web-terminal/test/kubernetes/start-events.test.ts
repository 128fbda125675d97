// Starts through the real service (REST + browser WebSocket) against the fake kube-apiserver with the
// real @kubernetes/client-node: progress and failures from the pod's Events reach the page's socket as
// sentences, every start ends within its deadline (even when the pod watch never opens), GPU sessions
// work end to end and keep their profile across an adoption.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { waitUntil } from '../helpers/processes.ts';
import { api } from '../helpers/service.ts';
import { openTerminal, wsUrl, type TerminalClient } from '../helpers/terminal-client.ts';
import { startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-start-events-test-shared-secret-0123';

async function startOnFake(fake: FakeKubeApiserver, env: Record<string, string> = {}): Promise<Service> {
  const fullEnv = {
    RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '2',
    START_TIMEOUT_SECONDS: '20', K8S_LEASE_DURATION_SECONDS: '60', K8S_LEASE_RENEW_SECONDS: '2', MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4', SESSION_CREATES_PER_MINUTE: '1000',
    SESSION_COMMAND: 'echo pod-ready; exec bash --norc --noprofile -i', ...env,
  };
  return startServiceOnFake(fake, fullEnv);
}

const managedPods = (fake: FakeKubeApiserver) => fake.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'claudecode-web-terminal');

/** A fresh fake cluster and service per test: scripted faults and pods never leak into the next test. */
async function withService(env: Record<string, string>, body: (fake: FakeKubeApiserver, service: Service) => Promise<void>): Promise<void> {
  const fake = await startFakeKubeApiserver();
  let service: Service | null = null;
  try {
    service = await startOnFake(fake, env);
    await body(fake, service);
  } finally {
    await service?.close();
    await fake.close();
  }
}

async function createAndOpen(service: Service, body: unknown = {}): Promise<{ id: string; term: TerminalClient }> {
  const created = await api(service, 'POST', '/api/sessions', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.id as string, term: await openTerminal(wsUrl(service.url, created.body.wsUrl as string)) };
}

const isStatus = (state: string, extra: (m: Record<string, unknown>) => boolean = () => true) =>
  (m: Record<string, unknown>) => m.type === 'status' && m.state === state && extra(m);

describe('kubernetes starts as the page sees them', () => {
  it('shows "Downloading the sandbox image: <image>" from the Pulling Event, then the image pull failure with the kubelet\'s words', { timeout: 60_000 }, async () => {
    await withService({}, async (fake, service) => {
      fake.kubelet.behaveOnce({ kind: 'pulling' });
      const { id, term } = await createAndOpen(service);
      const pulling = await term.waitForControl(isStatus('starting', (m) => m.phase === 'pulling_image'), 30_000);
      assert.equal(pulling.message, 'Downloading the sandbox image: claudecode/sandbox:0.1.0');
      fake.kubelet.failImagePull(`claudecode-session-${id}`, 'rpc error: code = NotFound desc = manifest unknown');
      const failed = await term.waitForControl(isStatus('failed'), 30_000);
      assert.equal(failed.reason, 'image_pull_failed');
      assert.match(String(failed.message), /^The sandbox image could not be loaded on the server\. .*manifest unknown/);
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the failed pod removed');
    });
  });

  it('a FailedScheduling reaches the page with the scheduler\'s message', { timeout: 60_000 }, async () => {
    await withService({}, async (fake, service) => {
      const scheduler = '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available.';
      fake.kubelet.behaveOnce({ kind: 'unschedulable', message: scheduler });
      const { term } = await createAndOpen(service);
      const failed = await term.waitForControl(isStatus('failed'), 30_000);
      assert.equal(failed.reason, 'unschedulable');
      assert.equal(failed.message, `The cluster has no room for another session right now. ${scheduler}`);
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the failed pod removed');
    });
  });

  it('a FailedMount is shown while starting, and names the failure when the deadline passes', { timeout: 60_000 }, async () => {
    await withService({ START_TIMEOUT_SECONDS: '5' }, async (fake, service) => {
      fake.kubelet.behaveOnce({ kind: 'mount_failed', message: 'MountVolume.SetUp failed for volume "courses" : persistentvolumeclaim "courses" not found' });
      const { id, term } = await createAndOpen(service);
      const warning = await term.waitForControl(isStatus('starting', (m) => m.phase === 'mount_failed'), 30_000);
      assert.equal(warning.message, 'A storage volume of the session could not be attached. MountVolume.SetUp failed for volume "courses" : persistentvolumeclaim "courses" not found');
      const failed = await term.waitForControl(isStatus('failed'), 30_000);
      assert.equal(failed.reason, 'mount_failed');
      assert.match(String(failed.message), /persistentvolumeclaim "courses" not found/);
      assert.equal((await api(service, 'GET', `/api/sessions/${id}`)).body.reason, 'mount_failed');
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the failed pod removed');
    });
  });

  it('a quota refusal on create fails at once as quota_exceeded, with the quota\'s message', { timeout: 60_000 }, async () => {
    await withService({}, async (fake, service) => {
      const quota = 'pods "x" is forbidden: exceeded quota: sandbox-quota, requested: pods=1, used: pods=4, limited: pods=4';
      fake.api.failNext('create', { kind: 'status', code: 403, reason: 'Forbidden', message: quota });
      const { term } = await createAndOpen(service);
      const failed = await term.waitForControl(isStatus('failed'), 30_000);
      assert.equal(failed.reason, 'quota_exceeded');
      assert.equal(failed.message, `The cluster's quota for sessions is used up right now. ${quota}`);
      assert.equal(managedPods(fake).length, 0);
    });
  });

  it('a pod watch that never opens ends the start as failed within the deadline, removes the pod, and /readyz still answers', { timeout: 60_000 }, async () => {
    await withService({ START_TIMEOUT_SECONDS: '5' }, async (fake, service) => {
      for (let i = 0; i < 50; i += 1) fake.api.failNext('watch', { kind: 'hang' }); // every watch request: accepted, never answered
      const began = Date.now();
      const { term } = await createAndOpen(service);
      const failed = await term.waitForControl(isStatus('failed'), 30_000);
      const tookMs = Date.now() - began;
      assert.equal(failed.reason, 'cluster_unresponsive');
      assert.equal(failed.message, 'The cluster did not answer in time to start the session.');
      assert.ok(tookMs < 5_000 + 4_000, `ended within the deadline (took ${tookMs} ms)`);
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the pod removed');
      const readyBegan = Date.now();
      const ready = await api(service, 'GET', '/readyz');
      assert.ok(Date.now() - readyBegan < 3_000, '/readyz answers within the probe timeout');
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(ready.body), /watch/);
    });
  });

  it('an exec that never opens (pod ready, upgrade never answered) ends the start as failed within the deadline and removes the pod', { timeout: 60_000 }, async () => {
    await withService({ START_TIMEOUT_SECONDS: '5' }, async (fake, service) => {
      for (let i = 0; i < 5; i += 1) fake.api.failNext('exec', { kind: 'hang' });
      const began = Date.now();
      const { id, term } = await createAndOpen(service);
      const failed = await term.waitForControl(isStatus('failed'), 30_000);
      const tookMs = Date.now() - began;
      assert.equal(failed.reason, 'start_timeout');
      assert.match(String(failed.message), /^The session took too long to start\./);
      assert.ok(tookMs < 5_000 + 4_000, `ended within the deadline (took ${tookMs} ms)`);
      assert.ok(fake.api.requests.some((r) => r.path.includes(`/pods/claudecode-session-${id}/exec`)), 'the start got as far as the exec');
      assert.equal((await api(service, 'GET', `/api/sessions/${id}`)).body.reason, 'start_timeout');
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the pod removed');
    });
  });

  it('a gpu session gets nvidia.com/gpu through the API when allowed, /api/info offers it, and an adopted pod keeps it', { timeout: 90_000 }, async () => {
    const fake = await startFakeKubeApiserver();
    const env = { SANDBOX_PROFILES_ALLOWED: 'gpu' };
    let first: Service | null = null;
    let second: Service | null = null;
    try {
      first = await startOnFake(fake, env);
      const info = await api(first, 'GET', '/api/info');
      assert.equal(info.status, 200);
      assert.deepEqual(info.body, { apiKeyConfigured: false, runtime: 'kubernetes', profiles: ['default', 'gpu'], scrollbackLines: 1000 });
      const { id, term } = await createAndOpen(first, { profile: 'gpu' });
      await term.waitFor('pod-ready', 30_000);
      const pod = managedPods(fake).find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === id)!;
      const resources = pod.spec?.containers[0]?.resources;
      assert.equal(resources?.limits?.['nvidia.com/gpu'], '1');
      assert.equal(resources?.requests?.['nvidia.com/gpu'], '1');
      assert.equal(pod.spec?.runtimeClassName, 'nvidia');
      assert.equal(pod.metadata?.labels?.['claudecode.io/profile'], 'gpu');
      await first.close();
      first = null;
      await term.closed;

      second = await startOnFake(fake, env);
      assert.equal(second.manager.listAll().find((s) => s.id === id)?.profile, 'gpu', 'the adopted session keeps its profile');
      assert.equal((await api(second, 'DELETE', `/api/sessions/${id}`)).status, 204);
    } finally {
      await first?.close();
      await second?.close();
      await fake.close();
    }
  });

  it('without SANDBOX_PROFILES_ALLOWED, gpu is refused and /api/info offers only default', { timeout: 30_000 }, async () => {
    await withService({}, async (fake, service) => {
      // No api-proxy answers in this test: the key is not known to be configured.
      assert.deepEqual((await api(service, 'GET', '/api/info')).body, { apiKeyConfigured: false, runtime: 'kubernetes', profiles: ['default'], scrollbackLines: 1000 });
      const refused = await api(service, 'POST', '/api/sessions', { profile: 'gpu' });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error?.message, 'profile "gpu" is not allowed');
      assert.equal(managedPods(fake).length, 0);
    });
  });
});
