// One active controller per scope, proven with several real web-terminal services on one fake
// kube-apiserver (each with its own HTTP server, runtime, Lease elector and @kubernetes/client-node
// loading its own kubeconfig file, talking real HTTP; `close()` is what SIGTERM runs in main.ts):
// - same scope: the second instance stays unready and refuses sessions while the first's session keeps
//   working past several reconcile periods; stopping the first hands the Lease over and the second
//   adopts the session's pod without killing it (the same program answers through the second);
// - two scopes (production and a laptop's dev scope) on one cluster: both active, both keep their
//   sessions past several reconcile periods, neither touches the other's pods.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createKubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl, type TerminalClient } from '../helpers/terminal-client.ts';
import { eventually } from './helpers.ts';

/** A started instance and its log lines (info level, kept for assertions). */
interface Instance {
  service: Service;
  url: string;
  output(): string;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  let log = '';
  const sink = new Writable({ write(chunk, _enc, done) { log = (log + String(chunk)).slice(-200_000); done(); } });
  const logger = pino({ level: 'info' }, sink);
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', ...env });
  // As in production: the runtime loads KUBECONFIG itself (no kubeConfig object handed in).
  const runtime = createKubernetesRuntime({ config, logger: logger.child({ component: 'kubernetes-runtime' }), stopWaitMs: 10_000 });
  const service = await startTestService(env, { runtime, logger });
  return { service, url: service.url, output: () => log };
}

const SECRET = 'kubernetes-controller-test-shared-secret-012345';
const LEASE_NAMESPACE = 'claudecode-system';

