// The screen record: a snapshot written into a fresh terminal of the same size reproduces the screen
// exactly (text, colours, cursor, alternate screen, modes), whatever came before; the backlog is bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import headless from '@xterm/headless';
import type { Terminal } from '@xterm/headless';
import { HeadlessScreen } from '../../src/sessions/headless-screen.ts';
import { ParseScheduler } from '../../src/sessions/parse-scheduler.ts';
import { waitUntil } from '../helpers/processes.ts';

const { Terminal: HeadlessTerminal } = headless;

interface Core {
  writeSync(data: Uint8Array): void;
  coreService: { isCursorHidden: boolean };
  coreMouseService: { activeEncoding: string };
  buffer: { x: number; y: number; scrollTop: number; scrollBottom: number };
}
const core = (t: Terminal) => (t as unknown as { _core: Core })._core;

function fresh(cols: number, rows: number, scrollback = 1000): Terminal {
  return new HeadlessTerminal({ cols, rows, scrollback, allowProposedApi: true, logLevel: 'off' });
}

/** Everything visible about a terminal: every line with every cell's colours and style, the cursor, modes. */
function describeTerminal(t: Terminal, lastLines = Infinity) {
  const buffer = t.buffer.active;
  const lines: string[] = [];
  for (let y = Math.max(0, buffer.length - lastLines); y < buffer.length; y += 1) {
    const line = buffer.getLine(y)!;
    let text = '';
    for (let x = 0; x < t.cols; x += 1) {
      const cell = line.getCell(x)!;
      text += `${cell.getChars() || ' '}[${cell.getFgColorMode()}:${cell.getFgColor()}/${cell.getBgColorMode()}:${cell.getBgColor()}/${cell.isBold()}${cell.isUnderline()}${cell.isInverse()}]`;
    }
    lines.push(`${line.isWrapped ? 'w' : '-'}${text}`);
  }
  const c = core(t);
  return {
    type: buffer.type,
    lines,
    cursor: [buffer.cursorX, buffer.cursorY],
    hidden: c.coreService.isCursorHidden,
    mouse: [t.modes.mouseTrackingMode, c.coreMouseService.activeEncoding],
    region: [c.buffer.scrollTop, c.buffer.scrollBottom],
    modes: t.modes,
  };
}

/** Feeds the same bytes to a reference terminal and to a screen record; returns both. */
function feed(cols: number, rows: number, chunks: string[], scrollbackLines = 1000) {
  const reference = fresh(cols, rows, scrollbackLines);
  const screen = new HeadlessScreen({ cols, rows, scrollbackLines });
  for (const chunk of chunks) {
    core(reference).writeSync(Buffer.from(chunk));
    screen.append(Buffer.from(chunk));
  }
  return { reference, screen };
}

function restored(screen: HeadlessScreen, cols: number, rows: number, scrollback = 1000): Terminal {
  const t = fresh(cols, rows, scrollback);
  // The browser may show something else before: the snapshot replaces it.
  core(t).writeSync(Buffer.from('\x1b[?1049h\x1b[31mjunk\x1b[?25l\x1b[5;10r'));
  core(t).writeSync(screen.snapshot());
  return t;
}

