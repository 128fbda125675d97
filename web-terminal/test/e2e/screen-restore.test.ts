// Exact screen restore, as a person sees it: a session prints several MB (colours, then a full-screen
// program redrawing hundreds of frames on the alternate screen with a scroll region and a hidden cursor),
// the tab reloads, the page attaches again by itself, and the terminal holds exactly what it held before: every
// cell's character and colours, the cursor, the active buffer, and the same pixels.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors } from '../helpers/page-checks.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startTestService } from '../helpers/service.ts';

const SCROLLBACK_LINES = 400;

/**
 * Everything visible in the page's terminal: its size, the active buffer's type, the cursor, the screen and
 * the last `lines` lines of the normal buffer, cell by cell (character, colours, bold, inverse). Plain
 * JavaScript in a string: it runs in the page, untouched by the test's TypeScript transform.
 */
const READ_TERMINAL = `(lines) => {
  const term = window.__term;
  const dump = (buffer, count) => {
    const out = [];
    for (let y = Math.max(0, buffer.length - count); y < buffer.length; y += 1) {
      const line = buffer.getLine(y);
      let text = line.isWrapped ? 'w|' : '-|';
      for (let x = 0; x < term.cols; x += 1) {
        const c = line.getCell(x);
        text += (c.getChars() || ' ') + c.getFgColorMode() + '.' + c.getFgColor() + '.' + c.getBgColorMode() + '.' + c.getBgColor() + '.' + (c.isBold() ? 1 : 0) + (c.isInverse() ? 1 : 0) + ' ';
      }
      out.push(text);
    }
    return out;
  };
  const active = term.buffer.active;
  return { size: [term.cols, term.rows], type: active.type, cursor: [active.cursorX, active.cursorY], screen: dump(active, term.rows), normal: dump(term.buffer.normal, lines) };
}`;

interface TerminalState { size: number[]; type: string; cursor: number[]; screen: string[]; normal: string[] }

const readTerminal = (page: Page, lines: number): Promise<TerminalState> => page.evaluate(`(${READ_TERMINAL})(${lines})`);

const bufferText = (page: Page): Promise<string> => page.evaluate(`(() => {
  const buffer = window.__term.buffer.active;
  const lines = [];
  for (let y = 0; y < buffer.length; y += 1) lines.push(buffer.getLine(y).translateToString(true));
  return lines.join('\\n');
})()`);