function writeKubeconfig(dir: string, fake: FakeKubeApiserver): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: fake\n  cluster:\n    server: ${fake.url}\n    insecure-skip-tls-verify: true`,
    'users:',
    `- name: fake-user\n  user:\n    token: ${fake.token}`,
    'contexts:',
    '- name: fake\n  context:\n    cluster: fake\n    user: fake-user\n    namespace: claudecode-sandboxes',
    'current-context: fake',
    '',
  ].join('\n'), { mode: 0o600 });
  return path;
}

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { error?: { code: string; message: string } } };
}

const podsOfScope = (fake: FakeKubeApiserver, scope: string) => fake.pods().filter((p) =>
  p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'claudecode-web-terminal' && (p.metadata.labels['claudecode.io/scope'] ?? 'default') === scope);

/** Reconcile lists of one instance: plain pod lists with its scope's selector (the watch lists rarely). */
const podLists = (fake: FakeKubeApiserver, scope: string) => fake.api.requests.filter((r) =>
  r.method === 'GET' && r.path.startsWith('/api/v1/namespaces/claudecode-sandboxes/pods?') && !r.path.includes('watch=')
  && (scope === 'default' ? !decodeURIComponent(r.path).includes('claudecode.io/scope') : decodeURIComponent(r.path).includes(`claudecode.io/scope=${scope}`))).length;

async function stop(instance: Instance | null): Promise<void> {
  await instance?.service.close();
}

async function startSession(url: string): Promise<{ id: string; term: TerminalClient }> {
  const created = await call(url, 'POST', '/api/sessions', {});
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const term = await openTerminal(wsUrl(url, created.body.wsUrl as string));
  await term.waitFor('pod-ready', 30_000);
  return { id: created.body.id as string, term };
}

describe('one active web-terminal per scope (several services on one fake cluster)', () => {
  let fake: FakeKubeApiserver;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    fake = await startFakeKubeApiserver();
    dir = mkdtempSync(join(tmpdir(), 'controller-test-'));
    env = {
      RUNTIME: 'kubernetes', KUBECONFIG: writeKubeconfig(dir, fake), PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: '',
      K8S_API_TIMEOUT_SECONDS: '3', START_TIMEOUT_SECONDS: '30', LOG_LEVEL: 'info',
      // A long Lease (a late renewal on busy cores must not make the holder step down); hand-over after a
      // clean shutdown does not wait for it: the standby tries every second.
      K8S_LEASE_DURATION_SECONDS: '30', K8S_LEASE_RENEW_SECONDS: '1', K8S_RECONCILE_SECONDS: '1',
      SESSION_COMMAND: 'echo pod-ready; exec bash --norc --noprofile -i',
    };
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second instance of the same scope stands by; stopping the first hands over and the second adopts the live session', { timeout: 120_000 }, async () => {
    let first: Instance | null = null;
    let second: Instance | null = null;
    try {
      first = await startInstance(env);
      await eventually(async () => (await call(first!.url, 'GET', '/readyz')).status === 200, 'the first instance ready', 20_000);
      second = await startInstance(env);
      const standby = await call(second.url, 'GET', '/readyz');
      assert.equal(standby.status, 503);
      assert.match(JSON.stringify(standby.body), /standby: instance \S+ holds the Lease claudecode-system\/claudecode-web-terminal-default/);
      await eventually(() => second!.output().includes('standby: another instance holds the lease'), 'the standby log line', 10_000);
      const refused = await call(second.url, 'POST', '/api/sessions', {});
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error?.code, 'runtime_unavailable');
      assert.match(String(refused.body.error?.message), /standby/);

      const { id, term } = await startSession(first.url);
      const podName = `claudecode-session-${id}`;
      const uid = podsOfScope(fake, 'default').find((p) => p.metadata?.name === podName)?.metadata?.uid;
      assert.ok(uid);
      assert.equal(fake.pods().find((p) => p.metadata?.name === podName)?.metadata?.annotations?.['claudecode.io/instance'],
        fake.leases.holder(LEASE_NAMESPACE, 'claudecode-web-terminal-default'), 'the pod names the instance that holds the Lease');
      term.type('export MARK=kept-$$; echo "set $MARK"\n');
      const mark = /set (kept-\d+)/.exec(await term.waitFor(/set kept-\d+/))![1]!;

      // Several reconcile periods of the first instance pass; the second never reconciles.
      const listsBefore = podLists(fake, 'default');
      await eventually(() => podLists(fake, 'default') >= listsBefore + 4, 'four reconcile periods', 30_000);
      term.type('echo "alive $MARK"\n');
      await term.waitFor(`alive ${mark}`);
      assert.equal((await call(second.url, 'GET', '/readyz')).status, 503, 'the second is still on standby');

      // Hand-over: the first releases the Lease on shutdown; the second takes it and adopts the pod.
      await stop(first);
      first = null;
      await term.closed;
      await eventually(async () => (await call(second!.url, 'GET', '/readyz')).status === 200, 'the second instance active', 20_000);
      assert.match(second.output(), /acquired the lease/);
      assert.equal(fake.pods().find((p) => p.metadata?.name === podName)?.metadata?.uid, uid, 'the same pod, never deleted');
      assert.ok(!fake.api.requests.some((r) => r.method === 'DELETE' && r.path.includes(podName)));
      const listed = await call(second.url, 'GET', '/api/sessions');
      assert.deepEqual((listed.body.sessions as Array<{ id: string }>).map((s) => s.id), [id]);
      const attach = await call(second.url, 'POST', `/api/sessions/${id}/attach`);
      assert.equal(attach.status, 200);
      const again = await openTerminal(wsUrl(second.url, attach.body.wsUrl as string));
      again.type('echo "through the second $MARK"\n');
      await again.waitFor(`through the second ${mark}`);
      assert.equal((await call(second.url, 'DELETE', `/api/sessions/${id}`)).status, 204);
      await again.closed;
      assert.equal(podsOfScope(fake, 'default').length, 0);
    } finally {
      await stop(first);
      await stop(second);
    }
  });

  it('production and a laptop (K8S_SCOPE=dev-alice) are both active on one cluster and keep each other\'s sessions', { timeout: 120_000 }, async () => {
    let production: Instance | null = null;
    let laptop: Instance | null = null;
    const requestsBefore = fake.api.requests.length;
    try {
      production = await startInstance(env);
      laptop = await startInstance({ ...env, K8S_SCOPE: 'dev-alice' });
      for (const service of [production, laptop]) {
        await eventually(async () => (await call(service.url, 'GET', '/readyz')).status === 200, 'both instances active', 20_000);
      }
      assert.notEqual(fake.leases.holder(LEASE_NAMESPACE, 'claudecode-web-terminal-default'), undefined);
      assert.notEqual(fake.leases.holder(LEASE_NAMESPACE, 'claudecode-web-terminal-dev-alice'), undefined);
      assert.notEqual(fake.leases.holder(LEASE_NAMESPACE, 'claudecode-web-terminal-default'), fake.leases.holder(LEASE_NAMESPACE, 'claudecode-web-terminal-dev-alice'));

      const prod = await startSession(production.url);
      const dev = await startSession(laptop.url);
      assert.deepEqual(podsOfScope(fake, 'default').map((p) => p.metadata?.name), [`claudecode-session-${prod.id}`]);
      assert.deepEqual(podsOfScope(fake, 'dev-alice').map((p) => p.metadata?.name), [`claudecode-session-${dev.id}`]);

      const before = { prod: podLists(fake, 'default'), dev: podLists(fake, 'dev-alice') };
      await eventually(() => podLists(fake, 'default') >= before.prod + 4 && podLists(fake, 'dev-alice') >= before.dev + 4,
        'four reconcile periods of each instance', 30_000);
      prod.term.type('echo "prod=$((40+2))"\n');
      dev.term.type('echo "dev=$((40+3))"\n');
      await prod.term.waitFor('prod=42');
      await dev.term.waitFor('dev=43');
      assert.ok(!fake.api.requests.slice(requestsBefore).some((r) => r.method === 'DELETE'), 'no instance deleted any pod');
      const ids = async (url: string) => ((await call(url, 'GET', '/api/sessions')).body.sessions as Array<{ id: string }>).map((s) => s.id);
      assert.deepEqual(await ids(production.url), [prod.id]);
      assert.deepEqual(await ids(laptop.url), [dev.id]);

      for (const [service, id] of [[production, prod.id], [laptop, dev.id]] as const) {
        assert.equal((await call(service.url, 'DELETE', `/api/sessions/${id}`)).status, 204);
      }
      assert.equal(podsOfScope(fake, 'default').length + podsOfScope(fake, 'dev-alice').length, 0);
    } finally {
      await stop(production);
      await stop(laptop);
    }
  });
});
