// Keystrokes typed while a pod is still starting are not lost: the session holds them and the program in the
// pod gets them once it runs; past the bound the socket says so (input_overflow) and what was held still
// arrives. The real service and @kubernetes/client-node against the fake kube-apiserver.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REASONS } from '../../public/reasons.js';
import { MAX_PENDING_INPUT_BYTES } from '../../src/sessions/session.ts';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { api } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { startServiceOnFake } from './helpers.ts';

describe('input while a pod starts (kubernetes runtime)', { timeout: 60_000 }, () => {
  let fake: FakeKubeApiserver;
  let service: Service;
  before(async () => {
    fake = await startFakeKubeApiserver();
    const env = {
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: 'input-while-starting-test-shared-secret-0123456789', SANDBOX_ENTRYPOINT: '',
      K8S_API_TIMEOUT_SECONDS: '3', START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: 'echo pod-ready; exec bash --norc --noprofile -i',
    };
    service = await startServiceOnFake(fake, env);
  });
  after(async () => {
    await service?.close();
    await fake?.close();
  });

  it('delivers what was typed before the pod ran, once it runs', async () => {
    fake.kubelet.behaveOnce({ kind: 'normal', scheduleMs: 200, pullMs: 1500, startMs: 200 });
    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    try {
      await term.waitForControl((m) => m.type === 'status' && m.state === 'starting', 10_000);
      term.type('echo "typed while starting: $((3*4))"\n');
      assert.equal(service.manager.listAll()[0]!.state, 'starting', 'the keys were sent before the pod ran');
      await term.waitForControl((m) => m.type === 'status' && m.state === 'running', 30_000);
      await term.waitFor('typed while starting: 12', 20_000);
    } finally {
      await term.close();
      await api(service, 'DELETE', `/api/sessions/${created.body.id as string}`);
    }
  });

  it('refuses visibly, once, what does not fit while the pod starts, and delivers what was held', async () => {
    fake.kubelet.behaveOnce({ kind: 'normal', scheduleMs: 200, pullMs: 2500, startMs: 200 });
    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    try {
      await term.waitForControl((m) => m.type === 'status' && m.state === 'starting', 10_000);
      term.type('echo "held: $((5*5))"\n');
      // A paste larger than the bound, in frames of 4 KiB, while the pod is still starting.
      for (let sent = 0; sent < MAX_PENDING_INPUT_BYTES + 8192; sent += 4096) term.type('#'.repeat(4096));
      assert.equal(service.manager.listAll().find((s) => s.id === created.body.id)!.state, 'starting', 'all of it was sent before the pod ran');
      const refusal = await term.waitForControl((m) => m.type === 'error', 10_000);
      assert.deepEqual(refusal, { type: 'error', code: 'input_overflow', message: REASONS.input_overflow });
      const running = await term.waitForControl((m) => m.type === 'status' && m.state === 'running', 30_000);
      assert.ok(term.controls.indexOf(refusal) < term.controls.indexOf(running), 'refused while starting, not later');
      await term.waitFor('held: 25', 20_000);
      assert.equal(term.controls.filter((m) => m.type === 'error').length, 1, 'said once');
    } finally {
      await term.close();
      await api(service, 'DELETE', `/api/sessions/${created.body.id as string}`);
    }
  });
});
