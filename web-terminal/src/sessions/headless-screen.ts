// A session's exact screen, kept in a headless xterm.js fed the program's output, serialized for a viewer
// that (re)attaches: colours, cursor, alternate screen, modes, and a bounded scrollback.
//
// Parsing costs CPU, so it never runs on the output path: output is queued and parsed later within the
// shared budget of a ParseScheduler. The queue is bounded: when output outruns the parser for long, the
// oldest unparsed output is skipped (the screen is then that of the newest output, which is what a flood
// leaves on screen anyway; alternate screen and cursor switches in the skipped output are still applied).
// A snapshot parses whatever is queued first, so it is always up to date.
import headless from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import type { Terminal as HeadlessTerminal } from '@xterm/headless';
import { sharedParseScheduler } from './parse-scheduler.ts';
import type { Parseable, ParseScheduler } from './parse-scheduler.ts';

const { Terminal } = headless;
const { SerializeAddon } = serializeAddon;

/** Full reset (RIS): a snapshot replaces whatever the receiving terminal showed. */
const RESET = '\x1bc';
/** CAN: abandons an escape sequence cut short by skipped output. */
const CANCEL = Buffer.from('\x18');

export interface HeadlessScreenOptions {
  cols: number;
  rows: number;
  scrollbackLines: number;
  /** Unparsed output held at most; older output is skipped beyond it. */
  maxBacklogBytes?: number;
  /** Who parses, when (default: the service's shared scheduler). */
  scheduler?: ParseScheduler;
}

type Resize = { cols: number; rows: number };

/**
 * Unparsed output held at most by default. A snapshot parses all of it at once, blocking every session
 * meanwhile (xterm.js parses 3-5 MB/s of wrapping text on the 2-core bench machine: about 0.1-0.2 s for
 * this), and a lagging watcher gets a snapshot every second: the bound keeps that a small share of the
 * service's time (4 MiB took a second or more). Still several times a 1,000-line, 80-column scrollback.
 */
const DEFAULT_MAX_BACKLOG_BYTES = 512 * 1024;

/** What every mode switch below starts with (DEC private mode). */
const MODE_PREFIX = Buffer.from('\x1b[?');
/** Mode switches that must survive skipped output: alternate screen and cursor visibility, set (h) or reset (l). */
const SURVIVING_MODES = ['\x1b[?1049', '\x1b[?1047', '\x1b[?47', '\x1b[?25'].map((prefix) => ({
  set: Buffer.from(`${prefix}h`),
  reset: Buffer.from(`${prefix}l`),
}));

export class HeadlessScreen implements Parseable {
  private readonly term: HeadlessTerminal;
  private readonly serializer = new SerializeAddon();
  private readonly scrollbackLines: number;
  private readonly maxBacklogBytes: number;
  private readonly scheduler: ParseScheduler;
  private queue: Array<Buffer | Resize> = [];
  private queuedBytes = 0;
  /** What to write before the next parsed output after a skip: CAN, then the skipped mode switches. */
  private afterSkip: Buffer[] = [];
  private disposed = false;
  private latestSize: Resize;
  skippedBytes = 0;

  constructor(opts: HeadlessScreenOptions) {
    this.scrollbackLines = opts.scrollbackLines;
    this.maxBacklogBytes = opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    this.scheduler = opts.scheduler ?? sharedParseScheduler;
    this.latestSize = { cols: opts.cols, rows: opts.rows };
    // logLevel off: the parser would otherwise log unknown sequences the program prints.
    this.term = new Terminal({ cols: opts.cols, rows: opts.rows, scrollback: opts.scrollbackLines, allowProposedApi: true, logLevel: 'off' });
    this.term.loadAddon(this.serializer);
  }

