// Adapts a node-pty process to the runtime's Terminal interface, with backpressure both ways.
import type { IPty } from '@lydell/node-pty';
import type { Terminal, TerminalExit } from '../types.ts';

interface WritableSocket {
  write(data: Buffer): boolean;
  on(event: 'drain', listener: () => void): void;
  removeListener(event: 'drain', listener: () => void): void;
}

export function ptyTerminal(pty: IPty, opts: { banner?: string } = {}): Terminal {
  // node-pty writes through a net.Socket on the pty master; its return value is the input backpressure.
  const socket = (pty as unknown as { _socket?: WritableSocket })._socket;
  const disposables: Array<{ dispose(): void }> = [];
  const drainListeners: Array<() => void> = [];
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
      if (!socket) {
        pty.write(data as unknown as string);
        return true;
      }
      return socket.write(data);
    },
    onDrain(listener) {
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
      for (const l of drainListeners.splice(0)) socket?.removeListener('drain', l);
      pty.resume();
    },
  };
}
