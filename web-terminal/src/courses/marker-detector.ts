// Finds the stage markers Claude Code prints, `[STAGE_COMPLETE:N]` and `[COURSE_COMPLETE]`, in raw terminal
// output, and refuses the ones the user typed. See docs/stage-markers.md for what this does and does not promise.
//
// Output side: a terminal parser (TerminalTextScanner) drops escape sequences and C0 controls wherever they
// are, even inside a marker, and a small matcher keeps at most one partial marker across chunks.
// Input side: `noteInput` replays what the user types through a model of the input line (insert, backspace,
// delete, arrows, home/end, kill, paste). Any marker that ever shows up in that line, or in the raw order of
// typed characters, is "tainted" for the lifetime of the detector: the same marker in the output is then
// treated as echo and suppressed. The bridge must call `noteInput` before it writes the input to the terminal.
import { ByteKind, TerminalTextScanner } from './terminal-text.ts';

export type Marker = { kind: 'stage'; stage: number } | { kind: 'course' };

export const STAGE_MARKER_PREFIX = '[STAGE_COMPLETE:';
export const COURSE_MARKER = '[COURSE_COMPLETE]';
export const MAX_STAGE_DIGITS = 4;
/** Longest marker text: "[STAGE_COMPLETE:9999]". */
export const MAX_MARKER_LENGTH = STAGE_MARKER_PREFIX.length + MAX_STAGE_DIGITS + 1;
/** Characters of the modelled input line kept; older ones are dropped from the front. */
export const INPUT_LINE_LIMIT = 4096;

const markerPattern = /\[STAGE_COMPLETE:([1-9][0-9]{0,3})\]|\[COURSE_COMPLETE\]/g;

export const markerText = (marker: Marker): string =>
  marker.kind === 'course' ? COURSE_MARKER : `${STAGE_MARKER_PREFIX}${marker.stage}]`;

/** Streaming matcher over visible ASCII characters. Holds at most MAX_MARKER_LENGTH characters. */
export class MarkerMatcher {
  private partial = '';

  /** Feeds one visible character; returns a marker when this character completes one. */
  feed(char: string): Marker | null {
    const candidate = this.partial + char;
    if (candidate === COURSE_MARKER) {
      this.partial = '';
      return { kind: 'course' };
    }
    if (COURSE_MARKER.startsWith(candidate) || STAGE_MARKER_PREFIX.startsWith(candidate)) {
      this.partial = candidate;
      return null;
    }
    if (candidate.startsWith(STAGE_MARKER_PREFIX)) {
      const digits = candidate.slice(STAGE_MARKER_PREFIX.length);
      if (/^[1-9][0-9]{0,3}\]$/.test(digits)) {
        this.partial = '';
        return { kind: 'stage', stage: Number(digits.slice(0, -1)) };
      }
      if (/^[1-9][0-9]{0,3}$/.test(digits)) {
        this.partial = candidate;
        return null;
      }
    }
    // Mismatch: the markers share no proper prefix/suffix overlap except "[", so restarting there is enough.
    this.partial = char === '[' ? '[' : '';
    return null;
  }

  /** Visible text that cannot be part of a marker (e.g. non-ASCII) ends any partial match. */
  reset(): void {
    this.partial = '';
  }
}

/** A model of the line the user is editing, good enough to know what the terminal echoes back. */
class InputLine {
  private text = '';
  private cursor = 0;

  insert(chars: string): void {
    this.text = this.text.slice(0, this.cursor) + chars + this.text.slice(this.cursor);
    this.cursor += chars.length;
    if (this.text.length > INPUT_LINE_LIMIT) {
      const drop = this.text.length - INPUT_LINE_LIMIT;
      this.text = this.text.slice(drop);
      this.cursor = Math.max(0, this.cursor - drop);
    }
  }
  backspace(): void {
    if (this.cursor === 0) return;
    this.text = this.text.slice(0, this.cursor - 1) + this.text.slice(this.cursor);
    this.cursor -= 1;
  }
  deleteForward(): void {
    this.text = this.text.slice(0, this.cursor) + this.text.slice(this.cursor + 1);
  }
  deleteWordBack(): void {
    const before = this.text.slice(0, this.cursor).replace(/\S+\s*$/u, '');
    this.text = before + this.text.slice(this.cursor);
    this.cursor = before.length;
  }
  killToStart(): void {
    this.text = this.text.slice(this.cursor);
    this.cursor = 0;
  }
  killToEnd(): void {
    this.text = this.text.slice(0, this.cursor);
  }
  move(delta: number): void {
    this.cursor = Math.min(this.text.length, Math.max(0, this.cursor + delta));
  }
  home(): void {
    this.cursor = 0;
  }
  end(): void {
    this.cursor = this.text.length;
  }
  clear(): void {
    this.text = '';
    this.cursor = 0;
  }
  /** Markers in the part of the line a change at the cursor can have created. */
  markersNearCursor(): string[] {
    const window = this.text.slice(Math.max(0, this.cursor - MAX_MARKER_LENGTH - 1), this.cursor + MAX_MARKER_LENGTH + 1);
    return [...window.matchAll(markerPattern)].map((m) => m[0]);
  }
}

const enum_ = <T extends Record<string, number>>(o: T): Readonly<T> => Object.freeze(o);
const InputState = enum_({ Ground: 0, Escape: 1, Csi: 2, Ss3: 3, Utf8: 4 });
type InputState = (typeof InputState)[keyof typeof InputState];

