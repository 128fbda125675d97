// Opt-in: the same lifecycle against a real cluster (`npm run test:cluster` with KUBECONFIG set).
// Uses K8S_NAMESPACE, SANDBOX_IMAGE, SANDBOX_IMAGE_PULL_POLICY, SANDBOX_ENTRYPOINT, ... from the environment;
// the image must contain dtach. Without KUBECONFIG it runs nothing and says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';
import { createKubernetesRuntime } from '../../src/runtime/kubernetes/runtime.ts';
import { SandboxError } from '../../src/runtime/types.ts';
import { makeSpec, silentLogger, startOpts, TerminalReader } from './helpers.ts';

const NOT_RUN = 'did not run: KUBECONFIG not set (the real-cluster suite needs a cluster)';

if (!process.env.KUBECONFIG) {
  console.log(NOT_RUN);
  it('real-cluster lifecycle', { skip: NOT_RUN }, () => {});
} else {
  describe('kubernetes runtime against a real cluster', { timeout: 10 * 60_000 }, () => {
    const config = loadKubernetesConfig(process.env);
    const runtime = createKubernetesRuntime({ config, logger: silentLogger });

    it('starts, bridges, resizes, reattaches, exits with its code, and stops', async () => {
      const spec = makeSpec({ sessionId: `cluster-${Date.now().toString(36)}`, command: ['/bin/sh'], cols: 91, rows: 31 });
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
        config: { ...config, SANDBOX_IMAGE: 'claudecode/does-not-exist:0.0.0', SANDBOX_IMAGE_PULL_POLICY: 'Never' },
        logger: silentLogger,
      });
      const spec = makeSpec({ sessionId: `cluster-missing-${Date.now().toString(36)}` });
      try {
        const err = await broken.start(spec, startOpts()).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof SandboxError);
        assert.equal(err.reason, 'image_pull_failed');
        assert.equal((await broken.list()).some((r) => r.sessionId === spec.sessionId), false);
      } finally {
        await broken.close();
      }
    });

    it('closes', async () => {
      await runtime.close(); // no reconcile here: the namespace may hold real sessions
    });
  });
}
