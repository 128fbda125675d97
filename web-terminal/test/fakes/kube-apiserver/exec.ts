// The exec subresource over WebSocket, as a kube-apiserver >= 1.30 (v5) or the legacy kubelet path (v4)
// speaks it: binary frames [channel]+payload, one initial empty frame, resize JSON on channel 4,
// [255, ch] half-close (v5), output then one metav1.Status on channel 3, then Close(1000).
// The "container process" is a real local process in a pty, run in the pod's own temp folder.
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import * as pty from '@lydell/node-pty';
import type WebSocket from 'ws';
import { runPipedExec } from './piped-exec.ts';
import { containerEnv } from './processes.ts';
import { execStatus } from './status.ts';

export interface ExecRecord {
  pod: string;
  argv: string[];
  container: string | null;
  protocol: string;
  authorization: string | undefined;
  stdin: boolean;
  tty: boolean;
  /** Times the pty was paused because the client was not reading. */
  ptyPauses: number;
  bytesOut: number;
  resizes: { cols: number; rows: number }[];
  ended: boolean;
}

const SEND_HIGH_WATER = 1024 * 1024;
const SEND_LOW_WATER = 128 * 1024;

/** Decodes a stream of concatenated JSON objects, keys matched case-insensitively (Go's decoder). */
export class ResizeDecoder {
  private buffer = '';
  private broken = false;
  constructor(private readonly onSize: (cols: number, rows: number) => void) {}

  push(text: string): void {
    if (this.broken) return;
    this.buffer += text;
    for (;;) {
      this.buffer = this.buffer.replace(/^\s+/, '');
      if (this.buffer === '') return;
      const end = this.buffer.indexOf('}');
      if (end < 0) return;
      const candidate = this.buffer.slice(0, end + 1);
      this.buffer = this.buffer.slice(end + 1);
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(candidate) as Record<string, unknown>;
      } catch {
        this.broken = true; // like Go's decode loop: resize silently stops working
        return;
      }
      const lower = Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
      const cols = Number(lower.width);
      const rows = Number(lower.height);
      if (Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) this.onSize(cols, rows);
    }
  }
}

export interface ExecSession {
  ws: WebSocket;
  req: IncomingMessage;
  pod: string;
  env: Record<string, string>;
  podDir: string;
  imagePath: string[];
  record: ExecRecord;
  registerKill: (kill: (exitCode: number) => void) => () => void;
}

export function runExec(s: ExecSession): void {
  // Without a tty a container runtime hands the process pipes: every byte it wrote arrives before the status.
  if (!s.record.tty) return runPipedExec(s);
  const { ws, record } = s;
  const v5 = record.protocol === 'v5.channel.k8s.io';
  const send = (channel: number, payload: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true });
  };
  // One empty frame on the lowest writable channel (stdout here).
  send(1, Buffer.alloc(0));

  const [file, ...args] = record.argv;
  let proc: pty.IPty;
  try {
    proc = pty.spawn(file ?? '/bin/false', args, {
      name: 'xterm-256color',
      cols: 80,
      rows: 24,
      cwd: join(s.podDir, 'home'),
      env: containerEnv(s),
      encoding: null,
    } as pty.IPtyForkOptions);
  } catch (err) {
    send(3, Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: `Internal error occurred: ${(err as Error).message}`, reason: 'InternalError', details: { causes: [{ message: (err as Error).message }] }, code: 500 })));
    ws.close(1000);
    return;
  }

  let ended = false;
  const end = (exitCode: number) => {
    if (ended) return;
    ended = true;
    record.ended = true;
    unregister();
    clearInterval(drainTimer);
    send(3, Buffer.from(execStatus(exitCode)));
    ws.close(1000);
  };
  const unregister = s.registerKill((code) => {
    try { proc.kill('SIGKILL'); } catch { /* already gone */ }
    end(code);
  });

  // Backpressure: stop reading the pty while the client does not read the socket.
  let ptyPaused = false;
  const drainTimer = setInterval(() => {
    if (ptyPaused && ws.bufferedAmount < SEND_LOW_WATER) {
      ptyPaused = false;
      proc.resume();
    }
  }, 10);
  proc.onData((data: string | Buffer) => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    record.bytesOut += chunk.length;
    send(1, chunk);
    if (!ptyPaused && ws.bufferedAmount > SEND_HIGH_WATER) {
      ptyPaused = true;
      record.ptyPauses += 1;
      proc.pause();
    }
  });
  proc.onExit(({ exitCode, signal }) => {
    // Let the last output reach the socket before the status.
    setTimeout(() => end(signal ? 128 + signal : exitCode), 20);
  });

  const resize = new ResizeDecoder((cols, rows) => {
    record.resizes.push({ cols, rows });
    try { proc.resize(cols, rows); } catch { /* exited */ }
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return; // text frames are not part of the protocol
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === 255 && v5) {
      if (data.length !== 2) { ws.terminate(); return; }
      if (payload[0] === 0) proc.write('\x04'); // stdin half-closed: EOF for the tty
      return;
    }
    if (payload.length === 0) return;
    if (channel === 0 && record.stdin) proc.write(payload as unknown as string); // node-pty writes Buffers as-is
    else if (channel === 4) resize.push(payload.toString('utf8'));
  });
  ws.on('close', () => {
    // The connection is gone: the exec'd process loses its terminal (SIGHUP), as with a real runtime.
    if (!ended) {
      ended = true;
      record.ended = true;
      unregister();
      clearInterval(drainTimer);
      try { proc.kill('SIGHUP'); } catch { /* already gone */ }
    }
  });
}
