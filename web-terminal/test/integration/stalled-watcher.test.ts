// A learner pastes megabytes into a program that echoes them (`cat` in raw mode) while an instructor's
// watcher has stopped reading. Through the real service as its own process (so a spin inside it cannot
// stop this test's own timers) with a real sandbox: the paste gets through, the service does not spin,
// the learner's echo stays quick, and the watcher catches up with a fresh screen once it reads again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { spawnService, stopServiceProcess } from '../helpers/service-process.ts';
import type { ServiceProcess } from '../helpers/service-process.ts';

const PASTE_BYTES = 6 * 1024 * 1024;
const PASTE_CHUNK_BYTES = 64 * 1024;
const ECHO_ROUNDS = 40;

/** CPU time (user + system, ms) a process has used so far. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 1/100 s
}

/** A terminal socket that keeps only the tail of its output (a paste of megabytes is echoed whole). */
async function openSocket(url: string) {
  const ws = new WebSocket(url);
  let tail = '';
  let bytes = 0;
  const controls: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      bytes += (data as Buffer).length;
      tail = (tail + (data as Buffer).toString('latin1')).slice(-256);
    } else {
      controls.push(JSON.parse(data.toString()) as Record<string, unknown>);
    }
    for (const waiter of [...waiters]) waiter();
  });
  ws.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  /** Resolves once `check` holds; rejects after `timeoutMs`. */
  const until = (check: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const attempt = () => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(attempt);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; tail: ${JSON.stringify(tail.slice(-80))}`));
      }, timeoutMs);
      waiters.add(attempt);
      attempt();
    });
  return {
    ws,
    get bytes() {
      return bytes;
    },
    controls,
    resetTail: () => {
      tail = '';
    },
    waitForText: (text: string, timeoutMs = 15_000) => until(() => tail.includes(text), JSON.stringify(text), timeoutMs),
    waitForControl: (check: (m: Record<string, unknown>) => boolean, timeoutMs = 15_000) => until(() => controls.some(check), 'a control message', timeoutMs),
  };
}

async function post(service: ServiceProcess, path: string): Promise<{ id: string; wsUrl: string }> {
  const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = (await res.json()) as { id: string; wsUrl: string };
  assert.ok(res.status === 200 || res.status === 201, `${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const toWs = (service: ServiceProcess, path: string) => service.url.replace(/^http/, 'ws') + path;

describe('a stalled watcher and a large paste', () => {
  it('the paste gets through, the service does not spin, echo stays quick, the watcher catches up', { timeout: 180_000 }, async (t) => {
    const service = await spawnService({ SESSION_COMMAND: 'stty raw -echo; echo READY; exec cat', AUTH_INSTRUCTOR_USERS: 'local' });
    t.after(() => stopServiceProcess(service));
    const pid = service.child.pid!;

    const session = await post(service, '/api/sessions');
    const owner = await openSocket(toWs(service, session.wsUrl));
    t.after(() => owner.ws.terminate());
    await owner.waitForText('READY', 30_000);

    const watcher = await openSocket(toWs(service, (await post(service, `/api/sessions/${session.id}/watch`)).wsUrl));
    t.after(() => watcher.ws.terminate());
    await watcher.waitForControl((m) => m.type === 'size');
    await watcher.waitForText('READY');
    (watcher.ws as unknown as { _socket: Duplex })._socket.pause(); // reads nothing more from here on

    // The paste: far more than the pty, the socket buffers to the stalled watcher and its high-water mark hold.
    owner.resetTail();
    const chunk = Buffer.alloc(PASTE_CHUNK_BYTES, 'w');
    for (let sent = 0; sent < PASTE_BYTES; sent += chunk.length) owner.ws.send(chunk, { binary: true });
    owner.ws.send(Buffer.from('PASTED'), { binary: true });
    await owner.waitForText('PASTED', 60_000);
    assert.ok(owner.bytes >= PASTE_BYTES, `the learner got the whole paste echoed (${owner.bytes} bytes)`);

    // The watcher is still stalled: the service, idle now, must not burn CPU on it.
    const cpuBefore = cpuMs(pid);
    const idleStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleShare = (cpuMs(pid) - cpuBefore) / (performance.now() - idleStart);
    assert.ok(idleShare < 0.25, `the service used ${(idleShare * 100).toFixed(0)}% of a core while idle with a stalled watcher`);

    // Keystroke round trips stay quick while the watcher is stalled.
    const samples: number[] = [];
    for (let i = 0; i < ECHO_ROUNDS; i += 1) {
      const key = `k${i}.`;
      owner.resetTail();
      const t0 = performance.now();
      owner.ws.send(Buffer.from(key), { binary: true });
      await owner.waitForText(key, 5000);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)]!;
    t.diagnostic(`idle CPU ${(idleShare * 100).toFixed(1)}% of a core; echo median ${median.toFixed(2)} ms, max ${samples.at(-1)!.toFixed(1)} ms`);
    assert.ok(median < 250, `echo median ${median.toFixed(1)} ms with a stalled watcher`);

    // Reading again, the watcher gets a fresh screen (a second `size`, then the screen) and live output.
    (watcher.ws as unknown as { _socket: Duplex })._socket.resume();
    await watcher.waitForControl((m) => m.type === 'size' && watcher.controls.filter((c) => c.type === 'size').length >= 2, 30_000);
    owner.ws.send(Buffer.from('AFTER-THE-STALL'), { binary: true });
    await watcher.waitForText('AFTER-THE-STALL', 30_000);
    assert.ok(watcher.bytes < PASTE_BYTES, `the stalled watcher was skipped, not sent everything (${watcher.bytes} bytes)`);
  });
});
