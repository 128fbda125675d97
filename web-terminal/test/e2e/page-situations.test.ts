// The page when things do not simply work, in real Chromium against the real service (bash sessions in a
// real sandbox): the per-user limit (the API and the page say the same sentence, and the page offers the
// learner's own sessions), a tab taken over by another ("Use here"), and the API proxy's report that the
// model's API (the fake Anthropic API) refuses this session (a banner, not "running").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { REASONS, STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors } from '../helpers/page-checks.ts';
import { waitUntil } from '../helpers/processes.ts';
import { api, startTestService } from '../helpers/service.ts';
import { endAllSessions } from '../helpers/sample-course.ts';

describe('the page in harder situations (local runtime)', { timeout: 180_000 }, () => {
  let fake: FakeAnthropic;
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    fake = await startFakeAnthropic();
    // A server with a key, as where the API refusing it can happen (without one the page says so in a banner of its own).
    service = await startTestService({ MAX_SESSIONS_PER_USER: '1' }, { proxyEnv: { ANTHROPIC_API_KEY: 'sk-ant-api03-page-situations-test-key-0000000000', UPSTREAM_URL: fake.url } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await fake?.close();
  });
  const running = (page: Page) => page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });

  it('names the per-user limit with the API\'s own sentence and offers the learner\'s sessions to end', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page, [/\/api\/sessions$/]);
    try {
      const first = await api(service, 'POST', '/api/sessions', {});
      assert.equal(first.status, 201);
      const refused = await api(service, 'POST', '/api/sessions', {});
      assert.equal(refused.status, 429);
      assert.deepEqual(refused.body.error, { code: 'user_session_limit', message: REASONS.user_session_limit });

      await page.goto(service.url);
      await running(page); // a new visit attaches to the running session by itself
      await waitUntil(() => service.manager.listAll().some((s) => s.isActive && s.hasViewer), 10_000, 'the page attached');
      await page.getByRole('tab', { name: 'Sessions' }).click();
      await page.getByRole('button', { name: 'Choose another course' }).click();
      await page.getByRole('button', { name: /^Just a terminal/ }).click();
      await page.getByRole('button', { name: 'Start a terminal' }).click();
      const notice = page.locator('#start-message');
      await notice.waitFor();
      assert.equal(await notice.innerText(), `${REASONS.user_session_limit} Resume or end one of your sessions below.`);
      assert.equal(await page.locator('#status-text').innerText(), REASONS.user_session_limit, 'the page shows the API\'s sentence');

      const listed = page.locator('#start-sessions li');
      assert.equal(await listed.count(), 1);
      assert.match(await listed.innerText(), /Just a terminal[\s\S]*started \d\d:\d\d( [AP]M)? · (\d+ h )?\d+ min left/);
      await listed.getByRole('button', { name: /^End Just a terminal/ }).click();
      await page.locator('#start-sessions li', { hasText: 'No session is running.' }).waitFor();
      const ended = await api(service, 'GET', `/api/sessions/${first.body.id as string}`);
      assert.equal(ended.body.state, 'ended');
      assert.equal(ended.body.reasonMessage, REASONS.deleted, 'the session view carries the sentence too');

      await page.getByRole('button', { name: 'Start a terminal' }).click();
      await running(page);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await endAllSessions(service);
    }
  });

  it('offers "Use here" in a tab whose session another tab took over', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    const [first, second] = [await context.newPage(), await context.newPage()];
    const errors = [...collectPageErrors(first), ...collectPageErrors(second)];
    try {
      await first.goto(service.url);
      await first.getByRole('button', { name: /^Just a terminal/ }).click();
      await first.getByRole('button', { name: 'Start a terminal' }).click();
      await running(first);
      await second.goto(service.url);
      await running(second);
      const useHere = first.getByRole('button', { name: 'Use here' });
      await useHere.waitFor({ timeout: 15_000 });
      await first.locator('#banner', { hasText: REASONS.taken_over }).waitFor();
      await useHere.click();
      await running(first);
      await second.getByRole('button', { name: 'Use here' }).waitFor({ timeout: 15_000 });
      await first.locator('.xterm-helper-textarea').focus();
      await first.keyboard.type('echo "back $((40+2))"');
      await first.keyboard.press('Enter');
      await first.locator('.xterm-rows', { hasText: 'back 42' }).waitFor({ timeout: 15_000 });
      assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
    } finally {
      await context.close();
      await endAllSessions(service);
    }
  });

  it('shows what the API proxy saw upstream instead of "running", and clears it on recovery', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    try {
      await page.goto(service.url);
      await page.getByRole('button', { name: /^Just a terminal/ }).click();
      await page.getByRole('button', { name: 'Start a terminal' }).click();
      await running(page);
      // What Claude Code does: a request to the sandbox's API proxy with the session's own credential.
      let calls = 0;
      const callProxy = async (expected: number) => {
        calls += 1;
        await page.keyboard.type(`curl -s -o /dev/null -w 'call ${calls}: %{http_code}\\n' -H "x-api-key: $ANTHROPIC_API_KEY" -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' --data '{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}' --unix-socket /run/claudecode/proxy.sock http://api-proxy/v1/messages`);
        await page.keyboard.press('Enter');
        return page.locator('.xterm-rows', { hasText: `call ${calls}: ${expected}` }).waitFor({ timeout: 15_000 });
      };
      await page.locator('.xterm-helper-textarea').focus();
      fake.script = () => ({ kind: 'error', status: 401, message: 'invalid x-api-key' });
      await callProxy(401);
      await page.locator('#banner', { hasText: REASONS.upstream_unauthorized }).waitFor({ timeout: 10_000 });
      assert.equal(await page.locator('#status-text').innerText(), REASONS.upstream_unauthorized);
      assert.equal(await page.locator('#status-dot').getAttribute('class'), 'dot warn');
      fake.script = undefined;
      await callProxy(200);
      await running(page);
      await page.locator('#banner').waitFor({ state: 'hidden' });
    } finally {
      fake.script = undefined;
      await context.close();
      await endAllSessions(service);
    }
  });

  it('works with the keyboard alone: start, type, leave the terminal with F6, switch tabs, end', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? (el.id || el.getAttribute('aria-label') || el.textContent || el.tagName).trim() : '';
    });
    const tabTo = async (target: string | RegExp) => {
      for (let i = 0; i < 20; i += 1) {
        const now = await focused();
        if (typeof target === 'string' ? now === target : target.test(now)) return;
        await page.keyboard.press('Tab');
      }
      assert.fail(`could not reach ${String(target)} with Tab (at ${await focused()})`);
    };
    try {
      await page.goto(service.url);
      await page.locator('#start-course').waitFor();
      await tabTo(/^Just a terminal/);
      await page.keyboard.press('Enter');
      await tabTo('start-course');
      await page.keyboard.press('Enter');
      await running(page);
      assert.match(await focused(), /^Terminal input/, 'the terminal has the focus once the session starts');
      await page.keyboard.type('echo "keys $((2*21))"');
      await page.keyboard.press('Enter');
      await page.locator('.xterm-rows', { hasText: 'keys 42' }).waitFor({ timeout: 15_000 });
      await page.keyboard.press('F6');
      assert.equal(await focused(), 'tab-sessions', 'F6 leaves the terminal for the side panel (no course: the Sessions tab)');
      await page.keyboard.press('ArrowLeft');
      assert.equal(await focused(), 'tab-course');
      await page.keyboard.press('ArrowRight');
      await tabTo(/^End Just a terminal/);
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Start again' }).waitFor({ timeout: 15_000 });
      await tabTo('Start again');
      await page.keyboard.press('Enter');
      await running(page);
    } finally {
      await context.close();
      await endAllSessions(service);
    }
  });
});
