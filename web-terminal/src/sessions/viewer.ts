// What a session needs from whoever watches it (the WebSocket bridge implements this).
import type { ServerMessageBody } from '../ws/protocol.ts';

export interface Viewer {
  /**
   * Sends terminal bytes. Returns false when the viewer is backed up (more than its high-water mark is
   * waiting to be written): the sender should pause until `onDrain` fires.
   */
  sendData(chunk: Buffer): boolean;
  /** Calls `listener` once, when what is waiting has been written out. */
  onceDrained(listener: () => void): void;
  sendControl(message: ServerMessageBody): void;
  close(code: number, reason: string): void;
  /** The program takes input again after `Session.input` returned false. */
  resumeInput(): void;
}
