// Exact screen restore, as a person sees it: a session prints several MB (colours, then a full-screen
// program redrawing hundreds of frames on the alternate screen with a scroll region and a hidden cursor),
// the tab reloads, the page attaches again by itself, and the terminal holds exactly what it held before: every
// cell's character and colours, the cursor, the active buffer, and the same pixels.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { artifactsDir, launchBrowser } from '../helpers/browser.ts';
import { collectPageErrors, waitForTerminalText } from '../helpers/page-checks.ts';
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

/**
 * The terminal's pixels without the focus (an unfocused cursor does not blink), once the renderer has
 * caught up with the buffer: two shots in a row alike (a busy machine may draw a frame late).
 */
async function terminalPixels(page: Page, name: string): Promise<Buffer> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(0, 0);
  const shot = () => page.locator('.xterm-screen').screenshot({ animations: 'disabled' });
  let last = await shot();
  for (let i = 0; i < 50; i += 1) {
    await page.waitForTimeout(150);
    const now = await shot();
    if (now.equals(last)) {
      writeFileSync(join(artifactsDir, name), now);
      return now;
    }
    last = now;
  }
  throw new Error('the terminal\'s pixels kept changing');
}

/** Reloads the tab; the page attaches to the learner's running session by itself (no new session). */
async function reloadAndReattach(page: Page, service: Service, marker: string) {
  const before = service.manager.listAll().map((s) => s.id);
  await page.reload();
  await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
  await waitForTerminalText(page, marker, 30_000);
  assert.deepEqual(service.manager.listAll().map((s) => s.id), before, 'the reload started no new session');
  await waitUntil(() => service.manager.listAll()[0]!.hasViewer, 10_000, 'the reloaded page is attached');
}

/**
 * Waits until the terminal shows `expected` (a restore may arrive in several frames on a busy machine);
 * on timeout, fails with the difference.
 */
async function becomes(page: Page, expected: TerminalState, lines: number, message: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let now = await readTerminal(page, lines);
  while (JSON.stringify(now) !== JSON.stringify(expected) && Date.now() < deadline) {
    await page.waitForTimeout(200);
    now = await readTerminal(page, lines);
  }
  assert.deepEqual(now, expected, message);
}

/** Waits for the terminal's pixels to be `expected` (the renderer may draw late); fails if they never are. */
async function pixelsBecome(page: Page, expected: Buffer, name: string, message: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let now = await terminalPixels(page, name);
  while (!now.equals(expected) && Date.now() < deadline) {
    await page.waitForTimeout(200);
    now = await terminalPixels(page, name);
  }
  assert.ok(now.equals(expected), message);
}

/** Waits until the terminal has stopped changing: the same state for a whole second (the shell's prompt may follow its output late). */
async function settled(page: Page, lines: number) {
  let last = JSON.stringify(await readTerminal(page, lines));
  let unchanged = 0;
  for (let i = 0; i < 100 && unchanged < 5; i += 1) {
    await page.waitForTimeout(200);
    const now = JSON.stringify(await readTerminal(page, lines));
    unchanged = now === last ? unchanged + 1 : 0;
    last = now;
  }
  if (unchanged < 5) throw new Error('the terminal kept changing');
  return JSON.parse(last) as TerminalState;
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
    await waitForTerminalText(page, 'TUI-READY', 180_000);
    assert.ok(printed > 4_000_000, `printed ${printed} bytes`);
    const tuiBefore = await settled(page, SCROLLBACK_LINES);
    assert.equal(tuiBefore.type, 'alternate');
    const tuiPixelsBefore = await terminalPixels(page, 'screen-restore-tui-before.png');

    await reloadAndReattach(page, service, 'TUI-READY');
    await becomes(page, tuiBefore, SCROLLBACK_LINES, 'the same cells, colours, cursor and buffer after the reload');
    await pixelsBecome(page, tuiPixelsBefore, 'screen-restore-tui-after.png', 'the same pixels (see test-artifacts/screen-restore-tui-*.png)');

    // The program goes on where it was: it leaves the alternate screen, the shell prints more.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type(BACK);
    await page.keyboard.press('Enter');
    await waitForTerminalText(page, 'SHELL-42-AGAIN', 60_000);
    const shellBefore = await settled(page, SCROLLBACK_LINES);
    assert.equal(shellBefore.type, 'normal');
    const shellPixelsBefore = await terminalPixels(page, 'screen-restore-shell-before.png');

    await reloadAndReattach(page, service, 'SHELL-42-AGAIN');
    await becomes(page, shellBefore, SCROLLBACK_LINES, 'the shell screen and the last scrollback lines, cell by cell');
    await pixelsBecome(page, shellPixelsBefore, 'screen-restore-shell-after.png', 'the same pixels (see test-artifacts/screen-restore-shell-*.png)');

    // And it is the same live shell.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "live-$((7*6))"');
    await page.keyboard.press('Enter');
    await waitForTerminalText(page, 'live-42', 20_000);
    assert.deepEqual(pageErrors, []);
    await service.manager.end(session.id, 'deleted');
  });
});