  append(chunk: Buffer): void {
    if (this.disposed) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > this.maxBacklogBytes) this.skipOldest();
    this.scheduler.earn(chunk.length);
    this.scheduler.add(this);
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.latestSize = { cols, rows };
    this.queue.push({ cols, rows });
    this.scheduler.add(this);
  }

  /** The size of the screen (as last resized; output before it may still be waiting to be parsed). */
  get size(): Resize {
    return { ...this.latestSize };
  }

  snapshot(): Buffer {
    if (this.disposed) return Buffer.alloc(0);
    this.parseFor(Infinity, Infinity);
    return Buffer.from(RESET + this.serializer.serialize({ scrollback: this.scrollbackLines }) + modesNotSerialized(this.term), 'utf8');
  }

  dispose(): void {
    this.disposed = true;
    this.scheduler.remove(this);
    this.queue = [];
    this.queuedBytes = 0;
    this.term.dispose();
  }

  /** Parses queued output until the queue is empty, `maxMs` has passed or about `maxBytes` are parsed. */
  parseFor(maxMs: number, maxBytes: number): { bytes: number; done: boolean } {
    if (this.disposed) return { bytes: 0, done: true };
    const start = performance.now();
    let bytes = 0;
    while (this.queue.length > 0 && bytes < maxBytes) {
      const item = this.queue.shift()!;
      if (Buffer.isBuffer(item)) {
        this.queuedBytes -= item.length;
        bytes += item.length;
        for (const pending of this.afterSkip.splice(0)) writeNow(this.term, pending);
        writeNow(this.term, item);
      } else {
        this.term.resize(item.cols, item.rows);
      }
      if (performance.now() - start >= maxMs) break;
    }
    return { bytes, done: this.queue.length === 0 };
  }

  private skipOldest(): void {
    while (this.queuedBytes > this.maxBacklogBytes && this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (!Buffer.isBuffer(item)) {
        this.term.resize(item.cols, item.rows); // sizes are never skipped
        continue;
      }
      this.queuedBytes -= item.length;
      this.skippedBytes += item.length;
      if (this.afterSkip.length === 0) this.afterSkip.push(CANCEL);
      // One scan for the prefix all of them share: most skipped output holds no mode switch at all.
      if (!item.includes(MODE_PREFIX)) continue;
      for (const mode of SURVIVING_MODES) {
        const set = item.lastIndexOf(mode.set);
        const reset = item.lastIndexOf(mode.reset);
        if (set < 0 && reset < 0) continue;
        const switched = set > reset ? mode.set : mode.reset;
        // Keep only the last switch of each mode.
        const index = this.afterSkip.findIndex((b) => b === mode.set || b === mode.reset);
        if (index >= 0) this.afterSkip.splice(index, 1);
        this.afterSkip.push(switched);
      }
    }
  }
}

// The headless terminal's internals used below (xterm.js 6): its synchronous parse (the public `write`
// is scheduled on timers of its own, which neither bounds its memory nor lets a snapshot be current),
// and state the serialize addon leaves out. The unit tests of this module exercise each.
interface Internals {
  _core: {
    writeSync(data: Uint8Array): void;
    coreService: { isCursorHidden: boolean };
    coreMouseService: { activeEncoding: string };
    buffer: { scrollTop: number; scrollBottom: number; x: number; y: number };
  };
}

const internals = (term: HeadlessTerminal) => (term as unknown as Internals)._core;

function writeNow(term: HeadlessTerminal, data: Uint8Array): void {
  internals(term).writeSync(data);
}

/** Scroll region, hidden cursor and SGR mouse reports: restored after the serialized screen. */
function modesNotSerialized(term: HeadlessTerminal): string {
  const core = internals(term);
  let out = '';
  const { scrollTop, scrollBottom, x, y } = core.buffer;
  if (scrollTop !== 0 || scrollBottom !== term.rows - 1) {
    // DECSTBM homes the cursor: put it back where it was.
    const row = term.modes.originMode ? y - scrollTop : y;
    out += `\x1b[${scrollTop + 1};${scrollBottom + 1}r\x1b[${row + 1};${x + 1}H`;
  }
  // A full reset leaves the cursor's visibility alone: say it either way.
  out += core.coreService.isCursorHidden ? '\x1b[?25l' : '\x1b[?25h';
  if (core.coreMouseService.activeEncoding === 'SGR') out += '\x1b[?1006h';
  return out;
}
