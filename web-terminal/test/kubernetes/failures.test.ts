// Every start failure has a name and leaves no pod behind, including API errors in the middle of a create.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SandboxError } from '../../src/runtime/types.ts';
import type { PodBehaviour } from '../fakes/kube-apiserver/index.ts';
import { eventually, makeSpec, startHarness, startOpts, type Harness } from './helpers.ts';

async function assertStartFails(h: Harness, reason: string, spec = makeSpec()): Promise<SandboxError> {
  const err = await h.runtime.start(spec, startOpts()).then(
    () => assert.fail('start should have failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SandboxError, `expected a SandboxError, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  // The pod is deleted before start rejects (or, for a create still in flight, as soon as it lands).
  await eventually(() => !h.fake.pods().some((p) => p.metadata?.name === `claudecode-session-${spec.sessionId}`), 'the pod to be gone');
  return err;
}

describe('kubernetes runtime start failures', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ START_TIMEOUT_SECONDS: '5', K8S_API_TIMEOUT_SECONDS: '1' }); });
  after(async () => { await h.close(); });

  const modes: [PodBehaviour, string, RegExp][] = [
    [{ kind: 'image_pull_failed', waitingReason: 'ErrImageNeverPull' }, 'image_pull_failed', /ErrImageNeverPull/],
    [{ kind: 'image_pull_failed', waitingReason: 'ImagePullBackOff' }, 'image_pull_failed', /ImagePullBackOff/],
    [{ kind: 'unschedulable', message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.' }, 'unschedulable', /Insufficient nvidia\.com\/gpu/],
    [{ kind: 'crash', exitCode: 3 }, 'container_crashed', /code 3/],
    [{ kind: 'oom' }, 'oom_killed', /memory/],
    [{ kind: 'never_ready' }, 'start_timeout', /not ready within 5 s/],
  ];
  for (const [behaviour, reason, message] of modes) {
    it(`${behaviour.kind}${'waitingReason' in behaviour ? ` (${behaviour.waitingReason})` : ''} fails as ${reason} and leaves no pod`, async () => {
      h.fake.kubelet.behaveOnce(behaviour);
      const err = await assertStartFails(h, reason);
      assert.match(err.message, message);
    });
  }

  it('the deadline passing while starting fails as deadline_exceeded', async () => {
    h.fake.kubelet.deadlineMsPerSecond = 50;
    try {
      h.fake.kubelet.behaveOnce({ kind: 'normal', startMs: 2000 });
      const createdAt = new Date();
      await assertStartFails(h, 'deadline_exceeded', makeSpec({ createdAt, expiresAt: new Date(createdAt.getTime() + 2000) }));
    } finally {
      h.fake.kubelet.deadlineMsPerSecond = 1000;
    }
  });

  it('a 500 on create fails as api_error and leaves no pod', async () => {
    h.fake.api.failNext('create', { kind: 'status', code: 500 });
    await assertStartFails(h, 'api_error');
  });

  it('a create that stores the pod and then answers 500 leaves no pod', async () => {
    h.fake.api.failNext('create', { kind: 'status-after-store', code: 500 });
    await assertStartFails(h, 'api_error');
  });

  it('a create that stores the pod and then hangs (client timeout) leaves no pod', async () => {
    h.fake.kubelet.behaveOnce({ kind: 'never_ready' }); // so the create timeout, not readiness, decides
    h.fake.api.failNext('create', { kind: 'hang-after-store' });
    await assertStartFails(h, 'api_error');
  });

  it('a create that hangs without storing leaves no pod', async () => {
    h.fake.api.failNext('create', { kind: 'hang' });
    await assertStartFails(h, 'api_error');
  });

  it('an abort while starting deletes the pod before rejecting', async () => {
    h.fake.kubelet.behaveOnce({ kind: 'never_ready' });
    const controller = new AbortController();
    const spec = makeSpec();
    const started = h.runtime.start(spec, startOpts([], controller.signal));
    await eventually(() => h.fake.pods().some((p) => p.metadata?.name === `claudecode-session-${spec.sessionId}`), 'the pod to exist');
    controller.abort();
    const err = await started.then(() => assert.fail('should reject'), (e: unknown) => e as SandboxError);
    assert.equal(err.reason, 'aborted');
    assert.equal(h.fake.pods().some((p) => p.metadata?.name === `claudecode-session-${spec.sessionId}`), false);
  });

  it('a profile the operator did not allow is refused before anything is created', async () => {
    const before = h.fake.api.requests.filter((r) => r.method === 'POST').length;
    await assertStartFails(h, 'api_error', makeSpec({ profile: 'gpu' }));
    assert.equal(h.fake.api.requests.filter((r) => r.method === 'POST').length, before);
  });

  it('stop does not hang when the API hangs on delete', async () => {
    const spec = makeSpec();
    await h.runtime.start(spec, startOpts());
    h.fake.api.failNext('delete', { kind: 'hang' });
    await h.runtime.stop(spec.sessionId); // resolves after K8S_API_TIMEOUT_SECONDS
    const name = `claudecode-session-${spec.sessionId}`;
    assert.ok(h.fake.pods().some((p) => p.metadata?.name === name));
    const result = await h.runtime.reconcile([]);
    assert.deepEqual(result.deleted, [name]);
    await eventually(() => h.fake.pods().length === 0, 'reconciliation to delete the pod');
  });
});
