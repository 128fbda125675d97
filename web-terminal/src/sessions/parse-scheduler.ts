// One budget of CPU time for parsing the output of every session's screen record. Parsing never runs
// on the output path: it runs in slices after the I/O of the moment, round-robin over the screens that
// have output waiting, and while any backlog lasts it takes at most `budget` of the event loop's time,
// so however many sessions flood at once, relaying their output keeps the rest.

export interface Parseable {
  /** Parses waiting output for up to `ms`; returns true when nothing is left waiting. */
  parseFor(ms: number): boolean;
}

export class ParseScheduler {
  private readonly waiting = new Set<Parseable>();
  private timer: NodeJS.Immediate | NodeJS.Timeout | null = null;

  /** `budget`: share of time (0-1] parsing may take while a backlog lasts; `sliceMs`: one slice. */
  constructor(readonly budget: number, readonly sliceMs = 4) {}

  /** `item` has output waiting. */
  add(item: Parseable): void {
    this.waiting.add(item);
    this.timer ??= setImmediate(() => this.drain());
  }

  remove(item: Parseable): void {
    this.waiting.delete(item);
  }

  private drain(): void {
    this.timer = null;
    const start = performance.now();
    for (const item of [...this.waiting]) {
      // Served items go to the back: a screen that floods cannot starve the others.
      this.waiting.delete(item);
      if (!item.parseFor(this.sliceMs / Math.max(1, this.waiting.size + 1))) this.waiting.add(item);
      if (performance.now() - start >= this.sliceMs) break;
    }
    if (this.waiting.size === 0) return;
    const spent = performance.now() - start;
    this.timer = setTimeout(() => this.drain(), Math.max(1, (spent * (1 - this.budget)) / this.budget));
    this.timer.unref();
  }
}

/**
 * The service's one scheduler. 5% of the time while output floods: relaying output at full speed keeps
 * 95% (see `npm run bench`); ordinary output (a prompt, Claude Code's redraws) is parsed within a slice.
 */
export const sharedParseScheduler = new ParseScheduler(0.05);
