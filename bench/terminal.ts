// Benchmark: the web-terminal's local runtime against a raw baseline (node-pty + plain ws, no framing),
// in one run so the ratios hold on a noisy machine. The service runs with its exact screen restore
// (SCREEN_RESTORE, the default: a headless terminal parses all output) and without it, side by side, to
// show its cost: output throughput in interleaved rounds (target: >= 0.85x the baseline with it on) and
// memory per session. Servers run as child processes so their memory and CPU can be read. Loopback only,
// bounded loops and waits. Writes bench/results/terminal.json.
// Run alone: node --import tsx bench/terminal.ts   (BENCH_ONLY=echo,throughput,stall,idle for a subset;
// BENCH_THROUGHPUT_ROUNDS=n; BENCH_CPU_PROF=<dir> writes a CPU profile of each server, see terminal-servers.ts)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { childTreesPss, pssBytes } from './process-memory.ts';
import { runEchoBench } from './terminal-echo.ts';
import {
  ROOT, baselineOpener, cpuMs, deleteSession, median, percentile, round, rssBytes, serviceOpener, settledRss, sleep, startBaseline,
  startService, within, withServer,
} from './terminal-servers.ts';
import type { Opener, Server } from './terminal-servers.ts';

const THROUGHPUT_BYTES = 100 * 1024 * 1024;
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 3);
const THROUGHPUT_TARGET = 0.85;
const STALL_SECONDS = 10;
const IDLE_SESSIONS = 40;
const START_SAMPLES = 20;

const THROUGHPUT_COMMAND = `stty raw -echo; head -c ${(THROUGHPUT_BYTES / 4) * 3} /dev/urandom | base64 -w 0; printf '\\n%s\\n' DONE-MARK; exec sleep 60`;
const IDLE_COMMAND = 'echo ready; exec cat';
/** A session whose scrollback is full: 2,000 lines of 79 characters (the headless terminal keeps 1,000). */
const SCROLLBACK_COMMAND = `seq -f '%078g' 1 2000; echo ready; exec cat`;

interface Throughput { mbPerSecond: number; bytes: number; serverCpuMsPerMb?: number }

async function measureThroughput(open: Opener, pid: number): Promise<Throughput> {
  const { ws } = await open(THROUGHPUT_COMMAND);
  const cpuBefore = cpuMs(pid);
  let bytes = 0;
  let tail = '';
  let t0 = 0;
  try {
    await within(300_000, 'the throughput run', new Promise<void>((resolve) => {
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const chunk = data as Buffer;
        if (t0 === 0) t0 = performance.now();
        bytes += chunk.length;
        tail = (tail + chunk.toString('latin1')).slice(-64);
        if (tail.includes('DONE-MARK')) resolve();
      });
    }));
  } finally {
    ws.terminate();
  }
  const seconds = (performance.now() - t0) / 1000;
  const serverCpuMsPerMb = round((cpuMs(pid) - cpuBefore) / (bytes / 1e6), 2);
  return { mbPerSecond: round(bytes / seconds / 1e6, 1), bytes, serverCpuMsPerMb };
}

/** Rounds of baseline, service with the screen record, service without it, in turn: a load change hits all three. */
async function measureThroughputRounds(baseline: Server) {
  return withServer(startService({ SESSION_COMMAND: THROUGHPUT_COMMAND }), (restore) =>
    withServer(startService({ SESSION_COMMAND: THROUGHPUT_COMMAND, SCREEN_RESTORE: 'false' }), async (raw) => {
      const rounds: Array<{ baseline: Throughput; screenRestore: Throughput; withoutScreenRestore: Throughput }> = [];
      for (let i = 0; i < THROUGHPUT_ROUNDS; i += 1) {
        const baselineRun = await measureThroughput(baselineOpener(baseline.url), baseline.child.pid!);
        const screenRestore = await measureThroughput(serviceOpener(restore.url), restore.child.pid!);
        const withoutScreenRestore = await measureThroughput(serviceOpener(raw.url), raw.child.pid!);
        rounds.push({ baseline: baselineRun, screenRestore, withoutScreenRestore });
        await Promise.all([clearSessions(restore.url), clearSessions(raw.url)]);
      }
      const mb = (pick: (r: (typeof rounds)[number]) => Throughput) => median(rounds.map((r) => pick(r).mbPerSecond));
      const cpu = (pick: (r: (typeof rounds)[number]) => Throughput) => median(rounds.map((r) => pick(r).serverCpuMsPerMb ?? 0));
      // The ratio of each round (same moment, same load), then the median of those.
      const ratio = (pick: (r: (typeof rounds)[number]) => Throughput) => round(median(rounds.map((r) => pick(r).mbPerSecond / r.baseline.mbPerSecond)), 2);
      const withRestore = ratio((r) => r.screenRestore);
      return {
        mbPerSecond: { baseline: mb((r) => r.baseline), screenRestore: mb((r) => r.screenRestore), withoutScreenRestore: mb((r) => r.withoutScreenRestore) },
        serverCpuMsPerMb: { baseline: cpu((r) => r.baseline), screenRestore: cpu((r) => r.screenRestore), withoutScreenRestore: cpu((r) => r.withoutScreenRestore) },
        ratio: withRestore, ratioWithoutScreenRestore: ratio((r) => r.withoutScreenRestore), meetsTarget: withRestore >= THROUGHPUT_TARGET,
        target: `>= ${THROUGHPUT_TARGET}x baseline with SCREEN_RESTORE on (median of per-round ratios)`,
        bytesPerRun: THROUGHPUT_BYTES, rounds,
      };
    }));
}

