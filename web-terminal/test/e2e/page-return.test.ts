// A learner who comes back after their session ended while nobody watched it (here: reaped as idle) is told
// why, with the sentence the API gives for it, instead of a start page that says nothing. Real Chromium, the
// real service, a bash session in a real bubblewrap sandbox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REASONS, STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors } from '../helpers/page-checks.ts';
import { waitUntil } from '../helpers/processes.ts';
import { api, startTestService } from '../helpers/service.ts';

describe('coming back to a session that ended meanwhile (local runtime)', { timeout: 120_000 }, () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    // Idle after one second with nobody watching, no grace for a dropped socket.
    service = await startTestService({ IDLE_TIMEOUT_SECONDS: '1', RECONNECT_GRACE_SECONDS: '0' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await service?.close();
  });

  it('says the last session ended and why, once; a fresh start works', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const first = await context.newPage();
      await first.goto(service.url);
      await first.getByRole('button', { name: /^Just a terminal/ }).click();
      await first.getByRole('button', { name: 'Start a terminal' }).click();
      await first.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
      const id = service.manager.listAll()[0]!.id;
      await first.close(); // the tab is closed; the session has no viewer now

      await waitUntil(() => service.manager.listAll().find((s) => s.id === id)?.reason === 'idle', 20_000, 'the session reaped as idle');
      const view = await api(service, 'GET', `/api/sessions/${id}`);
      assert.equal(view.body.reasonMessage, REASONS.idle);

      const back = await context.newPage(); // the same browser (its storage), a new tab
      const errors = collectPageErrors(back);
      await back.goto(service.url);
      const notice = back.locator('#start-message');
      await notice.waitFor();
      assert.equal(await notice.innerText(), `Your last session has ended. ${REASONS.idle}`);
      assert.equal(await back.locator('#status-text').innerText(), REASONS.idle);
      assert.equal(service.manager.listAll().filter((s) => s.isActive).length, 0, 'nothing was started by coming back');

      // Said once: the next visit starts clean.
      await back.reload();
      await back.locator('#start-course').waitFor();
      assert.equal(await notice.isHidden(), true);
      await back.getByRole('button', { name: /^Just a terminal/ }).click();
      await back.getByRole('button', { name: 'Start a terminal' }).click();
      await back.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      for (const s of service.manager.listAll()) await service.manager.end(s.id, 'deleted');
    }
  });
});
