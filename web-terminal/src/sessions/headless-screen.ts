// A session's exact screen, kept in a headless xterm.js fed the program's output, serialized for a viewer
// that (re)attaches: colours, cursor, alternate screen, modes, and a bounded scrollback.
//
// Parsing costs CPU on the output path, so it never runs there: output is queued and parsed in slices
// after the I/O of the moment, using at most BUDGET of the event loop's time while a backlog lasts.
// The queue is bounded: when output outruns the parser for long, the oldest unparsed output is skipped
// (the screen is then that of the newest output, which is what a flood leaves on screen anyway).
// A snapshot parses whatever is queued first, so it is always up to date.
import headless from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import type { Terminal as HeadlessTerminal } from '@xterm/headless';

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
  /** Share of the event loop's time parsing may take while a backlog lasts (0-1]. */
  budget?: number;
}

type Resize = { cols: number; rows: number };

const SLICE_MS = 4;

export class HeadlessScreen {
  private readonly term: HeadlessTerminal;
  private readonly serializer = new SerializeAddon();
  private readonly scrollbackLines: number;
  private readonly maxBacklogBytes: number;
  private readonly budget: number;
  private queue: Array<Buffer | Resize> = [];
  private queuedBytes = 0;
  private cutShort = false;
  private timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private disposed = false;
  private latestSize: Resize;
  skippedBytes = 0;

  constructor(opts: HeadlessScreenOptions) {
    this.scrollbackLines = opts.scrollbackLines;
    this.maxBacklogBytes = opts.maxBacklogBytes ?? 4 * 1024 * 1024;
    this.budget = Math.min(1, Math.max(0.01, opts.budget ?? 0.5));
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
    this.schedule();
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.latestSize = { cols, rows };
    this.queue.push({ cols, rows });
    this.schedule();
  }

  /** The size of the screen (as last resized; output before it may still be waiting to be parsed). */
  get size(): Resize {
    return { ...this.latestSize };
  }

  snapshot(): Buffer {
    if (this.disposed) return Buffer.alloc(0);
    this.parse(Infinity);
    return Buffer.from(RESET + this.serializer.serialize({ scrollback: this.scrollbackLines }) + modesNotSerialized(this.term), 'utf8');
  }

  dispose(): void {
    this.disposed = true;
    this.clearTimer();
    this.queue = [];
    this.queuedBytes = 0;
    this.term.dispose();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setImmediate(() => this.drain());
  }

  private drain(): void {
    this.timer = null;
    if (this.disposed) return;
    const spent = this.parse(SLICE_MS);
    if (this.queue.length === 0) return;
    // Wait so that parsing stays within its share of the time.
    this.timer = setTimeout(() => this.drain(), Math.max(1, (spent * (1 - this.budget)) / this.budget));
    this.timer.unref();
  }

  /** Parses queued output until the queue is empty or `maxMs` has passed; returns the time spent. */
  private parse(maxMs: number): number {
    const start = performance.now();
    while (this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (Buffer.isBuffer(item)) {
        this.queuedBytes -= item.length;
        if (this.cutShort) {
          writeNow(this.term, CANCEL);
          this.cutShort = false;
        }
        writeNow(this.term, item);
      } else {
        this.term.resize(item.cols, item.rows);
      }
      if (performance.now() - start >= maxMs) break;
    }
    return performance.now() - start;
  }

  private skipOldest(): void {
    while (this.queuedBytes > this.maxBacklogBytes && this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (Buffer.isBuffer(item)) {
        this.queuedBytes -= item.length;
        this.skippedBytes += item.length;
        this.cutShort = true;
      } else {
        this.term.resize(item.cols, item.rows); // sizes are never skipped
      }
    }
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearImmediate(this.timer as NodeJS.Immediate);
    clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = null;
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
