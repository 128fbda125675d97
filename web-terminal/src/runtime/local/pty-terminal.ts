// Adapts a node-pty process to the runtime's Terminal interface, with backpressure both ways.
import type { IPty } from '@lydell/node-pty';
import type { Terminal, TerminalExit } from '../types.ts';
import { isNonBlocking, ptyInput } from './pty-input.ts';
import type { PtyInput } from './pty-input.ts';

/** node-pty's internals used here: the master's fd and the tty handle that reads it. */
interface PtyInternals {
  fd?: number;
  _socket?: TtySocket;
}

interface TtySocket {
  destroyed: boolean;
  write(data: Buffer): boolean;
  on(event: 'drain', listener: () => void): void;
  removeListener(event: 'drain', listener: () => void): void;
}

/** Input written straight to the master's fd when it is non-blocking (see pty-input.ts); null otherwise. */
function inputOf(pty: IPty): PtyInput | null {
  const { fd, _socket: socket } = pty as unknown as PtyInternals;
  if (typeof fd !== 'number' || !socket || isNonBlocking(fd) !== true) return null;
  return ptyInput(fd, { isOpen: () => !socket.destroyed });
}

export function ptyTerminal(pty: IPty, opts: { banner?: string } = {}): Terminal {
  const input = inputOf(pty);
  // Without a non-blocking fd (not seen on Linux): node-pty's own socket, whose return value is the backpressure.
  const socket = input ? null : (pty as unknown as PtyInternals)._socket ?? null;
  const drainListeners: Array<() => void> = [];
  const disposables: Array<{ dispose(): void }> = [];
  let detached = false;
  let banner = opts.banner ? Buffer.from(opts.banner) : null;

  return {
    onData(listener) {
      if (banner) {
        const first = banner;
        banner = null;
        queueMicrotask(() => listener(first));
      }
      // Spawned with encoding null, node-pty hands over Buffers: pass them on without a copy.
      disposables.push(pty.onData((data: string | Buffer) => listener(typeof data === 'string' ? Buffer.from(data) : data)));
    },
    onExit(listener) {
      disposables.push(pty.onExit(({ exitCode, signal }) => {
        const exit: TerminalExit = signal ? { code: null } : { code: exitCode };
        listener(exit);
      }));
    },
    write(data) {
      if (detached) return true;
      if (input) return input.write(data);
      if (socket) return socket.write(data);
      pty.write(data as unknown as string);
      return true;
    },
    onDrain(listener) {
      input?.onDrain(listener);
      if (!socket) return;
      drainListeners.push(listener);
      socket.on('drain', listener);
    },
    resize(cols, rows) {
      if (!detached) pty.resize(cols, rows);
    },
    pause() {
      pty.pause();
    },
    resume() {
      pty.resume();
    },
    detach() {
      detached = true;
      for (const d of disposables.splice(0)) d.dispose();
      input?.close();
      for (const l of drainListeners.splice(0)) socket?.removeListener('drain', l);
      pty.resume();
    },
  };
}
