// Input to a pty master that never blocks the service. node-pty writes through a tty handle that libuv
// treats as "blocking writes" (a pty master cannot be reopened non-blocking), yet node-pty set the fd
// itself non-blocking: once the pty's input queue is full (a raw-mode program that stopped reading, e.g.
// `cat` while its own output waits) libuv retries EAGAIN in a tight loop inside one write call. That
// froze the whole service, every session with it, and since the loop also stopped output being read, the
// program never read again: a large paste into `cat` hung the service for good.
// Here: non-blocking writes straight to the fd, what does not fit is queued and retried on a short timer
// that backs off while the program does not read; the caller gets backpressure and a drain like a socket.
import { readFileSync, writeSync } from 'node:fs';

export interface PtyInput {
  /** Writes or queues `data`; false when some of it waits (stop sending until `onDrain`). */
  write(data: Buffer): boolean;
  onDrain(listener: () => void): void;
  /** Bytes waiting for the program to read. */
  readonly queuedBytes: number;
  /** Drops what waits and stops retrying (the terminal is detached or gone). */
  close(): void;
}

export interface PtyInputOptions {
  /** False once the fd is closed (its number may then belong to another file: never write to it). */
  isOpen(): boolean;
  /** First retry after a full pty, doubled while it stays full, up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** The write itself (tests); default fs.writeSync. */
  writeFd?: (fd: number, data: Buffer) => number;
}

const O_NONBLOCK = 0o4000;

/** Whether `fd` of this process is non-blocking, from /proc (null when that cannot be read). */
export function isNonBlocking(fd: number): boolean | null {
  try {
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags === undefined ? null : (parseInt(flags, 8) & O_NONBLOCK) !== 0;
  } catch {
    return null;
  }
}

export function ptyInput(fd: number, opts: PtyInputOptions): PtyInput {
  const minRetryMs = opts.minRetryMs ?? 1;
  const maxRetryMs = opts.maxRetryMs ?? 32;
  const writeFd = opts.writeFd ?? writeSync;
  const queue: Buffer[] = [];
  const drainListeners: Array<() => void> = [];
  let queuedBytes = 0;
  let retryMs = minRetryMs;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  /** A write returned false: tell the listeners once everything is written. */
  let needDrain = false;

  const drop = () => {
    queue.length = 0;
    queuedBytes = 0;
    if (timer) clearTimeout(timer);
    timer = null;
  };

  /** Writes from the head of the queue until it is empty or the pty is full. */
  const flush = (): void => {
    timer = null;
    while (queue.length > 0) {
      if (closed || !opts.isOpen()) return void drop();
      const head = queue[0]!;
      let written: number;
      try {
        written = writeFd(fd, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          // EIO: the program is gone; anything else: input cannot reach it. Nothing waits any more.
          drop();
          break;
        }
        written = 0;
      }
      if (written <= 0) {
        // Full: try again later, later still while it stays full (never in a loop).
        timer = setTimeout(flush, retryMs);
        retryMs = Math.min(maxRetryMs, retryMs * 2);
        return;
      }
      retryMs = minRetryMs;
      queuedBytes -= written;
      if (written >= head.length) queue.shift();
      else queue[0] = head.subarray(written);
    }
    if (closed || !needDrain) return;
    needDrain = false;
    for (const listener of drainListeners) listener();
  };

  return {
    write(data) {
      if (closed || data.length === 0) return true;
      queue.push(data);
      queuedBytes += data.length;
      if (timer === null && queue.length === 1) flush();
      if (queue.length === 0) return true;
      needDrain = true;
      return false;
    },
    onDrain(listener) {
      drainListeners.push(listener);
    },
    get queuedBytes() {
      return queuedBytes;
    },
    close() {
      closed = true;
      drop();
      drainListeners.length = 0;
    },
  };
}
