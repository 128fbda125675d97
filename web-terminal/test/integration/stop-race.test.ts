// A DELETE at any moment, 0 ms to 2 s after the POST (while the sandbox is still being made included),
// leaves nothing behind: no sandbox process and no cgroup locally, no pod on Kubernetes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { parseCgroupLayout } from '../../src/runtime/local/cgroups.ts';
import { createKubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { waitUntil } from '../helpers/processes.ts';
import { processesMentioning } from '../helpers/service-process.ts';
import { api, startTestService } from '../helpers/service.ts';

/** A small seeded generator: the same delays on every run, so a failure can be replayed. */
function delays(count: number, seed: number, maxMs: number): number[] {
  let state = seed;
  return Array.from({ length: count }, (_, i) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    // Every tenth pair deletes at once, and half of them within 300 ms: the stop races the sandbox being made.
    if (i % 10 === 0) return 0;
    return i % 2 === 0 ? state % Math.min(300, maxMs) : state % maxMs;
  });
}

/** Runs create/delete pairs with bounded concurrency; `check` runs right after each DELETE answered. */
async function runPairs(service: Service, waits: number[], concurrency: number, check: (id: string) => void): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < waits.length) {
      const wait = waits[next++]!;
      const created = await api(service, 'POST', '/api/sessions', {});
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      ids.push(id);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const deleted = await api(service, 'DELETE', `/api/sessions/${id}`);
      assert.equal(deleted.status, 204);
      check(id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

const limits = { MAX_SESSIONS: '8', MAX_SESSIONS_PER_USER: '8', SESSION_CREATES_PER_MINUTE: '10000' };

describe('race-free stop, local runtime', () => {
  let service: Service;
  before(async () => {
    service = await startTestService({ ...limits, SESSION_COMMAND: 'echo up; exec sleep 1000' });
  });
  after(() => service.close());

  it('200 create/delete pairs at random delays leave no sandbox process and no cgroup', { timeout: 300_000 }, async () => {
    const leftAfterDelete: string[] = [];
    const ids = await runPairs(service, delays(200, 7, 2000), 8, (id) => {
      if (processesMentioning(id).length > 0) leftAfterDelete.push(id);
    });
    assert.equal(ids.length, 200);
    assert.deepEqual(leftAfterDelete, [], 'a sandbox process outlived the DELETE that answered 204');
    // And nothing turns up later either (a sandbox made after its stop would).
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(ids.filter((id) => processesMentioning(id).length > 0), []);
    const layout = parseCgroupLayout(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/self/mountinfo', 'utf8'), () => null);
    const bases = [layout.v2?.dir, ...Object.values(layout.v1)].filter((d): d is string => d !== undefined).map((d) => join(d, 'claudecode-sandboxes'));
    const leftCgroups = ids.flatMap((id) => bases.map((b) => join(b, `session-${id}`))).filter((dir) => existsSync(dir));
    assert.deepEqual(leftCgroups, [], 'every sandbox cgroup was removed');
  });

  it('kills a sandbox process the process tree no longer leads to (an init reparented away)', { timeout: 60_000 }, async () => {
    const created = await api(service, 'POST', '/api/sessions', {});
    const id = created.body.id as string;
    await waitUntil(() => processesMentioning(id).length > 0, 10_000, 'the sandbox running');
    // What a sandbox's init looks like once bubblewrap's outer process is gone: not a child of the service,
    // carrying the session's marker in its arguments.
    const straggler = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', '--', 'CLAUDECODE_SESSION_ID', id], { detached: true, stdio: 'ignore' });
    const gone = new Promise((resolve) => straggler.once('exit', resolve));
    try {
      await waitUntil(() => processesMentioning(id).includes(straggler.pid!), 10_000, 'the straggler running');
      assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
      assert.deepEqual(processesMentioning(id), [], 'nothing of the sandbox survives its DELETE');
      await gone;
    } finally {
      straggler.kill('SIGKILL');
    }
  });
});

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
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', LOG_LEVEL: 'silent', ...env });
    const runtime = createKubernetesRuntime({ config, logger: pino({ level: 'silent' }), kubeConfig: fake.kubeConfig(), stopWaitMs: 10_000 });
    service = await startTestService(env, { runtime });
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
