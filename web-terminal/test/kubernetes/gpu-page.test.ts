// A GPU session chosen on the page: real Chromium, the real service with the Kubernetes runtime on the fake
// kube-apiserver (real @kubernetes/client-node over HTTP). Where the operator allows the `gpu` profile, the
// course view offers the choice, and the pod the page's session gets asks for nvidia.com/gpu; where only
// `default` is allowed, there is no choice to make.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STATES } from '../../public/reasons.js';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { waitUntil } from '../helpers/processes.ts';
import { withPageOnFake } from './helpers.ts';


const sessionPods = (fake: FakeKubeApiserver) => fake.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'claudecode-web-terminal');

describe('choosing a GPU on the page (Kubernetes runtime)', () => {
  it('with SANDBOX_PROFILES_ALLOWED=gpu, "With a GPU" starts a pod that asks for nvidia.com/gpu', { timeout: 120_000 }, async () => {
    await withPageOnFake({ SANDBOX_PROFILES_ALLOWED: 'gpu' }, async (fake, service, browser) => {
      const page = await (await browser.newContext()).newPage();
      await page.goto(service.url);
      const machine = page.getByRole('group', { name: 'Machine' });
      await machine.waitFor();
      assert.equal(await machine.getByRole('radio', { name: 'Standard' }).isChecked(), true, 'the standard machine by default');
      await machine.getByRole('radio', { name: 'With a GPU' }).check();
      await page.getByRole('button', { name: /^Just a terminal/ }).click();
      await page.getByRole('button', { name: 'Start a terminal' }).click();
      await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 60_000 });
      const [session] = service.manager.listAll();
      assert.equal(session?.profile, 'gpu');
      const pod = sessionPods(fake).find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === session!.id);
      const resources = pod?.spec?.containers?.[0]?.resources;
      assert.equal(resources?.limits?.['nvidia.com/gpu'], '1');

      // The choice is remembered: the next visit offers the GPU again.
      await page.getByRole('button', { name: 'End session' }).click();
      await waitUntil(() => sessionPods(fake).length === 0, 30_000, 'the pod removed');
      await page.reload();
      assert.equal(await page.getByRole('group', { name: 'Machine' }).getByRole('radio', { name: 'With a GPU' }).isChecked(), true);
    });
  });

  it('with only the default profile allowed, the page offers no choice and asks for none', { timeout: 120_000 }, async () => {
    await withPageOnFake({}, async (fake, service, browser) => {
      const page = await (await browser.newContext()).newPage();
      const bodies: unknown[] = [];
      page.on('request', (req) => {
        if (req.method() === 'POST' && req.url().endsWith('/api/sessions')) bodies.push(req.postDataJSON());
      });
      await page.goto(service.url);
      await page.getByRole('button', { name: /^Just a terminal/ }).click();
      await page.getByRole('button', { name: 'Start a terminal' }).waitFor();
      assert.equal(await page.getByRole('group', { name: 'Machine' }).count(), 0);
      await page.getByRole('button', { name: 'Start a terminal' }).click();
      await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 60_000 });
      assert.deepEqual(bodies, [{}]);
      assert.equal(service.manager.listAll()[0]?.profile, 'default');
      assert.equal(sessionPods(fake)[0]?.spec?.containers?.[0]?.resources?.limits?.['nvidia.com/gpu'], undefined);
    });
  });
});
