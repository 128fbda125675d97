// Leader election against the fake kube-apiserver's Leases (real client-node over HTTP): a Lease whose
// holder stopped renewing is taken over only once it expired; a taken Lease stops the former holder
// from reconciling at once; concurrent attempts never both win.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';
import { LeaseElector, leaseName, newInstanceId } from '../../src/runtime/kubernetes/lease.ts';
import { createKubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import { startFakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { eventually, makeSpec, silentLogger, startHarness, startOpts, TerminalReader } from './helpers.ts';

const NAMESPACE = 'claudecode-system';

describe('Lease leader election', () => {
  it('instance ids are DNS-safe and unique', () => {
    const id = newInstanceId('Web-Terminal_7d9f.local');
    assert.match(id, /^web-terminal-7d9f-local-[0-9a-f]{6}$/);
    assert.notEqual(newInstanceId('a'), newInstanceId('a'));
  });

  it('a Lease held by an instance that stopped renewing is taken over once it expired, not before', { timeout: 30_000 }, async () => {
    const fake = await startFakeKubeApiserver();
    const started: string[] = [];
    const elector = new LeaseElector({
      kubeConfig: fake.kubeConfig(), namespace: NAMESPACE, name: leaseName('default'), identity: 'standby-1',
      durationSeconds: 2, renewSeconds: 1, timeoutMs: 2_000, logger: silentLogger,
      onStartedLeading: () => started.push('standby-1'), onStoppedLeading: () => undefined,
    });
    try {
      const now = new V1MicroTime(Date.now());
      await fake.kubeConfig().makeApiClient(CoordinationV1Api).createNamespacedLease({
        namespace: NAMESPACE,
        body: { metadata: { name: leaseName('default') }, spec: { holderIdentity: 'crashed-0', leaseDurationSeconds: 2, acquireTime: now, renewTime: now } },
      });
      const began = Date.now();
      await elector.start();
      assert.equal(elector.isLeader(), false, 'a live-looking holder is respected');
      assert.equal(elector.status().holder, 'crashed-0');
      await eventually(() => elector.isLeader(), 'the expired Lease taken over', 15_000);
      assert.ok(Date.now() - began >= 2_000, 'not before the Lease duration passed');
      assert.equal(fake.leases.holder(NAMESPACE, leaseName('default')), 'standby-1');
      assert.deepEqual(started, ['standby-1']);
      await elector.release();
      assert.equal(fake.leases.holder(NAMESPACE, leaseName('default')), undefined, 'release clears the holder');
    } finally {
      await elector.release();
      await fake.close();
    }
  });

  it('of instances trying at once, exactly one wins', { timeout: 30_000 }, async () => {
    const fake = await startFakeKubeApiserver();
    const electors = Array.from({ length: 5 }, (_, i) => new LeaseElector({
      kubeConfig: fake.kubeConfig(), namespace: NAMESPACE, name: leaseName('race'), identity: `racer-${i}`,
      durationSeconds: 10, renewSeconds: 1, timeoutMs: 2_000, logger: silentLogger,
      onStartedLeading: () => undefined, onStoppedLeading: () => undefined,
    }));
    try {
      await Promise.all(electors.map((e) => e.start()));
      assert.equal(electors.filter((e) => e.isLeader()).length, 1);
      assert.equal(fake.leases.holder(NAMESPACE, leaseName('race')), electors.find((e) => e.isLeader())!.identity);
    } finally {
      await Promise.all(electors.map((e) => e.release()));
      await fake.close();
    }
  });

  it('an instance whose Lease was taken stops creating and reconciling at once, and its pods survive', { timeout: 60_000 }, async () => {
    const h = await startHarness({ K8S_LEASE_DURATION_SECONDS: '10', K8S_LEASE_RENEW_SECONDS: '1' });
    try {
      const spec = makeSpec();
      const reader = new TerminalReader(await h.runtime.start(spec, startOpts()));
      await reader.waitFor('ready');
      // Another instance takes the Lease (as after a partition in which ours could not renew).
      const coordination = h.fake.kubeConfig().makeApiClient(CoordinationV1Api);
      const lease = await coordination.readNamespacedLease({ name: leaseName('default'), namespace: NAMESPACE });
      await coordination.replaceNamespacedLease({
        name: leaseName('default'), namespace: NAMESPACE,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'other-instance', leaseDurationSeconds: 600, renewTime: new V1MicroTime(Date.now()) } },
      });
      await eventually(() => h.runtime.controllerStatus().holder === 'other-instance', 'stepped down', 10_000);
      assert.equal(h.runtime.controllerStatus().active, false);
      assert.deepEqual(await h.runtime.reconcile([]), { deleted: [], failed: [] }, 'no reconcile without the Lease');
      assert.equal(h.fake.pods().length, 1, 'the pod is not deleted');
      assert.match(String(h.runtime.unavailableReason?.()), /standby/);
      const refused = await h.runtime.start(makeSpec(), startOpts()).then(() => null, (e: unknown) => e as { reason?: string });
      assert.equal(refused?.reason, 'standby');
      assert.match((await h.runtime.health()).message ?? '', /instance other-instance holds the Lease claudecode-system\/claudecode-web-terminal-default/);
      reader.terminal.detach();
    } finally {
      await h.close();
    }
  });

  it('a new holder starts no sandbox until its takeover (adoption) is done', { timeout: 30_000 }, async () => {
    const fake = await startFakeKubeApiserver();
    const config = loadKubernetesConfig({ SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '3' });
    const runtime = createKubernetesRuntime({ config, logger: silentLogger, kubeConfig: fake.kubeConfig() });
    let finishTakeover = () => {};
    const takeover = new Promise<void>((resolve) => { finishTakeover = resolve; });
    try {
      const started = runtime.startController({ onActive: () => takeover });
      await eventually(() => runtime.controllerStatus().active, 'the Lease', 10_000);
      assert.match(String(runtime.unavailableReason?.()), /taking over the running sessions/);
      finishTakeover();
      await started;
      await eventually(() => runtime.unavailableReason?.() === null, 'available once the takeover is done', 10_000);
    } finally {
      finishTakeover();
      await runtime.close();
      await fake.close();
    }
  });
});
