// One budget for parsing the output of every session's screen record. Parsing never runs on the output
// path: it runs in slices after the I/O of the moment, round-robin over the screens with output waiting.
// The budget is metered in bytes, not in wall time (a busy machine gives the service less CPU; a share of
// wall time would then grow into a large share of what it gets): a token bucket earns a share of every
// byte of output plus a steady trickle, up to a burst, and parsing spends what it parses. Ordinary output
// (a prompt, Claude Code's redraws) is parsed at once; a flood beyond the budget is skipped oldest first
// (see headless-screen.ts), so parsing costs a bounded fraction of relaying.

export interface Parseable {
  /** Parses waiting output for up to `ms` and about `maxBytes`; returns the bytes parsed and whether any wait. */
  parseFor(ms: number, maxBytes: number): { bytes: number; done: boolean };
}

export interface ParseSchedulerOptions {
  /** Share (0-1] of all output that parsing may take in a flood. */
  shareOfOutput: number;
  /** Bytes per second parsing may take whatever the output. */
  trickleBytesPerSecond: number;
  /** Bytes that may be parsed at once after a quiet spell. */
  burstBytes: number;
  /** Longest one slice runs before I/O gets its turn. */
  sliceMs?: number;
  /** Budget a slice waits for once the budget ran out (default 4 KiB, at most `burstBytes`). */
  minSliceBytes?: number;
  now?: () => number;
}

const DEFAULT_MIN_SLICE_BYTES = 4096;

export class ParseScheduler {
  private readonly waiting = new Set<Parseable>();
  private timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  /** The timer waits for the budget (not for I/O): new output may end the wait. */
  private outOfBudget = false;
  private readonly sliceMs: number;
  private readonly quantum: number;
  private readonly now: () => number;
  private tokens: number;
  private lastRefill: number;

  constructor(private readonly opts: ParseSchedulerOptions) {
    this.sliceMs = opts.sliceMs ?? 4;
    this.quantum = Math.min(opts.burstBytes, opts.minSliceBytes ?? DEFAULT_MIN_SLICE_BYTES);
    this.now = opts.now ?? (() => performance.now());
    this.tokens = opts.burstBytes;
    this.lastRefill = this.now();
  }

  /** `bytes` of output came: parsing earns its share of them. */
  earn(bytes: number): void {
    this.tokens = Math.min(this.opts.burstBytes, this.tokens + bytes * this.opts.shareOfOutput);
    // In a flood every chunk earns a little: waking for each would parse in slivers, a slice per chunk.
    if (this.outOfBudget && this.tokens >= this.quantum) {
      clearTimeout(this.timer as NodeJS.Timeout);
      this.outOfBudget = false;
      this.timer = setImmediate(() => this.drain());
    }
  }

  /** `item` has output waiting. */
  add(item: Parseable): void {
    this.waiting.add(item);
    this.timer ??= setImmediate(() => this.drain());
  }

  remove(item: Parseable): void {
    this.waiting.delete(item);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.opts.burstBytes, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.trickleBytesPerSecond);
    this.lastRefill = now;
  }

  private drain(): void {
    this.timer = null;
    this.outOfBudget = false;
    this.refill();
    const start = this.now();
    for (const item of [...this.waiting]) {
      if (this.tokens < this.quantum) break;
      // Served items go to the back: a screen that floods cannot starve the others.
      this.waiting.delete(item);
      const share = Math.max(1, this.waiting.size + 1);
      const { bytes, done } = item.parseFor(this.sliceMs / share, this.tokens / share);
      this.tokens -= bytes;
      if (!done) this.waiting.add(item);
      if (this.now() - start >= this.sliceMs) break;
    }
    if (this.waiting.size === 0) return;
    if (this.tokens >= this.quantum) {
      this.timer = setImmediate(() => this.drain());
      return;
    }
    // Out of budget: wait for the trickle (or new output) to earn a little again.
    this.outOfBudget = true;
    this.timer = setTimeout(() => this.drain(), 20);
    this.timer.unref();
  }
}

/**
 * The service's one scheduler: 0.5% of the output in a flood plus 64 KiB/s, bursts of 512 KiB. Parsing
 * costs far more per byte than relaying (xterm.js parses 3-5 MB/s of wrapping text on the 2-core bench
 * machine, where relaying costs about 17 ms of CPU per MB), so this keeps its cost about a tenth of
 * relaying's in a flood (`npm run bench`), while an interactive program's output, far below it, is always
 * parsed whole.
 */
export const sharedParseScheduler = new ParseScheduler({ shareOfOutput: 0.005, trickleBytesPerSecond: 64 * 1024, burstBytes: 512 * 1024 });
