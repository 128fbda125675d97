// What a learner sees on a server with no API key, and how course authors' text is shown, in real Chromium
// against the real service (a real bubblewrap sandbox, the real pinned Claude Code CLI, the embedded API
// proxy; no stub on any seam): the page says there is no key before anything starts; Claude Code's first
// request, refused by the proxy, turns the session's "running" into that sentence; course text full of HTML
// is shown as text, never markup.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { REASONS, STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors } from '../helpers/page-checks.ts';
import { api, startTestService } from '../helpers/service.ts';

// Markup in every field a course author writes. Shown as text, none of it may become an element.
const HOSTILE = {
  title: 'Markup <img src=x id=pwn-title> & <b>bold</b>',
  description: 'About <script>window.__pwned = 1</script><img src=x id=pwn-description>',
  stage1: { title: 'First <i id=pwn-stage1>step</i>', goal: 'Say <a id=pwn-goal href=javascript:alert(1)>yes</a>', hint: 'Type <code id=pwn-hint>yes</code>' },
  stage2: { title: 'Second <u id=pwn-stage2>step</u>', goal: 'Goal <iframe id=pwn-goal2></iframe>' },
};

function writeHostileCourse(root: string): void {
  mkdirSync(join(root, 'markup', 'content'), { recursive: true });
  writeFileSync(join(root, 'markup', 'course.json'), JSON.stringify({
    id: 'markup',
    title: HOSTILE.title,
    description: HOSTILE.description,
    stages: [
      { number: 1, ...HOSTILE.stage1, check: { type: 'pattern', pattern: '^yes$', flags: 'i' } },
      { number: 2, ...HOSTILE.stage2 },
    ],
  }));
  writeFileSync(join(root, 'markup', 'content', 'README.md'), '# A course with markup in its text\n');
}

/** Elements the hostile text would have created had it been parsed as HTML (ids prefixed "pwn-"). */
const injected = (page: Page) => page.evaluate(() => document.querySelectorAll('[id^="pwn-"], script:not([src])').length);

describe('the page without an API key, and course text as text (local runtime)', { timeout: 180_000 }, () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let coursesDir: string;
  before(async () => {
    coursesDir = mkdtempSync(join(tmpdir(), 'page-without-key-'));
    chmodSync(coursesDir, 0o755); // the sandbox's own user reads the course content
    writeHostileCourse(coursesDir);
    // No ANTHROPIC_API_KEY anywhere: the embedded proxy has none (proxyEnv is empty).
    service = await startTestService({ COURSES_DIR: coursesDir, SESSION_COMMAND: '' }, { proxyEnv: {} });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    rmSync(coursesDir, { recursive: true, force: true });
  });
  const endAll = async () => {
    for (const s of service.manager.listAll()) await service.manager.end(s.id, 'deleted');
  };

  it('says there is no key before a session starts, and instead of "running" once the proxy refuses', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    try {
      await page.goto(service.url);
      await page.locator('#banner', { hasText: REASONS.no_api_key }).waitFor({ timeout: 10_000 });
      assert.equal(await page.locator('#banner').getAttribute('role'), 'alert');
      assert.equal(service.manager.listAll().length, 0, 'said before anything started');
      assert.equal((await api(service, 'GET', '/api/info')).body.apiKeyConfigured, false);

      // The real Claude Code CLI starts on the course and sends the tutor's kick-off through the API proxy.
      await page.getByRole('button', { name: /^Markup / }).click();
      await page.getByRole('button', { name: 'Start this course' }).click();
      await page.locator('#status-text', { hasText: REASONS.no_api_key }).waitFor({ timeout: 60_000 });
      assert.ok(service.manager.listAll().some((s) => s.isActive), 'the session itself runs');
      assert.equal(await page.locator('#status-dot').getAttribute('class'), 'dot warn', 'not shown as running');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await endAll();
    }
  });

  it('shows course authors\' text as text: the course list, its detail, the stage panel and the completion', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page, [/\/stages\/\d+\/answer$/]);
    try {
      await page.goto(service.url);
      await page.getByRole('button', { name: /^Markup <img src=x id=pwn-title>/ }).click();
      const detail = page.locator('.course-detail');
      await detail.getByRole('heading', { name: HOSTILE.title }).waitFor({ timeout: 10_000 });
      assert.equal(await detail.locator('.course-detail__description').innerText(), HOSTILE.description);
      await detail.getByText(HOSTILE.stage1.goal).waitFor();
      assert.equal(await injected(page), 0, 'no element came from course text on the start view');

      await page.getByRole('button', { name: 'Start this course' }).click();
      await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
      const side = page.locator('.side');
      await side.getByRole('heading', { name: `Stage 1: ${HOSTILE.stage1.title}` }).waitFor();
      await side.getByText(HOSTILE.stage1.goal).waitFor();
      assert.ok((await side.textContent())!.includes(HOSTILE.stage1.hint), 'the hint, as text');
      await side.getByLabel('Your answer').fill('yes');
      await side.getByRole('button', { name: 'Check' }).click();
      await page.locator('.stage-panel__complete', { hasText: `Stage 1 (${HOSTILE.stage1.title}) complete. Next: ${HOSTILE.stage2.title}.` }).waitFor({ timeout: 10_000 });
      await side.getByText(HOSTILE.stage2.goal).waitFor();
      assert.equal(await injected(page), 0, 'no element came from course text beside the terminal');
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await endAll();
    }
  });
});