/** Ends every session of the local user (the throughput sessions end in `sleep`). */
async function clearSessions(url: string): Promise<void> {
  const res = await fetch(`${url}/api/sessions`);
  const body = (await res.json()) as { sessions?: Array<{ id: string; state: string }> };
  await Promise.all((body.sessions ?? []).filter((s) => s.state !== 'ended' && s.state !== 'failed').map((s) => deleteSession(url, s.id)));
}

/** A client that stops reading while the program floods output: server memory must stay flat. */
async function measureStall(open: Opener, pid: number): Promise<{ rssGrowthMb: number }> {
  const { ws } = await open('exec yes');
  try {
    const socket = (ws as unknown as { _socket: { pause(): void } })._socket;
    await sleep(300);
    socket.pause();
    await sleep(1000);
    const before = rssBytes(pid);
    let peak = before;
    for (let i = 0; i < STALL_SECONDS * 4; i += 1) {
      await sleep(250);
      peak = Math.max(peak, rssBytes(pid));
    }
    return { rssGrowthMb: round((peak - before) / 1e6, 2) };
  } finally {
    ws.terminate();
  }
}

interface IdleResult {
  perSessionKb: number;
  sessions: number;
  /** PSS per session: the service's share plus the sandbox tree without the session program (`cat`). */
  sandboxPssKb: { service: number; sandboxTree: number; total: number; withProgram: number };
}

/** Memory per attached session that printed what `command` prints and then waits. */
async function measureIdleSessions(url: string, pid: number, count = IDLE_SESSIONS): Promise<IdleResult> {
  const open = serviceOpener(url);
  const warm = await open('');
  warm.ws.close();
  await deleteSession(url, warm.sessionId);
  await sleep(500);
  const before = await settledRss(pid);
  const pssBefore = pssBytes(pid);
  const sockets: WebSocket[] = [];
  const ids: string[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const { ws, sessionId } = await open('');
      sockets.push(ws);
      ids.push(sessionId!);
    }
    await sleep(1500); // the output parsed (well within the parse budget's burst)
    const after = await settledRss(pid);
    const servicePss = (pssBytes(pid) - pssBefore) / count;
    const trees = childTreesPss(pid, { rootComms: ['prlimit', 'bwrap'], exclude: ['cat'] });
    if (trees.trees !== count) throw new Error(`found ${trees.trees} sandbox trees, expected ${count}`);
    const kb = (bytes: number) => round(bytes / 1024, 1);
    const tree = trees.pssBytes / count;
    return {
      perSessionKb: round((after - before) / count / 1024, 1),
      sessions: count,
      sandboxPssKb: { service: kb(servicePss), sandboxTree: kb(tree), total: kb(servicePss + tree), withProgram: kb(servicePss + tree + trees.excludedPssBytes / count) },
    };
  } finally {
    for (const ws of sockets) ws.close();
    await Promise.all(ids.map((id) => deleteSession(url, id)));
  }
}

async function measureStart(url: string): Promise<{ p50Ms: number; p99Ms: number }> {
  const samples: number[] = [];
  for (let i = 0; i < START_SAMPLES; i += 1) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { id: string; wsUrl: string };
    const ws = new WebSocket(url.replace(/^http/, 'ws') + body.wsUrl);
    try {
      await within(30_000, 'a session\'s first byte', new Promise<void>((resolve) => ws.on('message', (_d, isBinary) => { if (isBinary) resolve(); })));
      samples.push(performance.now() - t0);
    } finally {
      ws.close();
      await deleteSession(url, body.id);
    }
  }
  return { p50Ms: round(percentile(samples, 50), 1), p99Ms: round(percentile(samples, 99), 1) };
}

