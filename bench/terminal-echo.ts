// Keystroke echo: the service against the raw baseline, then the service's echo with no watcher, an
// instructor watching, and a watcher whose socket stopped reading (each after the same 8 MB paste, so
// the stalled watcher is backed up far beyond every buffer). A stalled watcher must not change the
// learner's echo (issue 15). Part of bench/terminal.ts.
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { baselineOpener, deleteSession, percentile, round, serviceOpener, sleep, startService, within, withServer } from './terminal-servers.ts';
import type { Opener, Server } from './terminal-servers.ts';

const ECHO_ROUNDS = 500;
const PASTE_BYTES = 8 * 1024 * 1024;
const ECHO_COMMAND = 'stty raw -echo; echo READY; exec cat';

interface EchoSocket {
  ws: WebSocket;
  sessionId?: string;
  /** Resolves once the output since the last `reset` contains `text` (bounded). */
  waitFor(text: string, ms?: number): Promise<void>;
  reset(): void;
}

/** A terminal socket that keeps only the tail of what it got: an echoed paste of megabytes stays cheap. */
async function echoSocket(open: Opener): Promise<EchoSocket> {
  const { ws, sessionId } = await open(ECHO_COMMAND);
  let tail = '';
  let waiting: (() => void) | null = null;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return;
    tail = (tail + (data as Buffer).toString('latin1')).slice(-64);
    waiting?.();
  });
  const waitFor = (text: string, ms = 30_000) => within(ms, `echo of ${JSON.stringify(text)}`, new Promise<void>((resolve) => {
    const check = () => {
      if (!tail.includes(text)) return;
      waiting = null;
      resolve();
    };
    waiting = check;
    check();
  }));
  return { ws, sessionId, waitFor, reset: () => { tail = ''; } };
}

async function echoRounds(socket: EchoSocket, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    socket.reset();
    const key = String.fromCharCode(97 + (i % 26));
    const t0 = performance.now();
    socket.ws.send(Buffer.from(key), { binary: true });
    await socket.waitFor(key, 10_000);
    samples.push(performance.now() - t0);
  }
  return samples;
}

const summary = (samples: number[]) => ({ p50Ms: round(percentile(samples, 50)), p99Ms: round(percentile(samples, 99)) });

async function measureEcho(open: Opener): Promise<{ p50Ms: number; p99Ms: number }> {
  const socket = await echoSocket(open);
  try {
    await socket.waitFor('READY');
    await sleep(200);
    return summary(await echoRounds(socket, ECHO_ROUNDS));
  } finally {
    socket.ws.terminate();
  }
}

type WatcherKind = 'none' | 'active' | 'stalled';

/** Echo after an 8 MB paste, with a watcher of the given kind; for a stalled one, what it got once it read again. */
async function measureWatchedEcho(service: Server, kind: WatcherKind) {
  const socket = await echoSocket(serviceOpener(service.url));
  let watcher: WebSocket | null = null;
  try {
    await socket.waitFor('READY');
    let watcherBytes = 0;
    let screens = 0;
    let onScreen: (() => void) | null = null;
    if (kind !== 'none') {
      const res = await fetch(`${service.url}/api/sessions/${socket.sessionId}/watch`, { method: 'POST' });
      const body = (await res.json()) as { wsUrl: string };
      if (res.status !== 200) throw new Error(`watch failed: ${JSON.stringify(body)}`);
      watcher = new WebSocket(service.url.replace(/^http/, 'ws') + body.wsUrl);
      const w = watcher;
      w.on('message', (data, isBinary) => {
        if (isBinary) watcherBytes += (data as Buffer).length;
        // Every screen the watcher is sent starts with the session's size.
        else if ((JSON.parse(data.toString()) as { type?: string }).type === 'size') {
          screens += 1;
          onScreen?.();
        }
      });
      await within(30_000, 'the watcher\'s first screen', new Promise((r, j) => { w.once('message', r); w.once('error', j); }));
      if (kind === 'stalled') (w as unknown as { _socket: Duplex })._socket.pause();
    }
    const chunk = Buffer.alloc(64 * 1024, 'w');
    for (let sent = 0; sent < PASTE_BYTES; sent += chunk.length) socket.ws.send(chunk, { binary: true });
    socket.ws.send(Buffer.from('PASTED'), { binary: true });
    await socket.waitFor('PASTED', 120_000);
    await sleep(200);
    const echo = summary(await echoRounds(socket, ECHO_ROUNDS));
    if (kind !== 'stalled' || !watcher) return echo;
    // Reading again, the watcher catches up with a fresh screen instead of the whole paste.
    const screensBefore = screens;
    const caughtUp = new Promise<void>((resolve) => { onScreen = () => { if (screens > screensBefore) resolve(); }; });
    (watcher as unknown as { _socket: Duplex })._socket.resume();
    await within(30_000, 'the stalled watcher catching up with a fresh screen', caughtUp);
    return { ...echo, watcherReceivedMb: round(watcherBytes / 1e6, 2), pastedMb: round(PASTE_BYTES / 1e6, 2) };
  } finally {
    watcher?.terminate();
    socket.ws.terminate();
    await deleteSession(service.url, socket.sessionId);
  }
}

export async function runEchoBench(baseline: Server): Promise<Record<string, unknown>> {
  return withServer(startService({ SESSION_COMMAND: ECHO_COMMAND, AUTH_INSTRUCTOR_USERS: 'local' }), async (service) => {
    const baselineEcho = await measureEcho(baselineOpener(baseline.url));
    const serviceEcho = await measureEcho(serviceOpener(service.url));
    const none = await measureWatchedEcho(service, 'none');
    const active = await measureWatchedEcho(service, 'active');
    const stalled = await measureWatchedEcho(service, 'stalled');
    const ratio = round(stalled.p50Ms / none.p50Ms, 2);
    return {
      echo: { baseline: baselineEcho, service: serviceEcho, p50Ratio: round(serviceEcho.p50Ms / baselineEcho.p50Ms, 2), target: 'p50 <= 1.2x baseline' },
      echoWithWatchers: {
        afterPasteMb: round(PASTE_BYTES / 1e6, 2), noWatcher: none, activeWatcher: active, stalledWatcher: stalled,
        stalledP50Ratio: ratio, meetsTarget: ratio <= 1.2,
        target: 'p50 with a stalled watcher <= 1.2x without a watcher (a stalled watcher is skipped, never waited for)',
      },
    };
  });
}
