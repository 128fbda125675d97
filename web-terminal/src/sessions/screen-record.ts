// What a session keeps of its output so that a viewer who (re)attaches gets its screen back. Two kinds:
// the terminal's exact screen (a headless terminal, the default) or the last bytes of raw output.
import { Scrollback } from './scrollback.ts';
import { HeadlessScreen } from './headless-screen.ts';

export interface ScreenRecord {
  /** Output of the program, in order. Must not block: the caller is the output hot path. */
  append(chunk: Buffer): void;
  /** The program's terminal now has this size (applied in order with the output around it). */
  resize(cols: number, rows: number): void;
  /** Bytes that, written to a terminal of the session's size, reproduce what the program showed. */
  snapshot(): Buffer;
  /** Bytes of output skipped because they came faster than they could be kept (0 for exact records). */
  readonly skippedBytes: number;
  dispose(): void;
}

export interface ScreenSettings {
  /** true: keep the exact screen (headless terminal); false: keep the last `rawBytes` of output. */
  restore: boolean;
  /** Lines of scrollback kept above the screen and sent with it (restore mode). */
  scrollbackLines: number;
  /** Raw output kept and replayed (raw mode). */
  rawBytes: number;
}

/** The last bytes of raw output: cheap, but a replay may start inside an escape sequence or a redraw. */
export class RawReplay implements ScreenRecord {
  private scrollback: Scrollback;
  readonly skippedBytes = 0;
  constructor(capacity: number) {
    this.scrollback = new Scrollback(capacity);
  }
  append(chunk: Buffer): void {
    this.scrollback.append(chunk);
  }
  resize(): void {}
  snapshot(): Buffer {
    return this.scrollback.snapshot();
  }
  dispose(): void {
    this.scrollback = new Scrollback(0);
  }
}

export function createScreenRecord(settings: ScreenSettings, size: { cols: number; rows: number }): ScreenRecord {
  return settings.restore ? new HeadlessScreen({ ...size, scrollbackLines: settings.scrollbackLines }) : new RawReplay(settings.rawBytes);
}
