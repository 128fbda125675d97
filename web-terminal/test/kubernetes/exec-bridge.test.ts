// The exec bridge's own additions to client-node: output backpressure that really stops the flow,
// stdin backpressure, the heartbeat, v4 fallback, and the bearer token on an in-cluster (HTTPS) exec.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKubeConfig } from '../../src/runtime/kubernetes/kube-client.ts';
import { openExecTerminal, exitCodeFromStatus } from '../../src/runtime/kubernetes/exec-terminal.ts';
import { eventually, makeSpec, startHarness, startOpts, TerminalReader, type Harness } from './helpers.ts';

describe('kubernetes exec bridge', () => {
  let h: Harness;
  before(async () => { h = await startHarness({}, { heartbeatMs: 300 }); });
  after(async () => { await h.close(); });

  it('pause() stops the flow all the way to the pty, resume() restarts it', async () => {
    const spec = makeSpec({ command: ['/bin/sh', '-c', 'echo ready; exec yes flowing-output-line'] });
    const terminal = await h.runtime.start(spec, startOpts());
    const reader = new TerminalReader(terminal);
    await reader.waitFor('flowing-output-line');
    const exec = h.fake.execs.at(-1)!;
    terminal.pause();
    const delivered = reader.output.length;
    // The fake kubelet stops reading the pty once the socket stops draining...
    await eventually(() => exec.ptyPauses > 0, 'the pty to be paused by backpressure', 30_000);
    // ...and then nothing more is produced while we stay paused.
    let last = -1;
    await eventually(async () => {
      const now = exec.bytesOut;
      const stable = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 200));
      return stable;
    }, 'the output to stop', 30_000);
    assert.equal(reader.output.length, delivered, 'nothing delivered while paused');
    const stalledAt = exec.bytesOut;
    terminal.resume();
    // Well past what any buffer holds (64 KiB), but small enough for a loaded machine to produce in time.
    await eventually(() => exec.bytesOut > stalledAt + 256 * 1024 && reader.output.length > delivered, 'the flow to restart', 60_000);
    await h.runtime.stop(spec.sessionId);
  });

  it('write() returns false above the high-water mark and onDrain follows', async () => {
    const spec = makeSpec({ command: ['/bin/sh', '-c', 'stty raw -echo; echo ready; exec cat > /dev/null'] });
    await h.runtime.start(spec, startOpts());
    await eventually(() => h.fake.pods()[0]?.status?.phase === 'Running', 'running');
    const terminal = await openExecTerminal({
      kubeConfig: h.fake.kubeConfig(), namespace: 'claudecode-sandboxes', podName: `claudecode-session-${spec.sessionId}`,
      container: 'sandbox', argv: ['/bin/sh', '-c', 'stty raw -echo; exec cat > /dev/null'], cols: 80, rows: 24, stdinHighWaterBytes: 64 * 1024,
    });
    let drained = 0;
    terminal.onDrain(() => { drained += 1; });
    const accepted = terminal.write(Buffer.alloc(4 * 1024 * 1024, 0x61));
    assert.equal(accepted, false);
    await eventually(() => drained === 1, 'drain');
    assert.equal(terminal.write(Buffer.from('small')), true);
    terminal.detach();
    await h.runtime.stop(spec.sessionId);
  });

  it('a silent connection (no pongs) ends the terminal as connection_lost', async () => {
    const spec = makeSpec();
    const reader = new TerminalReader(await h.runtime.start(spec, startOpts()));
    await reader.waitFor('ready');
    h.fake.api.answerPings(false);
    try {
      const exit = await reader.waitExit();
      assert.deepEqual(exit, { code: null, reason: 'connection_lost' });
    } finally {
      h.fake.api.answerPings(true);
    }
    await h.runtime.stop(spec.sessionId);
  });

  it('reads exit codes from status frames', () => {
    assert.equal(exitCodeFromStatus({ metadata: {}, status: 'Success' }), 0);
    assert.equal(exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }), 42);
    assert.equal(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError', code: 500 }), null);
    assert.equal(exitCodeFromStatus(null), null);
  });
});

describe('kubernetes exec over v4 (legacy kubelet path)', () => {
  let h: Harness;
  before(async () => { h = await startHarness({}, {}, { execProtocols: ['v4.channel.k8s.io'] }); });
  after(async () => { await h.close(); });

  it('falls back to v4 with input, output and exit codes', async () => {
    const spec = makeSpec({ command: ['/bin/sh', '-c', 'read line; echo "got $line"; exit 5'] });
    const reader = new TerminalReader(await h.runtime.start(spec, startOpts()));
    reader.terminal.write(Buffer.from('v4-input\n'));
    assert.equal((await reader.waitExit()).code, 5);
    assert.match(reader.output, /got v4-input/);
    assert.equal(h.fake.execs.at(-1)!.protocol, 'v4.channel.k8s.io');
    await h.runtime.stop(spec.sessionId);
  });
});

describe('kubernetes in-cluster config', () => {
  let h: Harness;
  let dir: string;
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  before(async () => {
    h = await startHarness({}, {}, { https: true, token: 'in-cluster-sa-token' });
    dir = mkdtempSync(join(tmpdir(), 'sa-'));
    const sa = join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'ca.crt'), h.fake.caPem!);
    writeFileSync(join(sa, 'token'), 'in-cluster-sa-token'); // no trailing newline: FileAuth sends it verbatim
    writeFileSync(join(sa, 'namespace'), 'claudecode-sandboxes');
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
    if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST; else process.env.KUBERNETES_SERVICE_HOST = saved.host;
    if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT; else process.env.KUBERNETES_SERVICE_PORT = saved.port;
  });

  it('uses the service-account token over TLS, including on the exec upgrade', async () => {
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = String(h.fake.port);
    const kubeConfig = loadKubeConfig({ serviceAccountPrefix: dir });
    assert.equal(kubeConfig.getCurrentCluster()?.server, h.fake.url);
    const { createKubernetesRuntime } = await import('../../src/runtime/kubernetes/runtime.ts');
    const { loadKubernetesConfig } = await import('../../src/runtime/kubernetes/config.ts');
    const { silentLogger } = await import('./helpers.ts');
    // Its own scope: the harness's runtime holds the default scope's Lease on this fake.
    const runtime = createKubernetesRuntime({ config: loadKubernetesConfig({ SANDBOX_ENTRYPOINT: '', K8S_SCOPE: 'in-cluster' }), logger: silentLogger, kubeConfig });
    try {
      await runtime.startController({ onActive: async () => undefined });
      const spec = makeSpec();
      const reader = new TerminalReader(await runtime.start(spec, startOpts()));
      await reader.waitFor('ready');
      const exec = h.fake.execs.at(-1)!;
      assert.equal(exec.authorization, 'Bearer in-cluster-sa-token');
      assert.ok(h.fake.api.requests.every((r) => r.authorization === 'Bearer in-cluster-sa-token'));
      await runtime.stop(spec.sessionId);
    } finally {
      await runtime.close();
    }
  });
});
