// A byte-level terminal output scanner: separates printable text from escape sequences, exactly as a
// terminal would, so text can be matched no matter how sequences and chunk boundaries cut through it.
// Constant memory: nothing of a sequence is stored, only the parser state.

/** What a byte turned out to be once the sequence it belongs to is known. */
export const ByteKind = Object.freeze({
  /** Printable ASCII (0x20-0x7e) in the ground state. */
  Text: 0,
  /** Part of an escape/control sequence, or a C0 control such as CR, LF or BS: invisible to matching. */
  Invisible: 1,
  /** Non-ASCII text (UTF-8): visible, but never part of a marker. */
  Other: 2,
});
export type ByteKind = (typeof ByteKind)[keyof typeof ByteKind];

const State = {
  Ground: 0,
  Escape: 1,
  EscapeIntermediate: 2,
  Csi: 3,
  /** OSC, DCS, SOS, PM, APC: a string terminated by BEL or ST (ESC \). */
  String: 4,
  StringEscape: 5,
} as const;
type State = (typeof State)[keyof typeof State];

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;

export class TerminalTextScanner {
  private state: State = State.Ground;

  /** Classifies the next output byte, advancing the parser. */
  next(byte: number): ByteKind {
    switch (this.state) {
      case State.Ground:
        if (byte === ESC) {
          this.state = State.Escape;
          return ByteKind.Invisible;
        }
        if (byte >= 0x20 && byte <= 0x7e) return ByteKind.Text;
        if (byte < 0x20 || byte === 0x7f) return ByteKind.Invisible;
        return ByteKind.Other;
      case State.Escape:
        return this.escape(byte);
      case State.EscapeIntermediate:
        if (byte >= 0x20 && byte <= 0x2f) return ByteKind.Invisible;
        return this.endOfSequence(byte);
      case State.Csi:
        if (byte >= 0x20 && byte <= 0x3f) return ByteKind.Invisible; // parameters and intermediates
        if (byte >= 0x40 && byte <= 0x7e) {
          this.state = State.Ground;
          return ByteKind.Invisible;
        }
        return this.interrupt(byte);
      case State.String:
        if (byte === BEL) this.state = State.Ground;
        else if (byte === ESC) this.state = State.StringEscape;
        else if (byte === CAN || byte === SUB) this.state = State.Ground;
        return ByteKind.Invisible;
      case State.StringEscape:
        if (byte === 0x5c) {
          this.state = State.Ground; // ST
          return ByteKind.Invisible;
        }
        // Like xterm: an ESC inside a string ends it and starts a new sequence.
        return this.escape(byte);
    }
  }

  private escape(byte: number): ByteKind {
    if (byte === 0x5b) this.state = State.Csi; // [
    else if (byte === 0x5d || byte === 0x50 || byte === 0x58 || byte === 0x5e || byte === 0x5f) this.state = State.String; // ] P X ^ _
    else if (byte >= 0x20 && byte <= 0x2f) this.state = State.EscapeIntermediate; // e.g. ESC ( B
    else if (byte === ESC) this.state = State.Escape;
    else return this.endOfSequence(byte);
    return ByteKind.Invisible;
  }

  private endOfSequence(byte: number): ByteKind {
    if (byte >= 0x30 && byte <= 0x7e) {
      this.state = State.Ground;
      return ByteKind.Invisible;
    }
    return this.interrupt(byte);
  }

  /** A byte that does not belong in the current sequence: controls execute, CAN/SUB abort, text aborts and shows. */
  private interrupt(byte: number): ByteKind {
    if (byte === ESC) {
      this.state = State.Escape;
      return ByteKind.Invisible;
    }
    if (byte === CAN || byte === SUB) {
      this.state = State.Ground;
      return ByteKind.Invisible;
    }
    if (byte < 0x20) return ByteKind.Invisible;
    this.state = State.Ground;
    return byte <= 0x7e ? ByteKind.Text : ByteKind.Other;
  }
}
