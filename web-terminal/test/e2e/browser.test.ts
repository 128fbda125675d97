// The page as a person uses it: start a terminal, type, see output, resize, end the session; the terminal's
// bundled fonts all load, from this server, and underscores are drawn inside their row.
// (Limits, taken-over tabs and upstream reports: page-situations.test.ts; the course journey: learner-journey.test.ts.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Service } from '../../src/server.ts';
import { REASONS, STATES } from '../../public/reasons.js';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors } from '../helpers/page-checks.ts';
import { sandboxProcesses, waitUntil } from '../helpers/processes.ts';
import { startTestService } from '../helpers/service.ts';

/** How many pixels of a PNG differ clearly from its top-left pixel (decoded by Chromium in a blank page). */
async function inkPixels(browser: Browser, png: Buffer): Promise<number> {
  const blank = await browser.newPage();
  try {
    return await blank.evaluate(async (base64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${base64}`;
      await img.decode();
      const canvas = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, img.width, img.height);
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i]! - data[0]!) + Math.abs(data[i + 1]! - data[1]!) + Math.abs(data[i + 2]! - data[2]!) > 96) ink += 1;
      }
      return ink;
    }, png.toString('base64'));
  } finally {
    await blank.close();
  }
}

describe('browser end to end (local runtime)', () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    service = await startTestService();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await service?.close();
  });

  it('creates a session, runs a command, follows a resize, and ends the session', async () => {
    const page = await browser.browser.newPage({ viewport: { width: 1100, height: 700 } });
    // Console errors include Content-Security-Policy violations: the page must need nothing it forbids.
    const pageErrors = collectPageErrors(page);
    const fontResponses: string[] = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'font') fontResponses.push(`${r.status()} ${r.url().replace(service.url, '')}`);
    });
    const response = await page.goto(service.url);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByRole('button', { name: /^Just a terminal/ }).click();
    await page.getByRole('button', { name: 'Start a terminal' }).click();
    await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 15_000 });

    // The terminal's bundled faces, every one of them loaded from this server (no CDN, none missing).
    const faces = await page.evaluate(async () => {
      await document.fonts.ready;
      return [...document.fonts].map((f) => `${f.family.replaceAll('"', '')} ${f.weight} ${f.status}`).sort();
    });
    assert.deepEqual(faces, ['DejaVu Mono 400 loaded', 'DejaVu Mono 700 loaded', 'Terminal Symbols 2 400 loaded', 'Terminal Symbols 400 loaded']);
    assert.equal(fontResponses.length, 4, fontResponses.join(', '));
    for (const font of fontResponses) assert.match(font, /^200 \/vendor\/fonts\/[a-z0-9-]+\/[a-z0-9-]+\.woff2$/);

    const screen = () => page.locator('.xterm-rows').innerText();
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "from the browser: $((6*7))"');
    await page.keyboard.press('Enter');
    await page.locator('.xterm-rows', { hasText: 'from the browser: 42' }).waitFor({ timeout: 15_000 });

    // Underscores stay visible: a row of them, as the page draws it, has ink inside its own row's box.
    await page.keyboard.type('printf \'%s\\n\' "$(printf \'_%.0s\' {1..24})"');
    await page.keyboard.press('Enter');
    const underscores = page.locator('.xterm-rows > div', { hasText: /^_{24}$/ });
    await underscores.waitFor({ timeout: 15_000 });
    assert.ok(await inkPixels(browser.browser, await underscores.screenshot()) >= 24 * 4, 'the underscores are drawn inside their row');

    await page.keyboard.type('stty size');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /\n\d+ \d+\n/.test((document.querySelector('.xterm-rows') as HTMLElement).innerText));
    const sizeOf = async () => {
      const rows = [...(await screen()).matchAll(/^(\d+) (\d+)$/gm)];
      const last = rows[rows.length - 1]!;
      return { rows: Number(last[1]), cols: Number(last[2]) };
    };
    const before = await sizeOf();
    const termSize = await page.evaluate(() => {
      const term = (window as unknown as { __term: { cols: number; rows: number } }).__term;
      return { cols: term.cols, rows: term.rows };
    });
    assert.deepEqual(before, termSize, 'the pty has the size of the terminal on screen');

    // Narrow enough that the course panel moves below the terminal: both dimensions shrink.
    await page.setViewportSize({ width: 600, height: 500 });
    await page.waitForFunction((cols) => (window as unknown as { __term: { cols: number } }).__term.cols < cols, before.cols);
    await page.keyboard.type('clear; stty size');
    await page.keyboard.press('Enter');
    await page.waitForFunction((cols) => {
      const match = /(\d+) (\d+)/.exec((document.querySelector('.xterm-rows') as HTMLElement).innerText);
      return match !== null && Number(match[2]) < cols;
    }, before.cols);
    const afterResize = await sizeOf();
    assert.ok(afterResize.cols < before.cols && afterResize.rows < before.rows, `resized: ${JSON.stringify({ before, afterResize })}`);

    await page.screenshot({ path: join(artifactsDir, 'browser-session.png') });
    await page.getByRole('button', { name: 'End session' }).click();
    await page.locator('#status-text', { hasText: REASONS.deleted }).waitFor({ timeout: 15_000 });
    await waitUntil(() => service.manager.activeCount === 0, 10_000, 'session released');
    assert.deepEqual(sandboxProcesses(), []);
    assert.deepEqual(pageErrors, []);
  });
});
