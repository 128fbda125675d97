// What a learner reads while a Kubernetes start goes wrong: the page in real Chromium, the real service
// with the Kubernetes runtime on the fake kube-apiserver (real @kubernetes/client-node over HTTP). The
// pod's Events reach the page's status line as sentences: the image being downloaded (with its name),
// then the kubelet's pull failure; the scheduler's message when the cluster has no room. The last line
// the page shows (read back from GET /api/sessions/{id}) keeps those words, not only the reason's sentence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REASONS, STATES } from '../../public/reasons.js';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { waitUntil } from '../helpers/processes.ts';
import { api } from '../helpers/service.ts';
import { withPageOnFake } from './helpers.ts';


const managedPods = (fake: FakeKubeApiserver) => fake.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'claudecode-web-terminal');

/** A fresh fake cluster, service and browser per test: nothing scripted leaks into the next test. */
const withPage = (body: Parameters<typeof withPageOnFake>[1]) => withPageOnFake({ K8S_LEASE_DURATION_SECONDS: '60', K8S_LEASE_RENEW_SECONDS: '2' }, body);

describe('kubernetes start progress and failures on the page (Chromium)', () => {
  it('shows "Downloading the sandbox image: <image>", then the kubelet\'s pull failure as a sentence', { timeout: 120_000 }, async () => {
    await withPage(async (fake, service, browser) => {
      fake.kubelet.behaveOnce({ kind: 'pulling' });
      const created = await api(service, 'POST', '/api/sessions', {});
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      const page = await (await browser.newContext()).newPage();
      // The page attaches to the learner's starting session by itself and follows its progress.
      await page.goto(service.url);
      const status = page.locator('#status-text');
      await status.filter({ hasText: 'Downloading the sandbox image: claudecode/sandbox:0.1.0' }).waitFor({ timeout: 30_000 });
      fake.kubelet.failImagePull(`claudecode-session-${id}`, 'rpc error: code = NotFound desc = manifest unknown');
      // The final line (after the page read the ended session from the API) keeps the kubelet's words.
      await status.filter({ hasText: STATES.failed }).waitFor({ timeout: 30_000 });
      const sentence = await status.innerText();
      assert.ok(sentence.startsWith(`${STATES.failed} ${REASONS.image_pull_failed}`), sentence);
      assert.match(sentence, /rpc error: code = NotFound desc = manifest unknown/);
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the failed pod removed');
    });
  });

  it('a session started from the page that the cluster has no room for shows the scheduler\'s message', { timeout: 120_000 }, async () => {
    await withPage(async (fake, service, browser) => {
      const scheduler = '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available.';
      fake.kubelet.behaveOnce({ kind: 'unschedulable', message: scheduler });
      const page = await (await browser.newContext()).newPage();
      await page.goto(service.url);
      await page.getByRole('button', { name: /^Just a terminal/ }).click();
      await page.getByRole('button', { name: 'Start a terminal' }).click();
      const status = page.locator('#status-text');
      await status.filter({ hasText: STATES.failed }).waitFor({ timeout: 30_000 });
      assert.equal(await status.innerText(), `${STATES.failed} ${REASONS.unschedulable} ${scheduler}`);
      await waitUntil(() => managedPods(fake).length === 0, 15_000, 'the failed pod removed');
    });
  });
});