describe('headless screen', () => {
  it('restores colours, wrapped lines, wide characters, scrollback and the cursor of a shell session', () => {
    const chunks: string[] = [];
    for (let i = 0; i < 300; i += 1) chunks.push(`\x1b[3${i % 8};4${(i + 3) % 8}m${i % 5 === 0 ? '\x1b[1m' : ''}row ${i} é漢字 ${'x'.repeat(i % 97)}\x1b[0m\r\n`);
    chunks.push('\x1b[38;2;10;20;30mtruecolor\x1b[0m $ partial inp', 'ut');
    const { reference, screen } = feed(60, 20, chunks);
    const back = restored(screen, 60, 20);
    assert.deepEqual(describeTerminal(back), describeTerminal(reference));
    screen.dispose();
  });

  it('restores a full-screen program: alternate screen, scroll region, hidden cursor, mouse and paste modes', () => {
    const tui = [
      'before the program\r\n',
      '\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?1h\x1b[H\x1b[2J',
      ...Array.from({ length: 50 }, (_, i) => `\x1b[${(i % 18) + 1};${(i * 7) % 50 + 1}H\x1b[7mcell${i}\x1b[27m`),
      '\x1b[3;15r\x1b[10;4H\x1b[44mstatus line\x1b[0m',
    ];
    const { reference, screen } = feed(70, 20, tui);
    const back = restored(screen, 70, 20);
    const expected = describeTerminal(reference);
    assert.equal(expected.type, 'alternate');
    assert.equal(expected.hidden, true);
    assert.deepEqual(describeTerminal(back), expected);
    // And the normal screen underneath comes back when the program leaves.
    core(reference).writeSync(Buffer.from('\x1b[?1049l\x1b[?25h'));
    core(back).writeSync(Buffer.from('\x1b[?1049l\x1b[?25h'));
    assert.deepEqual(describeTerminal(back), describeTerminal(reference));
    screen.dispose();
  });

  it('follows resizes in order with the output around them', () => {
    const { reference, screen } = feed(80, 24, ['a'.repeat(200), '\r\n']);
    reference.resize(40, 10);
    screen.resize(40, 10);
    core(reference).writeSync(Buffer.from('after resize '.repeat(10)));
    screen.append(Buffer.from('after resize '.repeat(10)));
    assert.deepEqual(screen.size, { cols: 40, rows: 10 });
    assert.deepEqual(describeTerminal(restored(screen, 40, 10)), describeTerminal(reference));
    screen.dispose();
  });

  it('keeps and sends at most its scrollback lines', () => {
    const chunks = Array.from({ length: 500 }, (_, i) => `line ${i}\r\n`);
    const { screen } = feed(40, 10, chunks, 50);
    const back = restored(screen, 40, 10, 10_000);
    assert.equal(back.buffer.active.length, 60, '50 lines of scrollback + 10 on screen');
    assert.equal(back.buffer.active.getLine(0)!.translateToString(true), 'line 441');
    screen.dispose();
  });

  it('parses off the output path, and a snapshot is current even before that happened', async () => {
    const screen = new HeadlessScreen({ cols: 40, rows: 5, scrollbackLines: 10 });
    screen.append(Buffer.from('typed just now'));
    assert.match(screen.snapshot().toString(), /typed just now/);
    screen.append(Buffer.from('\r\nlater'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(screen.snapshot().toString(), /later/);
    screen.dispose();
  });

  it('bounds its backlog: a flood faster than parsing skips the oldest output and keeps the newest screen', () => {
    const screen = new HeadlessScreen({ cols: 40, rows: 5, scrollbackLines: 10, maxBacklogBytes: 64 * 1024 });
    for (let i = 0; i < 100; i += 1) screen.append(Buffer.from(`\x1b[32m${'flood '.repeat(1000)}\x1b[0m\r\n`)); // 600 KB, all queued
    screen.append(Buffer.from('\x1b[1;31mthe end\x1b[0m'));
    assert.ok(screen.skippedBytes > 400 * 1024, `skipped ${screen.skippedBytes}`);
    const back = restored(screen, 40, 5);
    const last = back.buffer.active.getLine(back.buffer.active.baseY + back.buffer.active.cursorY)!;
    assert.equal(last.translateToString(true), 'the end');
    assert.ok(last.getCell(0)!.isBold());
    screen.dispose();
  });

  it('by default holds at most 512 KiB unparsed, so a snapshot after a flood parses no more than that', () => {
    const idle = new ParseScheduler({ shareOfOutput: 0, trickleBytesPerSecond: 0, burstBytes: 0 }); // parses nothing by itself
    const screen = new HeadlessScreen({ cols: 80, rows: 24, scrollbackLines: 1000, scheduler: idle });
    const line = Buffer.from(`${'x'.repeat(78)}\r\n`);
    const flood = Buffer.concat(Array.from({ length: 4096 / line.length | 0 }, () => line));
    let total = 0;
    for (; total < 8 * 1024 * 1024; total += flood.length) screen.append(flood);
    screen.append(Buffer.from('after the flood'));
    assert.ok(total - screen.skippedBytes <= 512 * 1024, `${total - screen.skippedBytes} bytes left to parse`);
    assert.match(screen.snapshot().toString(), /after the flood/);
    screen.dispose();
  });

  it('an escape sequence cut short by skipped output is abandoned, not completed by what follows', () => {
    const screen = new HeadlessScreen({ cols: 40, rows: 5, scrollbackLines: 10, maxBacklogBytes: 16 });
    screen.append(Buffer.from('start \x1b[38;2;1'));
    screen.snapshot(); // parsed: the sequence is open
    screen.append(Buffer.from(';2;3m and more than sixteen bytes')); // skipped
    screen.append(Buffer.from('ok'));
    assert.ok(screen.skippedBytes > 0);
    const back = restored(screen, 40, 5);
    // Were the sequence still open, `o` would end it and only `k` would show.
    assert.equal(back.buffer.active.getLine(0)!.translateToString(true), 'start ok');
    screen.dispose();
  });
  it('switches to the alternate screen and hides the cursor even when the switch was in skipped output', () => {
    const screen = new HeadlessScreen({ cols: 40, rows: 5, scrollbackLines: 10, maxBacklogBytes: 32 });
    screen.append(Buffer.from('shell prompt $ '));
    screen.snapshot();
    screen.append(Buffer.from(`\x1b[?1049h\x1b[?25l${'redraw '.repeat(20)}`)); // skipped
    screen.append(Buffer.from('\x1b[Hlast frame'));
    assert.ok(screen.skippedBytes > 0);
    const back = restored(screen, 40, 5);
    const state = describeTerminal(back);
    assert.equal(state.type, 'alternate');
    assert.equal(state.hidden, true);
    assert.equal(back.buffer.active.getLine(0)!.translateToString(true), 'last frame');
    assert.equal(back.buffer.normal.getLine(0)!.translateToString(true).trimEnd(), 'shell prompt $', 'the normal screen underneath');
    screen.dispose();
  });
});

describe('parse scheduler', () => {
  const chunks = (name: string, count: number, served: string[]) => ({
    parseFor: (_ms: number, maxBytes: number) => {
      let bytes = 0;
      while (count > 0 && bytes < maxBytes) {
        served.push(name);
        count -= 1;
        bytes += 1000;
      }
      return { bytes, done: count === 0 };
    },
  });

  it('serves every waiting screen in turn until all is parsed', async () => {
    // A burst of two chunks at a time: each turn serves one chunk of each screen.
    const scheduler = new ParseScheduler({ shareOfOutput: 0, trickleBytesPerSecond: 1e9, burstBytes: 2000 });
    const served: string[] = [];
    scheduler.add(chunks('a', 3, served));
    scheduler.add(chunks('b', 2, served));
    await waitUntil(() => served.length === 5, 10_000, 'all parsed');
    assert.deepEqual([...served].sort(), ['a', 'a', 'a', 'b', 'b']);
    assert.deepEqual(served.slice(0, 4), ['a', 'b', 'a', 'b'], 'round-robin');
  });

  it('parses no more than its share of the output plus the trickle, however the output arrives', async () => {
    let clock = 0;
    const scheduler = new ParseScheduler({ shareOfOutput: 0.05, trickleBytesPerSecond: 10_000, burstBytes: 20_000, now: () => clock });
    const served: string[] = [];
    const screen = chunks('s', 1_000_000, served);
    // 1000 chunks of 10 kB, each in its own turn of the event loop, 1 ms apart.
    for (let i = 0; i < 1000; i += 1) {
      scheduler.earn(10_000);
      scheduler.add(screen);
      await new Promise((resolve) => setImmediate(resolve));
      clock += 1;
    }
    const parsed = served.length * 1000;
    const allowed = 0.05 * 10_000_000 + 10_000 * (clock / 1000) + 20_000 + 1000;
    assert.ok(parsed <= allowed, `parsed ${parsed} of 10 MB (allowed ${allowed})`);
    assert.ok(parsed >= 0.05 * 10_000_000 - 20_000, `and it does use its budget: ${parsed}`);
    scheduler.remove(screen);
  });

  it('once out of budget, waits for a slice worth parsing instead of waking for every chunk', async () => {
    const scheduler = new ParseScheduler({ shareOfOutput: 0.01, trickleBytesPerSecond: 0, burstBytes: 10_000, minSliceBytes: 1000 });
    let calls = 0;
    const endless = { parseFor: (_ms: number, maxBytes: number) => { calls += 1; return { bytes: Math.ceil(maxBytes), done: false }; } };
    scheduler.add(endless);
    await waitUntil(() => calls > 0, 10_000, 'the burst parsed');
    await new Promise((resolve) => setImmediate(resolve));
    const afterBurst = calls;
    // A flood of small chunks: each earns 1 byte of budget, far below a slice.
    for (let i = 0; i < 500; i += 1) {
      scheduler.earn(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(calls, afterBurst, 'no parse for slivers of budget');
    scheduler.earn(100_000); // a slice's worth
    await waitUntil(() => calls > afterBurst, 10_000, 'parsing again once a slice is earned');
    scheduler.remove(endless);
  });
});
