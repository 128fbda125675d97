// A terminal held by the warm pool before anyone owns it: its output is kept (the tail, bounded) so the
// learner who claims it sees the screen the program drew, and its exit is noticed so a dead warm
// sandbox is replaced. Once claimed, it passes everything through like the terminal it wraps.
import type { Terminal, TerminalExit } from '../runtime/types.ts';

export interface HeldTerminal {
  /** The terminal to hand to a session: the first `onData` listener gets the kept output first. */
  readonly terminal: Terminal;
  readonly exited: boolean;
  /** Called once if the program exits while nobody has claimed the terminal. */
  onUnclaimedExit(listener: () => void): void;
  /**
   * Resolves true once the program has drawn something (after `outputAfter`, when given) and then gone
   * quiet for `quietMs`: its prompt is up, or it took in what was typed. False on exit or after `timeoutMs`.
   */
  whenQuiet(quietMs: number, timeoutMs: number, outputAfter?: number): Promise<boolean>;
  /** Whether it has drawn output and been quiet for `quietMs` now. */
  isQuiet(quietMs: number): boolean;
}

export interface HoldOptions {
  maxKeptBytes: number;
  /**
   * Text the program draws once it waits for input (Claude Code's input prompt). Until it was seen the
   * program does not count as quiet: an early escape sequence followed by a long start is not a prompt.
   */
  readyMarker?: string | null;
  now?: () => number;
}

export function holdTerminal(real: Terminal, opts: HoldOptions): HeldTerminal {
  const { maxKeptBytes } = opts;
  const now = opts.now ?? Date.now;
  const marker = opts.readyMarker ? Buffer.from(opts.readyMarker) : null;
  let markerSeen = marker === null;
  let markerCarry = Buffer.alloc(0);
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let lastOutputAt = 0;
  let exit: TerminalExit | null = null;
  let claimed = false;
  const dataListeners: Array<(chunk: Buffer) => void> = [];
  const exitListeners: Array<(exit: TerminalExit) => void> = [];
  const unclaimedExitListeners: Array<() => void> = [];

  real.onData((chunk) => {
    lastOutputAt = now();
    if (!markerSeen && marker) {
      // The marker may be split across chunks: look at the tail of the previous chunk too.
      const window = Buffer.concat([markerCarry, chunk]);
      markerSeen = window.includes(marker);
      markerCarry = window.subarray(Math.max(0, window.length - marker.length + 1));
    }
    if (dataListeners.length > 0) {
      for (const listener of dataListeners) listener(chunk);
      return;
    }
    kept.push(chunk);
    keptBytes += chunk.length;
    while (keptBytes > maxKeptBytes && kept.length > 1) keptBytes -= kept.shift()!.length;
  });
  real.onExit((e) => {
    exit = e;
    for (const listener of exitListeners) listener(e);
    if (!claimed) for (const listener of unclaimedExitListeners.splice(0)) listener();
  });

  const terminal: Terminal = {
    onData(listener) {
      claimed = true;
      if (dataListeners.length === 0 && kept.length > 0) {
        const replay = Buffer.concat(kept);
        kept = [];
        keptBytes = 0;
        listener(replay);
      }
      dataListeners.push(listener);
    },
    onExit(listener) {
      claimed = true;
      exitListeners.push(listener);
      if (exit) queueMicrotask(() => listener(exit!));
    },
    write: (data) => real.write(data),
    onDrain: (listener) => real.onDrain(listener),
    resize: (cols, rows) => real.resize(cols, rows),
    pause: () => real.pause(),
    resume: () => real.resume(),
    detach: () => real.detach(),
  };

  const isQuiet = (quietMs: number) => markerSeen && lastOutputAt > 0 && now() - lastOutputAt >= quietMs;
  return {
    terminal,
    get exited() {
      return exit !== null;
    },
    onUnclaimedExit(listener) {
      if (exit && !claimed) queueMicrotask(listener);
      else unclaimedExitListeners.push(listener);
    },
    isQuiet,
    whenQuiet(quietMs, timeoutMs, outputAfter = 0) {
      const deadline = now() + timeoutMs;
      return new Promise((resolveQuiet) => {
        const check = () => {
          if (exit) return resolveQuiet(false);
          if (lastOutputAt > outputAfter && isQuiet(quietMs)) return resolveQuiet(true);
          if (now() >= deadline) return resolveQuiet(false);
          setTimeout(check, Math.max(10, Math.min(quietMs, 50))).unref();
        };
        check();
      });
    },
  };
}
