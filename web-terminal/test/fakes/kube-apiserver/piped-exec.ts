// An exec without a tty (tty=false), as a container runtime runs it: the process gets pipes, stdout on
// channel 1 and stderr on channel 2, and its status follows only after both pipes reached their end,
// so nothing it wrote is lost however busy the machine is. Same framing as exec.ts.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { ExecSession } from './exec.ts';
import { containerEnv } from './processes.ts';
import { execStatus } from './status.ts';

const SEND_HIGH_WATER = 1024 * 1024;
const SEND_LOW_WATER = 128 * 1024;

export function runPipedExec(s: ExecSession): void {
  const { ws, record } = s;
  const v5 = record.protocol === 'v5.channel.k8s.io';
  const send = (channel: number, payload: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true });
  };
  send(1, Buffer.alloc(0));

  const [file, ...args] = record.argv;
  const child = spawn(file ?? '/bin/false', args, {
    cwd: join(s.podDir, 'home'),
    env: containerEnv(s),
    stdio: [record.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const { stdout, stderr } = child as { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
  let ended = false;
  const end = (status: string) => {
    if (ended) return;
    ended = true;
    record.ended = true;
    unregister();
    clearInterval(drainTimer);
    send(3, Buffer.from(status));
    ws.close(1000);
  };
  const unregister = s.registerKill((code) => {
    child.kill('SIGKILL');
    end(execStatus(code));
  });

  // Backpressure: stop reading the pipes while the client does not read the socket.
  let paused = false;
  const drainTimer = setInterval(() => {
    if (paused && ws.bufferedAmount < SEND_LOW_WATER) {
      paused = false;
      stdout.resume();
      stderr.resume();
    }
  }, 10);
  const forward = (channel: number) => (chunk: Buffer) => {
    record.bytesOut += chunk.length;
    send(channel, chunk);
    if (!paused && ws.bufferedAmount > SEND_HIGH_WATER) {
      paused = true;
      stdout.pause();
      stderr.pause();
    }
  };
  stdout.on('data', forward(1));
  stderr.on('data', forward(2));
  child.stdin?.on('error', () => undefined);
  child.on('error', (err) => {
    end(JSON.stringify({ metadata: {}, status: 'Failure', message: `Internal error occurred: ${err.message}`, reason: 'InternalError', details: { causes: [{ message: err.message }] }, code: 500 }));
  });
  // 'close': the process exited and both pipes are drained.
  child.on('close', (code, signal) => end(execStatus(signal ? 128 + constants.signals[signal] : code ?? 0)));

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === 255 && v5) {
      if (data.length !== 2) { ws.terminate(); return; }
      if (payload[0] === 0) child.stdin?.end(); // stdin half-closed: EOF
      return;
    }
    if (channel === 0 && payload.length > 0) child.stdin?.write(payload);
  });
  ws.on('close', () => {
    if (ended) return;
    ended = true;
    record.ended = true;
    unregister();
    clearInterval(drainTimer);
    child.kill('SIGHUP');
  });
}

