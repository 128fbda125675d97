// Warm sandboxes on Kubernetes, through the real service (REST + WebSocket) on the fake kube-apiserver
// with a scripted kubelet start: claims get pods that were running before the POST, the pool refills,
// a warm pod whose program dies is replaced, a claimed pod is bound to its owner (labels the next
// instance adopts by), unclaimed warm pods are never adopted and are removed, drain at shutdown.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { type KubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { podProcessIds } from '../fakes/kube-apiserver/processes.ts';
import { openTerminal, wsUrl, type TerminalClient } from '../helpers/terminal-client.ts';
import { as, bearer, jwtEnv, mintToken } from '../auth/helpers.ts';
import { eventually, startServiceOnFake } from './helpers.ts';

const waitUntil = (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => eventually(check, what, timeoutMs);
const SECRET = 'kubernetes-warm-test-shared-secret-0123456789';
/** The scripted kubelet start: a cold session cannot see its first byte sooner than this. */
const KUBELET_START_MS = 4000;
/** The kubelet start of the refill pods in the first test. */
const REFILL_START_MS = 15_000;
const SESSION_LABEL = 'claudecode.io/session-id';
const USER_LABEL = 'claudecode.io/user-hash';

async function startOnFake(fake: FakeKubeApiserver, env: Record<string, string> = {}): Promise<Service> {
  const fullEnv = jwtEnv({
    RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '15',
    START_TIMEOUT_SECONDS: '90', K8S_LEASE_DURATION_SECONDS: '60', K8S_LEASE_RENEW_SECONDS: '2',
    MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4', SESSION_CREATES_PER_MINUTE: '1000', SESSION_TIMEOUT_SECONDS: '3600',
    WARM_SANDBOXES: '2', WARM_POOLS: '-',
    SESSION_COMMAND: 'echo pod-ready; exec bash --norc --noprofile -i', ...env,
  });
  return startServiceOnFake(fake, fullEnv);
}

const managedPods = (fake: FakeKubeApiserver) => fake.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'claudecode-web-terminal' && !p.metadata?.deletionTimestamp);
const unclaimedPods = (fake: FakeKubeApiserver) => managedPods(fake).filter((p) => p.metadata?.labels?.[USER_LABEL] === 'unclaimed');
const sessionIdOf = (pod: V1Pod) => pod.metadata?.labels?.[SESSION_LABEL] ?? '';

/** Warm sandboxes the pool counts ready (running, program at its prompt), from the service's own gauge. */
async function readyWarm(service: Service): Promise<number> {
  const metric = await service.metrics.registry.getSingleMetric('webterminal_warm_sandboxes')?.get();
  return metric?.values.find((v) => v.labels.state === 'ready')?.value ?? 0;
}

async function claims(service: Service, how: 'warm' | 'refill'): Promise<number> {
  const metric = await service.metrics.registry.getSingleMetric('webterminal_warm_claims_total')?.get();
  return metric?.values.find((v) => v.labels.how === how)?.value ?? 0;
}

/** POSTs a session and measures POST -> the program's first output on its WebSocket. */
async function startTimed(user: ReturnType<typeof as>, service: Service): Promise<{ id: string; term: TerminalClient; firstByteMs: number }> {
  const started = performance.now();
  const created = await user('POST', '/api/sessions', {});
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
  await term.waitFor('pod-ready', 60_000); // the program's own output (a screen state may come first)
  return { id: String(created.body.id), term, firstByteMs: performance.now() - started };
}

