// A learner's whole journey in real Chromium: the real service, a real bubblewrap sandbox, the real pinned
// Claude Code CLI, the embedded API proxy and the fake Anthropic API. No stub on any seam.
// At 1280x800: pick the sample course, start, type before the prompt appears, complete stage 1 by marker,
// stage 2 through the answer box (wrong, then right), reload (same session, screen, course), end, continue.
// At 768x1024 and 390x844: a lighter journey (start, the course panel, an answer, end). Every size: no
// horizontal overflow, the controls on screen, and an axe-core scan with the session running.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { REASONS, STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic } from '../fakes/fake-anthropic.ts';
import type { FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors, holdSessionCreation, horizontalOverflow, seriousAxeViolations, withinViewportWidth } from '../helpers/page-checks.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startTestService } from '../helpers/service.ts';
import { endAllSessions, SAMPLE_COURSE_TITLE, SAMPLE_COURSES_DIR, userTexts } from '../helpers/sample-course.ts';

const TYPED = 'recurrence waits for every step';

describe('the learner\'s page, end to end (local runtime, real CLI, fake model)', { timeout: 600_000 }, () => {
  let fake: FakeAnthropic;
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    fake = await startFakeAnthropic();
    // The learner's own words (typed before Claude Code was up) earn stage 1's marker.
    fake.script = (req) => {
      if (req.path !== '/v1/messages' || !req.body?.tools?.length) return undefined;
      if (!userTexts(req).includes(TYPED)) return undefined;
      return { kind: 'message', content: [{ type: 'text', text: 'Yes: each step waits for the one before.\n[STAGE_COMPLETE:1]' }] };
    };
    service = await startTestService(
      { COURSES_DIR: SAMPLE_COURSES_DIR, SESSION_COMMAND: '' },
      { proxyEnv: { UPSTREAM_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-api03-journey-test-real-key-000000000' } },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await fake?.close();
  });

  const checkLayout = async (page: Page, label: string) => {
    assert.equal(await horizontalOverflow(page), 0, `${label}: no horizontal overflow`);
    await page.screenshot({ path: join(artifactsDir, `journey-${label}.png`) });
  };
  const assertAccessible = async (page: Page, label: string) => {
    const violations = await seriousAxeViolations(page);
    assert.deepEqual(violations, [], `${label}: axe-core serious/critical violations:\n${JSON.stringify(violations, null, 2)}`);
  };

  it('1280x800: course first, early typing, marker, answers, reload, end, continue', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page, [/\/stages\/\d+\/answer$/]);
    const side = page.locator('.side');
    try {
      await page.goto(service.url);
      // Course first: title, description and stages before anything starts.
      await page.getByRole('heading', { name: SAMPLE_COURSE_TITLE }).waitFor();
      await page.getByText('Work through the paper that introduced the Transformer').waitFor();
      assert.equal(await page.locator('.course-detail .stage-panel__stage').count(), 5);
      assert.equal(service.manager.listAll().length, 0, 'nothing starts before the learner asks');
      await checkLayout(page, '1280-start');

      // The learner types at once: the session's creation is held back (the real request, only delayed)
      // until every key is typed, so the keys surely come before the session exists, let alone its prompt.
      const letCreationAnswer = await holdSessionCreation(page);
      await page.getByRole('button', { name: 'Start this course' }).click();
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea')), true, 'the terminal has the focus at once');
      await page.keyboard.type(TYPED);
      assert.equal(service.manager.listAll().length, 0, 'typed before the session was created');
      letCreationAnswer();
      // The keys reach Claude Code's input box once it is up, then the learner sends them.
      await page.locator('.xterm-rows', { hasText: TYPED }).waitFor({ timeout: 60_000 });
      await page.locator('#status-text', { hasText: STATES.running }).waitFor();
      await page.keyboard.press('Enter');
      await waitUntil(() => fake.requests.some((r) => userTexts(r).includes(TYPED)), 60_000, 'the typed words reached the model');

      // Stage 1 completes by marker: a visible moment, the next stage brought forward.
      await page.locator('.stage-panel__complete', { hasText: 'Stage 1 (Why drop recurrence?) complete. Next: Scaled dot-product attention.' }).waitFor({ timeout: 60_000 });
      await side.getByRole('heading', { name: 'Stage 2: Scaled dot-product attention' }).waitFor();
      assert.equal(await page.locator('.side .stage-panel__count').innerText(), '1 of 5 stages done');

      // Stage 2 through the answer box: wrong, then right. The page shows the API's own sentence.
      const answer = side.getByLabel('Your answer');
      await answer.fill('divided by two');
      await side.getByRole('button', { name: 'Check' }).click();
      await side.locator('.stage-panel__answer-message.is-error', { hasText: REASONS.wrong_answer }).waitFor();
      await answer.fill('sqrt(d_k)');
      await side.getByRole('button', { name: 'Check' }).click();
      await page.locator('.side .stage-panel__count', { hasText: '2 of 5 stages done' }).waitFor();
      await side.getByRole('heading', { name: 'Stage 3: Multi-head attention' }).waitFor();
      await checkLayout(page, '1280-session');
      await assertAccessible(page, '1280 running session');
      // The bundled fonts, from this server: DejaVu Mono for text and box drawing, symbol faces for the rest.
      const fonts = await page.evaluate(async () => {
        await document.fonts.ready;
        return {
          family: getComputedStyle(document.querySelector('.xterm-rows')!).fontFamily,
          mono: document.fonts.check('14px "DejaVu Mono"', 'a_─╭'),
          symbols: document.fonts.check('14px "Terminal Symbols"', '⎿') && document.fonts.check('14px "Terminal Symbols 2"', '⏺⏵'),
          loaded: [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replaceAll('"', '')),
        };
      });
      assert.match(fonts.family, /^"DejaVu Mono"/);
      assert.ok(fonts.mono && fonts.symbols, JSON.stringify(fonts));
      assert.ok(fonts.loaded.includes('DejaVu Mono'), JSON.stringify(fonts));

      // Reload: the same session, the same screen, the same course.
      const sessionId = service.manager.listAll()[0]!.id;
      await page.reload();
      await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 30_000 });
      await page.locator('.xterm-rows', { hasText: 'each step waits for the one before' }).waitFor({ timeout: 30_000 });
      await page.locator('.side .stage-panel__title', { hasText: SAMPLE_COURSE_TITLE }).waitFor();
      assert.equal(await page.locator('.side .stage-panel__count').innerText(), '2 of 5 stages done');
      assert.deepEqual(service.manager.listAll().map((s) => s.id), [sessionId], 'no new session was started');
      await waitUntil(() => service.manager.listAll()[0]!.hasViewer, 10_000, 'the reloaded page is attached');

      // End: the page says so, the check is off, and it offers to continue the course.
      await page.getByRole('button', { name: 'End session' }).click();
      await page.locator('#status-text', { hasText: REASONS.deleted }).waitFor({ timeout: 15_000 });
      assert.equal(await side.getByRole('button', { name: 'Check' }).isDisabled(), true, 'no session can take an answer');
      await checkLayout(page, '1280-ended');
      await page.getByRole('button', { name: 'Continue the course' }).click();
      await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 30_000 });
      await waitUntil(() => service.manager.listAll().some((s) => s.isActive && s.id !== sessionId), 10_000, 'a new session');
      assert.equal(await side.getByRole('button', { name: 'Check' }).isEnabled(), true);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await endAllSessions(service);
    }
  });

  for (const [width, height] of [[768, 1024], [390, 844]] as const) {
    it(`${width}x${height}: start, the course panel, an answer, end; nothing off-screen`, async () => {
      // The narrower sizes run in the dark theme, so the scan covers both themes' colours.
      const context = await browser.browser.newContext({ viewport: { width, height }, colorScheme: 'dark' });
      const page = await context.newPage();
      const errors = collectPageErrors(page, [/\/stages\/\d+\/answer$/]);
      try {
        await page.goto(service.url);
        // The earlier journey completed two stages: the course is continued, not started over.
        await page.getByRole('button', { name: 'Continue this course' }).waitFor();
        assert.ok(await withinViewportWidth(page, '#start-course'), 'the start button is on screen');
        await checkLayout(page, `${width}-start`);
        await page.getByRole('button', { name: 'Continue this course' }).click();
        await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 30_000 });
        for (const control of ['#end-session', '#theme', '#tab-course', '#tab-sessions']) {
          assert.ok(await withinViewportWidth(page, control), `${control} is on screen`);
        }
        // The course panel sits below the terminal here; stage 3 (of the earlier journey) is current.
        const side = page.locator('.side');
        await side.getByRole('heading', { name: 'Stage 3: Multi-head attention' }).scrollIntoViewIfNeeded();
        await side.getByLabel('Your answer').fill('seven');
        await side.getByRole('button', { name: 'Check' }).click();
        await side.locator('.stage-panel__answer-message.is-error', { hasText: REASONS.wrong_answer }).waitFor();
        await page.locator('.xterm-rows', { hasText: '/workspace' }).waitFor({ timeout: 60_000 });
        await checkLayout(page, `${width}-session`);
        await assertAccessible(page, `${width} running session`);
        await page.getByRole('button', { name: 'End session' }).click();
        await page.getByRole('button', { name: 'Continue the course' }).waitFor({ timeout: 15_000 });
        await checkLayout(page, `${width}-ended`);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
        await endAllSessions(service);
      }
    });
  }
});
