// What a session needs from whoever watches it (the WebSocket bridge implements this).
import type { ServerMessageBody } from '../ws/protocol.ts';

export interface Viewer {
  /** Sends terminal bytes; `done` fires once they have left the process (flushed to the socket). */
  sendData(chunk: Buffer, done: () => void): void;
  sendControl(message: ServerMessageBody): void;
  close(code: number, reason: string): void;
  /** The program takes input again after `Session.input` returned false. */
  resumeInput(): void;
}
