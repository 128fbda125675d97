// The page's history panel in real Chromium, against the real service with real bubblewrap sandboxes:
// a past session is listed with Continue, Download and Delete; Download saves its conversation as
// Markdown; Continue starts a new session whose sandbox got the conversation back (the real entry point
// puts it where Claude Code looks); Delete (confirmed by a second click) removes the saved conversation.
// A session whose program exits offers to continue its conversation from the page's ended banner.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { api, startTestService } from '../helpers/service.ts';

const CONVERSATION = '0a1b2c3d-4e5f-4a6b-8c7d-9e8f7a6b5c4d';
// A stand-in for Claude Code: a new session writes a transcript where Claude Code would; a resumed one
// prints what it finds where Claude Code would look.
const PROGRAM = [
  'p="$HOME/.claude/projects/-workspace"',
  'if [ -n "${CLAUDECODE_RESUME_SESSION:-}" ]; then',
  '  echo "resumed $CLAUDECODE_RESUME_SESSION"; cat "$p/$CLAUDECODE_RESUME_SESSION.jsonl"',
  'else',
  '  mkdir -p "$p"',
  `  printf '%s\\n' '{"type":"user","message":{"role":"user","content":"PANEL-QUESTION"}}' '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"PANEL-ANSWER"}]}}' > "$p/${CONVERSATION}.jsonl"`,
  '  echo transcript-written',
  'fi',
  'exec bash --norc --noprofile -i',
].join('\n');

describe('history panel in the browser', { timeout: 120_000 }, () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let pastId = '';

  before(async () => {
    service = await startTestService({ SESSION_COMMAND: PROGRAM, TRANSCRIPT_SAVE_INTERVAL_SECONDS: '1' });
    browser = await launchBrowser();
    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201);
    pastId = String(created.body.id);
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${service.url}/api/conversations/${pastId}/markdown`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'the running session\'s conversation was saved');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await api(service, 'DELETE', `/api/sessions/${pastId}`)).status, 204);
  });
  after(async () => {
    await browser?.close();
    await service?.close();
  });

  it('lists a past session, downloads its conversation, continues it, and deletes it', async () => {
    const page = await browser.browser.newPage({ viewport: { width: 1100, height: 700 }, acceptDownloads: true });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(service.url);
    const entry = page.locator(`#start-view .history li[data-session-id="${pastId}"]`);
    await entry.waitFor({ timeout: 15_000 });
    assert.match(await entry.innerText(), /No course[\s\S]*ended/);

    const [download] = await Promise.all([page.waitForEvent('download'), entry.getByRole('button', { name: 'Download' }).click()]);
    assert.equal(download.suggestedFilename(), `conversation-${pastId}.md`);
    const markdown = readFileSync((await download.path()) as string, 'utf8');
    assert.match(markdown, /## You\n\nPANEL-QUESTION/);
    assert.match(markdown, /## Claude\n\nPANEL-ANSWER/);

    await entry.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.xterm-rows', { hasText: `resumed ${CONVERSATION}` }).waitFor({ timeout: 20_000 });
    await page.locator('.xterm-rows', { hasText: 'PANEL-ANSWER' }).waitFor({ timeout: 5_000 });
    await page.locator('#status-text', { hasText: 'running' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(artifactsDir, 'history-panel.png') });

    // During the session the history sits in the side panel's Sessions tab.
    await page.getByRole('tab', { name: 'Sessions' }).click();
    const sideEntry = page.locator(`#panel-sessions .history li[data-session-id="${pastId}"]`);
    await sideEntry.getByRole('button', { name: 'Delete' }).click();
    await sideEntry.getByRole('button', { name: 'Really delete?' }).click();
    await page.locator('#panel-sessions .history-panel', { hasText: 'Conversation deleted.' }).waitFor({ timeout: 10_000 });
    await page.locator(`#panel-sessions .history li[data-session-id="${pastId}"]`, { hasText: 'no saved conversation' }).waitFor({ timeout: 10_000 });
    assert.equal((await fetch(`${service.url}/api/conversations/${pastId}/markdown`)).status, 404);
    assert.equal(await page.locator(`#panel-sessions .history li[data-session-id="${pastId}"] button`).count(), 0, 'nothing to continue, download or delete');

    await page.locator('#end-session').click();
    await page.locator('#status-text', { hasText: 'ended' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(pageErrors, []);
  });

  it('a session that ends by itself offers to continue its conversation, and that continues it', async () => {
    const page = await browser.browser.newPage({ viewport: { width: 1100, height: 700 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(service.url);
    await page.getByRole('button', { name: /^Just a terminal/ }).click();
    await page.getByRole('button', { name: 'Start a terminal' }).click();
    await page.locator('.xterm-rows', { hasText: 'transcript-written' }).waitFor({ timeout: 20_000 });
    const ended = service.manager.listAll().find((s) => s.isActive)!;
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${service.url}/api/conversations/${ended.id}/markdown`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'the running session\'s conversation was saved');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The program exits (as Claude Code does on /exit): the page says so and offers what can be done.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('exit');
    await page.keyboard.press('Enter');
    const offer = page.locator('#banner').getByRole('button', { name: 'Continue this conversation' });
    await offer.waitFor({ timeout: 20_000 });
    await offer.click();
    await page.locator('.xterm-rows', { hasText: `resumed ${CONVERSATION}` }).waitFor({ timeout: 20_000 });
    await page.locator('.xterm-rows', { hasText: 'PANEL-ANSWER' }).waitFor({ timeout: 5_000 });
    const resumed = service.manager.listAll().find((s) => s.isActive)!;
    assert.notEqual(resumed.id, ended.id, 'a new session');
    await page.locator('#end-session').click();
    await page.locator('#status-text', { hasText: 'ended' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(pageErrors, []);
  });
});
