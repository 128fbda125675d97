// Keystrokes that arrive before the program can take them: while the session starts (no terminal yet, which
// on Kubernetes can take seconds), and, for a program that announces when it reads keys, until it does.
// Claude Code reads its first keys only once its screen is up; what is typed before that would be lost.
// Bounded: past the bound the caller tells the viewer, and nothing more is kept (no half-delivered input).

export type HoldResult = 'held' | 'refused' | 'dropped';

export class InputHold {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private overflowed = false;
  private ready: boolean;
  /** The end of the previous output chunk, so a marker split across chunks is still seen. */
  private tail = '';

  constructor(
    private readonly maxBytes: number,
    /** Output that shows the program reads keys now (e.g. bracketed paste switched on); null: at once. */
    private readonly readyMarker: string | null,
  ) {
    this.ready = readyMarker === null;
  }

  /** Whether the program is known to take input (held input has been or may now be delivered). */
  get isReady(): boolean {
    return this.ready;
  }

  hold(chunk: Buffer): HoldResult {
    if (this.overflowed) return 'dropped';
    if (this.bytes + chunk.length > this.maxBytes) {
      this.overflowed = true;
      return 'refused';
    }
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
    return 'held';
  }

  /** Looks for the ready marker in the program's output; true when it has just appeared. */
  noticeOutput(chunk: Buffer): boolean {
    if (this.ready || this.readyMarker === null) return false;
    const text = this.tail + chunk.toString('latin1');
    if (text.includes(this.readyMarker)) return true;
    this.tail = text.slice(-(this.readyMarker.length - 1));
    return false;
  }

  /** The program takes input from now on: returns what was held, in order, and keeps nothing more. */
  release(): Buffer[] {
    this.ready = true;
    this.tail = '';
    return this.clear();
  }

  clear(): Buffer[] {
    const held = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return held;
  }
}
