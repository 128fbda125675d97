// The learner's journey on a phone (390x844) and a tablet (768x1024), where the course panel sits below the
// terminal, each size with a learner of its own (a fresh service). Real Chromium, the real service, a real
// bubblewrap sandbox, the real pinned Claude Code CLI and the fake Anthropic API; no stub on any seam. Keys
// typed before the session exists reach Claude Code; stage 1 completes by marker (the model's answer to the
// kick-off), stage 2 through the answer box (wrong, then right); a reload comes back to the same session,
// screen and course; end; continue the course. No horizontal overflow and the controls on screen throughout.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { REASONS, STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic } from '../fakes/fake-anthropic.ts';
import type { FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors, holdSessionCreation, horizontalOverflow, withinViewportWidth } from '../helpers/page-checks.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startTestService } from '../helpers/service.ts';
import { SAMPLE_COURSE_TITLE, SAMPLE_COURSES_DIR, userTexts } from '../helpers/sample-course.ts';

const REPLY = 'Recurrence makes every step wait for the one before.';
/** Short enough for one row of a phone's terminal. */
const EARLY = 'typed at once';

describe('the learner\'s journey on a phone and a tablet (local runtime, real CLI, fake model)', { timeout: 300_000 }, () => {
  let fake: FakeAnthropic;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    fake = await startFakeAnthropic();
    // The tutor's kick-off for stage 1 is answered with stage 1's marker.
    fake.script = (req) => {
      if (req.path !== '/v1/messages' || !req.body?.tools?.length) return undefined;
      if (!/start stage 1 of/.test(userTexts(req))) return undefined;
      return { kind: 'message', content: [{ type: 'text', text: `${REPLY}\n[STAGE_COMPLETE:1]` }] };
    };
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await fake?.close();
  });

  const checkLayout = async (page: Page, label: string, controls: string[]) => {
    assert.equal(await horizontalOverflow(page), 0, `${label}: no horizontal overflow`);
    for (const control of controls) assert.ok(await withinViewportWidth(page, control), `${label}: ${control} is on screen`);
    await page.screenshot({ path: join(artifactsDir, `journey-narrow-${label}.png`) });
  };

  for (const [width, height] of [[390, 844], [768, 1024]] as const) {
    it(`${width}x${height}: early typing, marker, answers, reload, end, continue`, async () => {
      let service: Service | undefined;
      const context = await browser.browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      const errors = collectPageErrors(page, [/\/stages\/\d+\/answer$/]);
      const side = page.locator('.side');
      try {
        service = await startTestService(
          { COURSES_DIR: SAMPLE_COURSES_DIR, SESSION_COMMAND: '' },
          { proxyEnv: { UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-api03-narrow-journey-test-key-00000000' } },
        );
        await page.goto(service.url);
        await page.getByRole('heading', { name: SAMPLE_COURSE_TITLE }).waitFor();
        await checkLayout(page, `${width}-start`, ['#start-course']);
        // Typed at once, before the session exists (its creation is held until typing is done): the keys
        // reach Claude Code's input box, and Enter sends them.
        const letCreationAnswer = await holdSessionCreation(page);
        await page.getByRole('button', { name: 'Start this course' }).click();
        await page.keyboard.type(EARLY);
        assert.equal(service.manager.listAll().length, 0, 'typed before the session was created');
        letCreationAnswer();
        await page.locator('.xterm-rows', { hasText: REPLY }).waitFor({ timeout: 60_000 });
        await page.locator('.xterm-rows', { hasText: EARLY }).waitFor({ timeout: 60_000 });
        await page.keyboard.press('Enter');
        await waitUntil(() => fake.requests.some((r) => userTexts(r).includes(EARLY)), 60_000, 'the early keys reached the model');

        // Stage 1 by marker: the moment is visible in the course panel below the terminal.
        await side.locator('.stage-panel__complete', { hasText: 'Stage 1 (Why drop recurrence?) complete. Next: Scaled dot-product attention.' }).waitFor({ timeout: 30_000 });
        const terminalBox = (await page.locator('#terminal').boundingBox())!;
        const panelBox = (await page.locator('#panel-course').boundingBox())!;
        assert.ok(panelBox.y >= terminalBox.y + terminalBox.height - 1, 'the course panel is below the terminal');
        await checkLayout(page, `${width}-session`, ['#end-session', '#theme', '#tab-course', '#tab-sessions']);

        // Stage 2 through the answer box: wrong, then right.
        const answer = side.getByLabel('Your answer');
        await answer.scrollIntoViewIfNeeded();
        await answer.fill('divided by two');
        await side.getByRole('button', { name: 'Check' }).click();
        await side.locator('.stage-panel__answer-message.is-error', { hasText: REASONS.wrong_answer }).waitFor();
        await answer.fill('sqrt(d_k)');
        await side.getByRole('button', { name: 'Check' }).click();
        await side.locator('.stage-panel__count', { hasText: '2 of 5 stages done' }).waitFor();
        await side.getByRole('heading', { name: 'Stage 3: Multi-head attention' }).waitFor();

        // Reload: the same session, the same screen, the same course.
        const sessionId = service.manager.listAll()[0]!.id;
        await page.reload();
        await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 30_000 });
        await page.locator('.xterm-rows', { hasText: REPLY }).waitFor({ timeout: 30_000 });
        await side.locator('.stage-panel__title', { hasText: SAMPLE_COURSE_TITLE }).waitFor();
        assert.equal(await side.locator('.stage-panel__count').innerText(), '2 of 5 stages done');
        assert.equal(await page.getByRole('tab', { name: 'Course' }).getAttribute('aria-selected'), 'true');
        assert.deepEqual(service.manager.listAll().map((s) => s.id), [sessionId], 'no new session was started');
        await checkLayout(page, `${width}-reloaded`, ['#end-session', '#theme', '#tab-course', '#tab-sessions']);

        // End, then continue the course in a new session.
        await page.getByRole('button', { name: 'End session' }).click();
        await page.locator('#status-text', { hasText: REASONS.deleted }).waitFor({ timeout: 15_000 });
        assert.equal(await side.getByRole('button', { name: 'Check' }).isDisabled(), true, 'no session can take an answer');
        await checkLayout(page, `${width}-ended`, ['#banner']);
        await page.getByRole('button', { name: 'Continue the course' }).click();
        await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 30_000 });
        await waitUntil(() => service!.manager.listAll().some((s) => s.isActive && s.id !== sessionId), 10_000, 'a new session');
        await side.getByRole('heading', { name: 'Stage 3: Multi-head attention' }).waitFor();
        assert.equal(await side.getByRole('button', { name: 'Check' }).isEnabled(), true);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
        await service?.close();
      }
    });
  }
});