describe('warm sandboxes on kubernetes', () => {
  let fake: FakeKubeApiserver;
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;
  beforeEach(async () => {
    fake = await startFakeKubeApiserver();
    fake.kubelet.behave({ kind: 'normal', startMs: KUBELET_START_MS });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('two POSTs get running pods at once (never the same), the third waits for a refill pod', { timeout: 120_000 }, async (t) => {
    const service = await startOnFake(fake);
    t.after(() => service.close());
    alice = as(service, bearer(await mintToken('alice')));
    bob = as(service, bearer(await mintToken('bob')));
    await waitUntil(async () => (await readyWarm(service)) === 2, 60_000, 'two warm pods at their prompt');
    const warmBefore = unclaimedPods(fake).map(sessionIdOf);
    assert.equal(warmBefore.length, 2);
    const warmPod = unclaimedPods(fake)[0]!;
    assert.ok((warmPod.spec?.activeDeadlineSeconds ?? 0) >= 2 * 3600, `a warm pod's hard deadline (${warmPod.spec?.activeDeadlineSeconds} s) covers its warm age plus a whole session`);

    // Refill pods start slowly, so they are surely still starting when the third POST comes.
    fake.kubelet.behave({ kind: 'normal', startMs: REFILL_START_MS });
    const [a, b] = await Promise.all([startTimed(alice, service), startTimed(bob, service)]);
    try {
      assert.notEqual(a.id, b.id, 'two concurrent POSTs never get the same pod');
      assert.deepEqual([a.id, b.id].sort(), [...warmBefore].sort(), 'both sessions run on pods that existed before their POST');
      for (const s of [a, b]) {
        assert.ok(s.firstByteMs < KUBELET_START_MS, `first byte after ${Math.round(s.firstByteMs)} ms, sooner than the kubelet could start a pod (${KUBELET_START_MS} ms)`);
      }
      assert.equal(await claims(service, 'warm'), 2);

      // The claim binds the owner on the pod: what a later instance adopts it by.
      const aliceHash = service.manager.listAll().find((s) => s.id === a.id)!.userHash;
      await waitUntil(() => managedPods(fake).some((p) => sessionIdOf(p) === a.id && p.metadata?.annotations?.[USER_LABEL] === aliceHash), 15_000, 'owner recorded on the pod');
      const bound = managedPods(fake).find((p) => sessionIdOf(p) === a.id)!;
      const session = service.manager.listAll().find((s) => s.id === a.id)!;
      assert.equal(bound.metadata?.labels?.[USER_LABEL], aliceHash.slice(0, 63));
      assert.equal(bound.metadata?.annotations?.['claudecode.io/expires-at'], session.expiresAt.toISOString(), 'the session\'s expiry, from the claim');
      assert.ok((bound.spec?.activeDeadlineSeconds ?? Infinity) <= 3600 + 60, 'the hard deadline shrinks to the session\'s end');

      // The pool refilled at once (capacity 4: two sessions, two warm pods); they are still starting.
      // (Both claimed pods carry their owner by then: neither is labelled unclaimed any more.)
      await waitUntil(() => unclaimedPods(fake).length === 2 && unclaimedPods(fake).every((p) => !warmBefore.includes(sessionIdOf(p))), 15_000, 'refill pods created, claimed ones bound');
      const refills = unclaimedPods(fake).map(sessionIdOf);
      assert.equal(await readyWarm(service), 0, 'the refill pods are not running yet');
      const third = await startTimed(alice, service);
      try {
        assert.ok(refills.includes(third.id), 'the third session waits for a refill pod (not a cold start)');
        assert.equal(await claims(service, 'refill'), 1);
        await third.term.waitFor('pod-ready');
        third.term.type('echo "third=$((40+2))"\n');
        await third.term.waitFor('third=42');
      } finally {
        await third.term.close();
      }
      assert.equal((await alice('GET', `/api/sessions/${b.id}`)).status, 404, 'bob\'s session is not alice\'s');
    } finally {
      await a.term.close();
      await b.term.close();
    }
  });

  it('a warm pod whose program dies, or that is deleted, is replaced and never handed out', { timeout: 120_000 }, async (t) => {
    const service = await startOnFake(fake, { MAX_SESSIONS: '2', MAX_SESSIONS_PER_USER: '2' });
    t.after(() => service.close());
    await waitUntil(async () => (await readyWarm(service)) === 2, 60_000, 'two warm pods');
    const [first, second] = unclaimedPods(fake).map(sessionIdOf) as [string, string];

    // The session program of the first dies (killed by pid, found through the fake pod's processes).
    const podDir = fake.kubelet.podDir(`claudecode-session-${first}`)!;
    const programs = podProcessIds(podDir).filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bash');
    assert.ok(programs.length > 0, 'the program runs in the warm pod');
    for (const pid of programs) process.kill(pid, 'SIGKILL');
    await waitUntil(() => !managedPods(fake).some((p) => sessionIdOf(p) === first), 30_000, 'the dead warm pod deleted');

    // The second is deleted from outside (e.g. evicted).
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    await core.deleteNamespacedPod({ name: `claudecode-session-${second}`, namespace: 'claudecode-sandboxes' });
    await waitUntil(async () => (await readyWarm(service)) === 2 && unclaimedPods(fake).every((p) => ![first, second].includes(sessionIdOf(p))), 60_000, 'two new warm pods');

    const user = as(service, bearer(await mintToken('carol')));
    const s = await startTimed(user, service);
    try {
      assert.ok(![first, second].includes(s.id));
      s.term.type('echo "alive=$((6*7))"\n');
      await s.term.waitFor('alive=42');
    } finally {
      await s.term.close();
    }
  });

  it('drains unclaimed pods at shutdown; the next instance adopts the claimed pod for its owner and removes unclaimed ones', { timeout: 150_000 }, async (t) => {
    const first = await startOnFake(fake);
    t.after(() => first.close());
    alice = as(first, bearer(await mintToken('alice')));
    await waitUntil(async () => (await readyWarm(first)) === 2, 60_000, 'two warm pods');
    const claimed = await startTimed(alice, first);
    claimed.term.type('export MARK=warm-$$; echo "set $MARK"\n');
    const out = await claimed.term.waitFor(/set warm-\d+/);
    const mark = /set (warm-\d+)/.exec(out)![1]!;
    const aliceHash = first.manager.listAll().find((s) => s.id === claimed.id)!.userHash;
    await waitUntil(() => managedPods(fake).some((p) => sessionIdOf(p) === claimed.id && p.metadata?.labels?.[USER_LABEL] === aliceHash.slice(0, 63)), 15_000, 'owner bound');
    await waitUntil(() => unclaimedPods(fake).length === 2, 15_000, 'refilled');
    // What a crashed instance would leave behind: an unclaimed warm pod, running.
    const leftover = structuredClone(unclaimedPods(fake)[0]!);

    await first.close();
    await claimed.term.closed;
    assert.deepEqual(managedPods(fake).map(sessionIdOf), [claimed.id], 'shutdown drained the warm pods; the claimed one lives on');

    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const orphanId = `${sessionIdOf(leftover)}x`;
    await core.createNamespacedPod({
      namespace: 'claudecode-sandboxes',
      body: {
        metadata: { name: `claudecode-session-${orphanId}`, labels: { ...leftover.metadata?.labels, [SESSION_LABEL]: orphanId }, annotations: leftover.metadata?.annotations },
        spec: { ...leftover.spec!, nodeName: undefined },
      },
    });
    await waitUntil(() => fake.pods().some((p) => sessionIdOf(p) === orphanId && p.status?.phase === 'Running'), 30_000, 'the leftover warm pod running');

    const second = await startOnFake(fake);
    try {
      alice = as(second, bearer(await mintToken('alice')));
      bob = as(second, bearer(await mintToken('bob')));
      await waitUntil(() => !fake.pods().some((p) => sessionIdOf(p) === orphanId), 30_000, 'the unclaimed leftover removed');
      assert.deepEqual(second.manager.listAll().map((s) => s.id), [claimed.id], 'only the claimed pod is adopted: an unclaimed one is nobody\'s session');
      const listed = await alice('GET', '/api/sessions');
      assert.deepEqual((listed.body.sessions as Array<{ id: string }>).map((s) => s.id), [claimed.id], 'its owner sees the adopted session');
      assert.deepEqual((await bob('GET', '/api/sessions')).body.sessions, [], 'nobody else does');
      const attach = await alice('POST', `/api/sessions/${claimed.id}/attach`);
      assert.equal(attach.status, 200);
      const again = await openTerminal(wsUrl(second.url, String(attach.body.wsUrl)));
      again.type('echo "still $MARK"\n');
      await again.waitFor(`still ${mark}`);
      await again.close();

      // The new instance's pool refills.
      await waitUntil(async () => (await readyWarm(second)) === 2, 60_000, 'the new instance\'s warm pods');
      assert.equal(unclaimedPods(fake).length, 2);
      assert.equal((await alice('DELETE', `/api/sessions/${claimed.id}`)).status, 204);
    } finally {
      await second.close();
    }
    assert.deepEqual(managedPods(fake), [], 'nothing left after the last shutdown drained the pool');
  });
  it('a standby instance of the same scope makes no warm pods; once it holds the Lease its pool fills', { timeout: 150_000 }, async (t) => {
    fake.kubelet.behave({ kind: 'normal' });
    const first = await startOnFake(fake);
    t.after(() => first.close());
    await waitUntil(async () => (await readyWarm(first)) === 2, 60_000, 'the active instance\'s warm pods');
    const second = await startOnFake(fake);
    t.after(() => second.close());
    const secondId = (second.runtime as KubernetesRuntime).controllerStatus().instanceId;
    assert.equal((second.runtime as KubernetesRuntime).controllerStatus().active, false, 'the second is on standby');
    // Two more renewals of the holder: the standby has looked at the Lease meanwhile and stays standby.
    const writes = fake.leases.writes.length;
    await waitUntil(() => fake.leases.writes.length >= writes + 2, 30_000, 'two Lease renewals');
    const madeBy = (id: string) => fake.pods().filter((p) => p.metadata?.annotations?.['claudecode.io/instance'] === id);
    assert.equal(madeBy(secondId).length, 0, 'no warm pod made by the standby');
    assert.equal(await readyWarm(second), 0);

    await first.close();
    await waitUntil(async () => (await readyWarm(second)) === 2, 60_000, 'the new holder\'s warm pods');
    assert.equal(madeBy(secondId).length, 2);
    assert.deepEqual(unclaimedPods(fake).map((p) => p.metadata?.annotations?.['claudecode.io/instance']), [secondId, secondId], 'the old holder drained its own');
  });
});
