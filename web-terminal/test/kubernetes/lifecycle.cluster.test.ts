// Opt-in: the same lifecycle against a real cluster (`npm run test:cluster` with KUBECONFIG set).
// Uses K8S_NAMESPACE, SANDBOX_IMAGE, SANDBOX_IMAGE_PULL_POLICY, SANDBOX_ENTRYPOINT, ... from the environment;
// the image must contain dtach. Without KUBECONFIG it runs nothing and says so.
// It manages only its own scopes (K8S_SCOPE, default `cluster-test`, plus suffixes), never the pods or
// the Lease of a web-terminal running in the cluster; its Leases (released) stay in K8S_LEASE_NAMESPACE.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';
import { createKubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import { SandboxError } from '../../src/runtime/types.ts';
import { eventually, makeSpec, silentLogger, startOpts, TerminalReader } from './helpers.ts';

const NOT_RUN = 'did not run: KUBECONFIG not set (the real-cluster suite needs a cluster)';

if (!process.env.KUBECONFIG) {
  console.log(NOT_RUN);
  it('real-cluster lifecycle', { skip: NOT_RUN }, () => {});
} else {
  describe('kubernetes runtime against a real cluster', { timeout: 10 * 60_000 }, () => {
    const scope = process.env.K8S_SCOPE && process.env.K8S_SCOPE !== 'default' ? process.env.K8S_SCOPE : 'cluster-test';
    const config = loadKubernetesConfig({ ...process.env, K8S_SCOPE: scope, K8S_LEASE_DURATION_SECONDS: '6', K8S_LEASE_RENEW_SECONDS: '1' });
    const runtime = createKubernetesRuntime({ config, logger: silentLogger });
    const activate = async (r: ReturnType<typeof createKubernetesRuntime>) => r.startController({ onActive: async () => undefined });

    it('starts, bridges, resizes, reattaches, exits with its code, and stops', async () => {
      const spec = makeSpec({ sessionId: `cluster-${Date.now().toString(36)}`, command: ['/bin/sh'], cols: 91, rows: 31 });
      await activate(runtime);
      assert.equal(runtime.controllerStatus().active, true, 'holds the Lease of its own scope');
      try {
        const reader = new TerminalReader(await runtime.start(spec, startOpts()));
        reader.terminal.write(Buffer.from('stty size; echo marker-$((6*7))\n'));
        await reader.waitFor('marker-42', 60_000);
        assert.match(reader.output, /31 91/);
        reader.terminal.detach();
        const again = new TerminalReader(await runtime.attach(spec.sessionId, { cols: 100, rows: 40 }));
        again.terminal.write(Buffer.from('stty size; exit 3\n'));
        assert.equal((await again.waitExit(60_000)).code, 3);
        assert.match(again.output, /40 100/);
      } finally {
        await runtime.stop(spec.sessionId);
      }
      assert.equal((await runtime.list()).some((r) => r.sessionId === spec.sessionId), false);
    });

    it('a missing image with pull policy Never fails as image_pull_failed and leaves no pod', async () => {
      const broken = createKubernetesRuntime({
        config: { ...config, K8S_SCOPE: `${scope}-b`, SANDBOX_IMAGE: 'claudecode/does-not-exist:0.0.0', SANDBOX_IMAGE_PULL_POLICY: 'Never' },
        logger: silentLogger,
      });
      const spec = makeSpec({ sessionId: `cluster-missing-${Date.now().toString(36)}` });
      try {
        await activate(broken);
        const err = await broken.start(spec, startOpts()).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof SandboxError);
        assert.equal(err.reason, 'image_pull_failed');
        assert.equal((await broken.list()).some((r) => r.sessionId === spec.sessionId), false);
      } finally {
        await broken.close();
      }
    });

    it('hands the Lease over: a standby refuses sessions, then takes over and re-attaches to the running pod', async () => {
      const handoverConfig = { ...config, K8S_SCOPE: `${scope}-h` };
      const first = createKubernetesRuntime({ config: handoverConfig, logger: silentLogger });
      const second = createKubernetesRuntime({ config: handoverConfig, logger: silentLogger });
      const spec = makeSpec({ sessionId: `cluster-handover-${Date.now().toString(36)}`, command: ['/bin/sh'] });
      try {
        await activate(first);
        await activate(second);
        assert.equal(first.controllerStatus().active, true);
        assert.equal(second.controllerStatus().active, false, 'the second instance of the scope stands by');
        const refused = await second.start(makeSpec(), startOpts()).then(() => null, (e: unknown) => e);
        assert.ok(refused instanceof SandboxError);
        assert.equal(refused.reason, 'standby');
        const reader = new TerminalReader(await first.start(spec, startOpts()));
        reader.terminal.write(Buffer.from('MARK=kept-$$; echo "set $MARK"\n'));
        await reader.waitFor(/set kept-\d+/, 60_000);
        const mark = /set (kept-\d+)/.exec(reader.output)![1]!;
        assert.equal((await second.reconcile([])).deleted.length, 0, 'a standby never deletes');
        await first.close(); // releases the Lease, keeps the pod
        await eventually(() => second.controllerStatus().active, 'the standby takes the Lease', 30_000);
        const again = new TerminalReader(await second.attach(spec.sessionId, { cols: 80, rows: 24 }));
        again.terminal.write(Buffer.from('echo "still $MARK"\n'));
        await again.waitFor(`still ${mark}`, 60_000);
      } finally {
        await second.stop(spec.sessionId);
        await first.close();
        await second.close();
      }
    });

    it('closes', async () => {
      await runtime.close(); // no reconcile here: the namespace may hold real sessions
    });
  });
}
