// A DELETE at any moment, 0 ms to 2 s after the POST (while the pod is still being made included),
// leaves no pod behind: the real service and Kubernetes runtime on the fake kube-apiserver (real
// @kubernetes/client-node over HTTP). The local runtime's twin is test/integration/stop-race.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { waitUntil } from '../helpers/processes.ts';
import { delays, runPairs, STOP_RACE_LIMITS as limits } from '../helpers/stop-race.ts';
import { startServiceOnFake } from './helpers.ts';

describe('race-free stop, kubernetes runtime (fake kube-apiserver)', () => {
  let fake: FakeKubeApiserver;
  let service: Service;
  before(async () => {
    fake = await startFakeKubeApiserver();
    const env = {
      ...limits, RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: 'stop-race-test-shared-secret-0123456789abcdef', SANDBOX_ENTRYPOINT: '',
      K8S_API_TIMEOUT_SECONDS: '3', START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: 'echo up; exec sleep 1000',
      // A delete the API did not take (a timeout on a loaded machine) is reconciliation's to finish: the
      // guarantee tested is that no pod outlives its session by more than a reconcile period.
      K8S_RECONCILE_SECONDS: '3',
    };
    service = await startServiceOnFake(fake, env);
  });
  after(async () => {
    await service?.close();
    await fake?.close();
  });

  const podsOf = (id: string) => fake.pods().filter((p) => p.metadata?.labels?.['claudecode.io/session-id'] === id);

  it('200 create/delete pairs at random delays leave no pod behind', { timeout: 300_000 }, async () => {
    const leftAfterDelete: string[] = [];
    const ids = await runPairs(service, delays(200, 11, 2000), 8, (id) => {
      if (podsOf(id).length > 0) leftAfterDelete.push(id);
    });
    assert.equal(ids.length, 200);
    assert.deepEqual(leftAfterDelete, [], 'a pod outlived the DELETE that answered 204');
    // A start that lost the race to its DELETE removes the pod it made once its create settles (and
    // reconciliation removes what a failed delete left).
    await waitUntil(() => service.manager.listAll().every((s) => !s.isActive), 30_000, 'every session ended');
    const left = () => ids.filter((id) => podsOf(id).length > 0);
    await waitUntil(() => left().length === 0, 30_000, 'no pod of an ended session left').catch(() => undefined);
    assert.deepEqual(left(), [], 'no pod outlives its session');
  });
});
