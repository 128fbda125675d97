// A session terminal over the pod's exec WebSocket (client-node's Exec, tty, v5 with v4 fallback).
// client-node has no close handler, no heartbeat and no stdin backpressure: this module adds all three,
// plus output backpressure (pause() stops reading the socket, so the kubelet stops reading the pty).
import { Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import type { Terminal, TerminalExit } from '../types.ts';

export interface ExecTerminalOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  podName: string;
  container: string;
  argv: string[];
  cols: number;
  rows: number;
  /** Ping period; the socket is dropped when a pong is missing at the next ping. */
  heartbeatMs?: number;
  /** Input queued beyond this makes write() return false. */
  stdinHighWaterBytes?: number;
}

const STDIN_LOW_WATER_DIVISOR = 4;
const DRAIN_POLL_MS = 10;

/** Exit code carried by the status channel: Success → 0, NonZeroExitCode → its ExitCode cause. */
export function exitCodeFromStatus(status: V1Status | null): number | null {
  if (!status) return null;
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return null;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode' || (c as { type?: string }).type === 'ExitCode');
  const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : null;
}

/** The stdout given to client-node: resizable (columns/rows + 'resize'), hands every chunk to `deliver`. */
class TerminalOutput extends Writable {
  columns: number;
  rows: number;
  constructor(cols: number, rows: number, private readonly deliver: (chunk: Buffer) => void) {
    super();
    this.columns = cols;
    this.rows = rows;
    this.on('error', () => undefined); // a late frame after the status must not crash the service
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.deliver(chunk);
    callback();
  }
}

export async function openExecTerminal(opts: ExecTerminalOptions): Promise<Terminal> {
  const dataListeners: ((chunk: Buffer) => void)[] = [];
  const exitListeners: ((exit: TerminalExit) => void)[] = [];
  const drainListeners: (() => void)[] = [];
  const heldOutput: Buffer[] = []; // output while paused or before anyone listens
  let paused = false;
  let exit: TerminalExit | null = null;
  let exitDelivered = false;
  let detached = false;
  let status: V1Status | null = null;

  const flush = () => {
    if (paused || dataListeners.length === 0) return;
    while (heldOutput.length > 0) {
      const chunk = heldOutput.shift() as Buffer;
      for (const l of dataListeners) l(chunk);
    }
    if (exit && !exitDelivered && exitListeners.length > 0 && !detached) {
      exitDelivered = true;
      for (const l of exitListeners) l(exit);
    }
  };
  const deliver = (chunk: Buffer) => {
    if (detached) return;
    if (paused || dataListeners.length === 0 || heldOutput.length > 0) {
      heldOutput.push(chunk);
      flush();
      return;
    }
    for (const l of dataListeners) l(chunk);
  };
  const finish = (result: TerminalExit) => {
    if (exit) return;
    exit = result;
    flush();
  };

  const output = new TerminalOutput(opts.cols, opts.rows, deliver);
  const input = new Readable({ read() {} });
  const exec = new Exec(opts.kubeConfig);
  const ws = (await exec.exec(opts.namespace, opts.podName, opts.container, opts.argv, output, null, input, true, (s) => {
    status = s;
  })) as unknown as WebSocket;

  // Heartbeat: client-node never pings, so a dead TCP path would otherwise go unnoticed.
  let pongPending = false;
  const heartbeat = setInterval(() => {
    if (paused) {
      pongPending = false; // a paused socket reads no pongs either
      return;
    }
    if (pongPending) {
      ws.terminate();
      return;
    }
    pongPending = true;
    ws.ping();
  }, opts.heartbeatMs ?? 20_000);
  heartbeat.unref();
  ws.on('pong', () => { pongPending = false; });
  ws.on('close', () => {
    clearInterval(heartbeat);
    if (drainTimer) clearInterval(drainTimer);
    input.destroy();
    if (detached) return;
    if (status) finish({ code: exitCodeFromStatus(status) });
    else finish({ code: null, reason: 'connection_lost' });
  });
  ws.on('error', () => undefined); // 'close' follows and reports the end

  const highWater = opts.stdinHighWaterBytes ?? 256 * 1024;
  const pendingInput = () => input.readableLength + ws.bufferedAmount;
  let drainTimer: NodeJS.Timeout | null = null;
  const watchDrain = () => {
    if (drainTimer) return;
    drainTimer = setInterval(() => {
      if (pendingInput() > highWater / STDIN_LOW_WATER_DIVISOR && ws.readyState === ws.OPEN) return;
      clearInterval(drainTimer as NodeJS.Timeout);
      drainTimer = null;
      for (const l of drainListeners) l();
    }, DRAIN_POLL_MS);
    drainTimer.unref();
  };

  return {
    onData(listener) {
      dataListeners.push(listener);
      flush();
    },
    onExit(listener) {
      exitListeners.push(listener);
      if (exitDelivered && exit) listener(exit); // registered after the end: still told
      else flush();
    },
    write(data) {
      if (exit || detached || ws.readyState !== ws.OPEN) return true;
      input.push(data);
      if (pendingInput() <= highWater) return true;
      watchDrain();
      return false;
    },
    onDrain(listener) {
      drainListeners.push(listener);
    },
    resize(cols, rows) {
      if (cols === output.columns && rows === output.rows) return;
      output.columns = cols;
      output.rows = rows;
      output.emit('resize');
    },
    pause() {
      if (paused) return;
      paused = true;
      ws.pause(); // stops reading the socket: TCP backpressure reaches the apiserver and the kubelet
    },
    resume() {
      if (!paused) return;
      paused = false;
      ws.resume();
      flush();
    },
    detach() {
      if (detached) return;
      detached = true;
      heldOutput.length = 0;
      ws.close(1000);
      // A peer that never answers the close handshake must not keep the socket.
      setTimeout(() => ws.terminate(), 5000).unref();
    },
  };
}