async function waitForText(page: Page, text: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await bufferText(page)).includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${text} in the terminal`);
    await page.waitForTimeout(100);
  }
}

/** The terminal's pixels without the focus (an unfocused cursor does not blink). */
async function terminalPixels(page: Page, name: string): Promise<Buffer> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(0, 0);
  return page.locator('.xterm-screen').screenshot({ path: join(artifactsDir, name), animations: 'disabled' });
}

/** Reloads the tab; the page attaches to the learner's running session by itself (no new session). */
async function reloadAndReattach(page: Page, service: Service, marker: string) {
  const before = service.manager.listAll().map((s) => s.id);
  await page.reload();
  await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
  await waitForText(page, marker, 30_000);
  assert.deepEqual(service.manager.listAll().map((s) => s.id), before, 'the reload started no new session');
  await waitUntil(() => service.manager.listAll()[0]!.hasViewer, 10_000, 'the reloaded page is attached');
}

/** Waits until the terminal has stopped changing (all written output rendered). */
async function settled(page: Page, lines: number) {
  let last = JSON.stringify(await readTerminal(page, lines));
  for (let i = 0; i < 50; i += 1) {
    await page.waitForTimeout(200);
    const now = JSON.stringify(await readTerminal(page, lines));
    if (now === last) return JSON.parse(now) as TerminalState;
    last = now;
  }
  throw new Error('the terminal kept changing');
}

// Several MB of coloured lines, then a full-screen program: 200 redraws with cursor moves on the
// alternate screen, a scroll region, a hidden cursor; it then waits (as a TUI waits for a key).
const FLOOD = "for i in $(seq 1 60000); do printf '\\e[3%dm%06d \\e[1;4%dm%s\\e[0m tail\\n' $((i%8)) $i $((i%7)) 'the quick brown fox jumps over the lazy dog 0123456789'; done";
const TUI = "printf '\\e[?1049h\\e[?25l'; for f in $(seq 1 200); do printf '\\e[H\\e[2J\\e[1;44m frame %d \\e[0m' $f; for r in $(seq 2 16); do printf '\\e[%d;%dH\\e[3%dmrow %d of frame %d' $r $(( (f+r)%20+1 )) $((r%8)) $r $f; done; done; printf '\\e[18;22r\\e[22;1H\\e[7m TUI-%s \\e[0m' READY; read -r _";
const BACK = "printf '\\e[r\\e[?25h\\e[?1049l'; for i in $(seq 1 3000); do printf '\\e[3%dmafter %d\\e[0m\\n' $((i%8)) $i; done; echo SHELL-$((6*7))-AGAIN";

describe('exact screen restore in the browser', () => {
  let service: Service;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    service = await startTestService({ SCROLLBACK_LINES: String(SCROLLBACK_LINES) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await service?.close();
  });

  it('a reloaded tab shows the screen it had, after MBs of output and a full-screen program', { timeout: 240_000 }, async () => {
    const page = await browser.browser.newPage({ viewport: { width: 1000, height: 640 } });
    const pageErrors = collectPageErrors(page);
    await page.goto(service.url);
    await page.getByRole('button', { name: /^Just a terminal/ }).click();
    await page.getByRole('button', { name: 'Start a terminal' }).click();
    await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
    await page.locator('.xterm-rows', { hasText: '$' }).waitFor({ timeout: 20_000 });
    const session = service.manager.listAll()[0]!;
    let printed = 0;
    session.onOutput((chunk) => {
      printed += chunk.length;
    });

    // A full-screen program, after several MB.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type(`${FLOOD}; ${TUI}`);
    await page.keyboard.press('Enter');
    await waitForText(page, 'TUI-READY', 180_000);
    assert.ok(printed > 4_000_000, `printed ${printed} bytes`);
    const tuiBefore = await settled(page, SCROLLBACK_LINES);
    assert.equal(tuiBefore.type, 'alternate');
    const tuiPixelsBefore = await terminalPixels(page, 'screen-restore-tui-before.png');

    await reloadAndReattach(page, service, 'TUI-READY');
    const tuiAfter = await settled(page, SCROLLBACK_LINES);
    assert.deepEqual(tuiAfter, tuiBefore, 'the same cells, colours, cursor and buffer after the reload');
    const tuiPixelsAfter = await terminalPixels(page, 'screen-restore-tui-after.png');
    assert.ok(tuiPixelsAfter.equals(tuiPixelsBefore), 'the same pixels (see test-artifacts/screen-restore-tui-*.png)');

    // The program goes on where it was: it leaves the alternate screen, the shell prints more.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type(BACK);
    await page.keyboard.press('Enter');
    await waitForText(page, 'SHELL-42-AGAIN', 60_000);
    const shellBefore = await settled(page, SCROLLBACK_LINES);
    assert.equal(shellBefore.type, 'normal');
    const shellPixelsBefore = await terminalPixels(page, 'screen-restore-shell-before.png');

    await reloadAndReattach(page, service, 'SHELL-42-AGAIN');
    const shellAfter = await settled(page, SCROLLBACK_LINES);
    assert.deepEqual(shellAfter, shellBefore, 'the shell screen and the last scrollback lines, cell by cell');
    const shellPixelsAfter = await terminalPixels(page, 'screen-restore-shell-after.png');
    assert.ok(shellPixelsAfter.equals(shellPixelsBefore), 'the same pixels (see test-artifacts/screen-restore-shell-*.png)');

    // And it is the same live shell.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "live-$((7*6))"');
    await page.keyboard.press('Enter');
    await waitForText(page, 'live-42', 20_000);
    assert.deepEqual(pageErrors, []);
    await service.manager.end(session.id, 'deleted');
  });
});