/** The floor for session start: a raw node-pty spawn of the same shell, connect to first byte. */
async function measureBaselineStart(url: string, command: string): Promise<{ p50Ms: number; p99Ms: number }> {
  const samples: number[] = [];
  for (let i = 0; i < START_SAMPLES; i += 1) {
    const t0 = performance.now();
    const ws = new WebSocket(url);
    try {
      const first = new Promise<void>((resolve) => ws.on('message', (_d, isBinary) => { if (isBinary) resolve(); }));
      await within(30_000, 'the baseline open', new Promise((r, j) => { ws.once('open', r); ws.once('error', j); }));
      ws.send(command);
      await within(30_000, 'the baseline\'s first byte', first);
      samples.push(performance.now() - t0);
    } finally {
      ws.close();
    }
  }
  return { p50Ms: round(percentile(samples, 50), 1), p99Ms: round(percentile(samples, 99), 1) };
}

async function measureMemory(baseline: Server) {
  const idle = await withServer(startService({ SESSION_COMMAND: IDLE_COMMAND }), async (service) => ({
    idle: await measureIdleSessions(service.url, service.child.pid!),
    start: await measureStart(service.url),
  }));
  const rawStart = await measureBaselineStart(baseline.url, IDLE_COMMAND);
  const idleRaw = await withServer(startService({ SESSION_COMMAND: IDLE_COMMAND, SCREEN_RESTORE: 'false' }), (s) => measureIdleSessions(s.url, s.child.pid!));
  const full = await withServer(startService({ SESSION_COMMAND: SCROLLBACK_COMMAND }), (s) => measureIdleSessions(s.url, s.child.pid!, IDLE_SESSIONS / 2));
  const fullRaw = await withServer(startService({ SESSION_COMMAND: SCROLLBACK_COMMAND, SCREEN_RESTORE: 'false' }), (s) => measureIdleSessions(s.url, s.child.pid!, IDLE_SESSIONS / 2));
  return {
    idleSession: {
      ...idle.idle, withoutScreenRestore: idleRaw,
      target: '< 300 KB of server memory per idle attached session (most of it the headless terminal of its screen); sandboxPssKb.total < 2048',
    },
    fullScrollbackSession: {
      screenRestore: full, withoutScreenRestore: fullRaw,
      note: 'sessions that printed 2,000 lines of 79 characters: the headless terminal holds SCROLLBACK_LINES (1,000) + the screen; without it, the last SCROLLBACK_BYTES (64 KiB) of raw output',
    },
    sessionStart: {
      ...idle.start, rawNodePty: rawStart, p50Ratio: round(idle.start.p50Ms / rawStart.p50Ms, 2),
      target: 'POST to first output byte, p50 < 300 ms; within 3x of a raw node-pty spawn (ttyd is not built here)',
    },
  };
}

const step = (what: string) => console.error(`  terminal: ${what} (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);

/** `BENCH_ONLY=throughput,echo` runs a subset (for profiling). */
const only = (name: string) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(name);

export async function runTerminalBench(): Promise<object> {
  step('starting the raw baseline');
  const results: Record<string, unknown> = { machine: { cpus: cpus().length, node: process.version }, loadAverageAtStart: loadavg().map((l) => round(l, 2)) };
  await withServer(startBaseline(), async (baseline) => {
    if (only('echo')) {
      step('echo latency, and with watchers');
      Object.assign(results, await runEchoBench(baseline));
      const watched = results.echoWithWatchers as { stalledP50Ratio: number; meetsTarget: boolean };
      console.error(`  terminal: echo p50 with a stalled watcher ${watched.stalledP50Ratio}x without one (target <= 1.2x): ${watched.meetsTarget ? 'met' : 'NOT MET'}`);
    }
    if (only('throughput')) {
      step('throughput');
      const throughput = await measureThroughputRounds(baseline);
      results.throughput = throughput;
      console.error(`  terminal: throughput with SCREEN_RESTORE ${throughput.ratio}x the raw baseline (target >= ${THROUGHPUT_TARGET}x): ${throughput.meetsTarget ? 'met' : 'NOT MET'}; without it ${throughput.ratioWithoutScreenRestore}x`);
    }
    if (only('stall')) {
      step('stalled client');
      results.stalledClient = {
        baseline: await measureStall(baselineOpener(baseline.url), baseline.child.pid!),
        service: await withServer(startService({ SESSION_COMMAND: 'exec yes' }), (yes) => measureStall(serviceOpener(yes.url), yes.child.pid!)),
        target: 'service RSS growth < 10 MB over 10 s of `yes` with a stalled client',
      };
    }
    if (only('idle')) {
      step('memory per session and start latency');
      Object.assign(results, await measureMemory(baseline));
    }
  });
  results.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  // A partial run (BENCH_ONLY) prints its figures but leaves the recorded results alone.
  if (!process.env.BENCH_ONLY) {
    mkdirSync(`${ROOT}/bench/results`, { recursive: true });
    writeFileSync(`${ROOT}/bench/results/terminal.json`, `${JSON.stringify(results, null, 2)}\n`);
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runTerminalBench().then((r) => console.log(JSON.stringify(r, null, 2)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
