// Keystrokes typed while a pod is still starting are not lost: the session holds them and the program in the
// pod gets them once it runs. The real service and @kubernetes/client-node against the fake kube-apiserver.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
});
