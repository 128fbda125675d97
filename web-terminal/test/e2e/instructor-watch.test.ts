// The live view with two browsers (jwt mode, each with its own token): an instructor opens the live-view
// page, watches a learner's session, sees what the learner sees live; the learner's page shows who
// watches; the instructor's keystrokes reach nothing; when the instructor stops, the indicator goes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors, terminalText, waitForTerminalText } from '../helpers/page-checks.ts';
import { startTestService } from '../helpers/service.ts';
import { jwtEnv, mintToken } from '../auth/helpers.ts';

describe('instructor live view with two browsers', () => {
  let service: Service;
  let learnerBrowser: Awaited<ReturnType<typeof launchBrowser>>;
  let instructorBrowser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    service = await startTestService(jwtEnv({ AUTH_JWT_INSTRUCTOR_CLAIM: 'roles=instructor' }));
    learnerBrowser = await launchBrowser();
    instructorBrowser = await launchBrowser();
  });
  after(async () => {
    await learnerBrowser?.close();
    await instructorBrowser?.close();
    await service?.close();
  });

  const openPage = async (browser: Browser, path: string) => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = collectPageErrors(page);
    await page.goto(`${service.url}${path}`);
    return { page, errors };
  };

  it('the instructor watches live, the learner sees who watches, the instructor cannot type', { timeout: 120_000 }, async () => {
    const learnerToken = await mintToken('lea', { name: 'Lea Learner' });
    const instructorToken = await mintToken('ines', { name: 'Ines Instructor', roles: ['instructor'] });

    const learner = await openPage(learnerBrowser.browser, `/#token=${learnerToken}`);
    // The learner starts a terminal from the course picker (no course needed to be watched).
    await learner.page.getByRole('button', { name: /^Just a terminal/ }).click();
    await learner.page.getByRole('button', { name: 'Start a terminal' }).click();
    await learner.page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
    await learner.page.locator('.xterm-helper-textarea').focus();
    await learner.page.keyboard.type('echo "learner-$((6*7))"');
    await learner.page.keyboard.press('Enter');
    await waitForTerminalText(learner.page, 'learner-42');
    assert.equal(await learner.page.locator('#watchers').count(), 0, 'nobody watches yet');

    // A learner is no instructor: the live-view page says so.
    const notAllowed = await openPage(learnerBrowser.browser, `/watch.html#token=${learnerToken}`);
    await notAllowed.page.locator('#sessions', { hasText: 'Only instructors' }).waitFor({ timeout: 15_000 });
    await notAllowed.page.close();

    const instructor = await openPage(instructorBrowser.browser, `/watch.html#token=${instructorToken}`);
    const row = instructor.page.locator('#sessions li', { hasText: 'Lea Learner' });
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: 'Watch' }).click();
    await waitForTerminalText(instructor.page, 'learner-42');

    // The learner is told, by name.
    await learner.page.locator('#watchers', { hasText: 'Watched by Ines Instructor' }).waitFor({ timeout: 15_000 });

    // The instructor types into the watched terminal: nothing reaches the session.
    await instructor.page.locator('.xterm-screen').click();
    await instructor.page.keyboard.type('echo "INSTRUCTOR-TYPED-$((1+1))"');
    await instructor.page.keyboard.press('Enter');
    // Live: what the learner does next shows up for the instructor.
    await learner.page.locator('.xterm-helper-textarea').focus();
    await learner.page.keyboard.type('echo "after-$((2+3))"');
    await learner.page.keyboard.press('Enter');
    await waitForTerminalText(learner.page, 'after-5');
    await waitForTerminalText(instructor.page, 'after-5');
    for (const page of [learner.page, instructor.page]) assert.doesNotMatch(await terminalText(page), /INSTRUCTOR-TYPED/);
    // The instructor's terminal takes the learner's size, so the screen is drawn the same.
    const size = (page: Page) => page.evaluate('[window.__term.cols, window.__term.rows]');
    assert.deepEqual(await size(instructor.page), await size(learner.page));

    await learner.page.screenshot({ path: join(artifactsDir, 'watch-learner.png') });
    await instructor.page.screenshot({ path: join(artifactsDir, 'watch-instructor.png') });

    await instructor.page.getByRole('button', { name: 'Stop watching' }).click();
    await learner.page.locator('#watchers').waitFor({ state: 'detached', timeout: 15_000 });

    assert.deepEqual(learner.errors, []);
    assert.deepEqual(instructor.errors, []);
    for (const session of service.manager.listAll()) await service.manager.end(session.id, 'deleted');
  });
});