/** Parses typed bytes (keys and pastes) into edits of an InputLine and reports markers that appear. */
class InputTracker {
  private readonly line = new InputLine();
  private readonly typedOrder = new MarkerMatcher();
  private state: InputState = InputState.Ground;
  private csiParams = '';
  private utf8Remaining = 0;
  private inPaste = false;

  constructor(private readonly onTyped: (markerText: string) => void) {}

  feed(bytes: Uint8Array): void {
    for (const byte of bytes) this.byte(byte);
  }

  private changed(): void {
    for (const text of this.line.markersNearCursor()) this.onTyped(text);
  }

  private byte(b: number): void {
    switch (this.state) {
      case InputState.Utf8:
        if ((b & 0xc0) === 0x80 && --this.utf8Remaining > 0) return;
        this.state = InputState.Ground;
        if ((b & 0xc0) === 0x80) return;
        return this.ground(b);
      case InputState.Escape:
        if (b === 0x5b) {
          this.state = InputState.Csi;
          this.csiParams = '';
        } else if (b === 0x4f) this.state = InputState.Ss3;
        else this.state = InputState.Ground; // Alt+key and friends: no effect on the modelled line
        return;
      case InputState.Ss3:
        this.state = InputState.Ground;
        return this.key(String.fromCharCode(b), '');
      case InputState.Csi:
        if (b >= 0x20 && b <= 0x3f) {
          if (this.csiParams.length < 16) this.csiParams += String.fromCharCode(b);
          return;
        }
        this.state = InputState.Ground;
        return this.key(String.fromCharCode(b), this.csiParams);
      case InputState.Ground:
        return this.ground(b);
    }
  }

  private ground(b: number): void {
    if (b >= 0x20 && b <= 0x7e) {
      const char = String.fromCharCode(b);
      this.line.insert(char);
      const typed = this.typedOrder.feed(char);
      if (typed) this.onTyped(markerText(typed));
      return this.changed();
    }
    if (b >= 0x80) {
      // A multi-byte character: one visible cell in the line, never part of a marker.
      this.utf8Remaining = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
      this.state = InputState.Utf8;
      this.typedOrder.reset();
      this.line.insert('\u00b7');
      return this.changed();
    }
    switch (b) {
      case 0x1b:
        this.state = InputState.Escape;
        return;
      case 0x7f:
      case 0x08:
        this.line.backspace();
        return this.changed();
      case 0x0d:
        if (this.inPaste) {
          this.line.insert('\n');
          return;
        }
        this.line.clear(); // submitted
        return;
      case 0x0a:
        this.line.insert('\n');
        return;
      case 0x03:
        this.line.clear();
        return;
      case 0x01:
        return this.line.home();
      case 0x05:
        return this.line.end();
      case 0x02:
        return this.line.move(-1);
      case 0x06:
        return this.line.move(1);
      case 0x04:
        this.line.deleteForward();
        return this.changed();
      case 0x0b:
        this.line.killToEnd();
        return this.changed();
      case 0x15:
        this.line.killToStart();
        return this.changed();
      case 0x17:
        this.line.deleteWordBack();
        return this.changed();
      default:
        return;
    }
  }

  private key(final: string, params: string): void {
    if (final === '~') {
      if (params === '200') this.inPaste = true;
      else if (params === '201') this.inPaste = false;
      else if (params === '1' || params === '7') this.line.home();
      else if (params === '4' || params === '8') this.line.end();
      else if (params === '3') {
        this.line.deleteForward();
        this.changed();
      }
      return;
    }
    switch (final) {
      case 'D':
        return this.line.move(-1);
      case 'C':
        return this.line.move(1);
      case 'H':
        return this.line.home();
      case 'F':
        return this.line.end();
      case 'A':
      case 'B':
        // History or another line of a multi-line prompt: contents unknown, start a fresh model.
        return this.line.clear();
      default:
        return;
    }
  }
}

export interface MarkerDetectorStats {
  /** Markers returned by push(). */
  detected: number;
  /** Markers seen in the output but refused because the user typed them. */
  suppressed: number;
  /** Distinct markers the user has typed. */
  tainted: number;
}

export class MarkerDetector {
  private readonly scanner = new TerminalTextScanner();
  private readonly matcher = new MarkerMatcher();
  private readonly tainted = new Set<string>();
  private readonly input = new InputTracker((text) => this.tainted.add(text));
  private detected = 0;
  private suppressed = 0;

  /** Scans a chunk of terminal output; returns the markers completed in it, in order. */
  push(chunk: Uint8Array | string): Marker[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const found: Marker[] = [];
    for (const byte of bytes) {
      const kind = this.scanner.next(byte);
      if (kind === ByteKind.Invisible) continue;
      if (kind === ByteKind.Other) {
        this.matcher.reset();
        continue;
      }
      const marker = this.matcher.feed(String.fromCharCode(byte));
      if (!marker) continue;
      if (this.tainted.has(markerText(marker))) this.suppressed += 1;
      else {
        this.detected += 1;
        found.push(marker);
      }
    }
    return found;
  }

  /** Records what the user sent to the terminal. Call it before writing the bytes to the terminal. */
  noteInput(chunk: Uint8Array | string): void {
    this.input.feed(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }

  stats(): MarkerDetectorStats {
    return { detected: this.detected, suppressed: this.suppressed, tainted: this.tainted.size };
  }
}
