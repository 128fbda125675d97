// Benchmark: the web-terminal's local runtime against a raw baseline (node-pty + plain ws, no framing),
// in one run so the ratios hold on a noisy machine. The service runs with its exact screen restore
// (SCREEN_RESTORE, the default: a headless terminal parses all output) and without it, to show its cost. Both servers run as child processes so their
// memory can be read. Loopback only, bounded loops. Writes bench/results/terminal.json.
// Run alone: node --import tsx bench/terminal.ts
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { childTreesPss, pssBytes } from './process-memory.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ECHO_ROUNDS = 500;
const THROUGHPUT_BYTES = 200 * 1024 * 1024;
const STALL_SECONDS = 10;
const IDLE_SESSIONS = 40;
const START_SAMPLES = 20;

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** Resident memory after a full collection in the server (see gc-on-signal.ts). */
async function settledRss(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await sleep(300);
  process.kill(pid, 'SIGUSR2');
  await sleep(300);
  return rssBytes(pid);
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function startChild(args: string[], env: Record<string, string>, ready: RegExp): Promise<Server> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './bench/gc-on-signal.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const match = ready.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
  });
  return {
    url,
    child,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

const startService = (env: Record<string, string>) =>
  startChild(['web-terminal/src/main.ts'], {
    // As `npm start` and the image run it (see web-terminal/package.json).
    MALLOC_ARENA_MAX: '2', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', DB_PATH: ':memory:', MAX_SESSIONS_PER_USER: '200', MAX_SESSIONS: '200',
    SESSION_CREATES_PER_MINUTE: '10000', ...env,
  }, /ready at (http:\/\/[^\s]+)/);
const startBaseline = async () => {
  const server = await startChild(['bench/raw-baseline.ts'], {}, /ready (\d+)/);
  return { ...server, url: `ws://127.0.0.1:${server.url}` };
};

/** A terminal socket to either server: the service via REST + ticket, the baseline by sending the command. */
type Opener = (command: string) => Promise<{ ws: WebSocket; sessionId?: string }>;

function serviceOpener(url: string): Opener {
  return async (command) => {
    const res = await fetch(`${url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { id: string; wsUrl: string };
    if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(body)}`);
    void command; // the service runs SESSION_COMMAND; it is set per scenario
    const ws = new WebSocket(url.replace(/^http/, 'ws') + body.wsUrl);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    return { ws, sessionId: body.id };
  };
}

function baselineOpener(url: string): Opener {
  return async (command) => {
    const ws = new WebSocket(url);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    ws.send(command);
    return { ws };
  };
}

const ECHO_COMMAND = 'stty raw -echo; echo READY; exec cat';
const THROUGHPUT_COMMAND = `stty raw -echo; head -c ${(THROUGHPUT_BYTES / 4) * 3} /dev/urandom | base64 -w 0; printf '\\n%s\\n' DONE-MARK; exec sleep 60`;

async function measureEcho(open: Opener): Promise<{ p50Ms: number; p99Ms: number }> {
  const { ws } = await open(ECHO_COMMAND);
  let buffered = '';
  let waiting: ((s: string) => void) | null = null;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return;
    buffered += data.toString();
    if (waiting) waiting(buffered);
  });
  const until = (pred: (s: string) => boolean) => new Promise<void>((resolve) => {
    if (pred(buffered)) return resolve();
    waiting = (s) => { if (pred(s)) { waiting = null; resolve(); } };
  });
  await until((s) => s.includes('READY'));
  await sleep(200);
  const samples: number[] = [];
  for (let i = 0; i < ECHO_ROUNDS; i += 1) {
    buffered = '';
    const key = String.fromCharCode(97 + (i % 26));
    const t0 = performance.now();
    ws.send(Buffer.from(key), { binary: true });
    await until((s) => s.includes(key));
    samples.push(performance.now() - t0);
  }
  ws.close();
  return { p50Ms: round(percentile(samples, 50)), p99Ms: round(percentile(samples, 99)) };
}

/** CPU time (user + system, ms) the process has used, from /proc: a cost that holds on a busy machine. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
}

async function measureThroughput(open: Opener, pid?: number): Promise<{ mbPerSecond: number; bytes: number; serverCpuMsPerMb?: number }> {
  const { ws } = await open(THROUGHPUT_COMMAND);
  const cpuBefore = pid ? cpuMs(pid) : 0;
  let bytes = 0;
  let tail = '';
  let t0 = 0;
  await new Promise<void>((resolve) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const chunk = data as Buffer;
      if (t0 === 0) t0 = performance.now();
      bytes += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-64);
      if (tail.includes('DONE-MARK')) resolve();
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  ws.terminate();
  const cpu = pid ? { serverCpuMsPerMb: round((cpuMs(pid) - cpuBefore) / (bytes / 1e6), 2) } : {};
  return { mbPerSecond: round(bytes / seconds / 1e6, 1), bytes, ...cpu };
}

/** A client that stops reading while the program floods output: server memory must stay flat. */
async function measureStall(open: Opener, pid: number): Promise<{ rssGrowthMb: number }> {
  const { ws } = await open('exec yes');
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
  ws.terminate();
  return { rssGrowthMb: round((peak - before) / 1e6, 2) };
}

interface IdleResult {
  perSessionKb: number;
  sessions: number;
  /** PSS per session: the service's share plus the sandbox tree without the session program (`cat`). */
  sandboxPssKb: { service: number; sandboxTree: number; total: number; withProgram: number };
}

async function measureIdleSessions(url: string, pid: number): Promise<IdleResult> {
  const open = serviceOpener(url);
  const warm = await open('');
  warm.ws.close();
  await fetch(`${url}/api/sessions/${warm.sessionId}`, { method: 'DELETE' });
  await sleep(500);
  const before = await settledRss(pid);
  const pssBefore = pssBytes(pid);
  const sockets: WebSocket[] = [];
  const ids: string[] = [];
  for (let i = 0; i < IDLE_SESSIONS; i += 1) {
    const { ws, sessionId } = await open('');
    sockets.push(ws);
    ids.push(sessionId!);
  }
  await sleep(1000);
  const after = await settledRss(pid);
  const servicePss = (pssBytes(pid) - pssBefore) / IDLE_SESSIONS;
  const trees = childTreesPss(pid, { rootComms: ['prlimit', 'bwrap'], exclude: ['cat'] });
  if (trees.trees !== IDLE_SESSIONS) throw new Error(`found ${trees.trees} sandbox trees, expected ${IDLE_SESSIONS}`);
  for (const ws of sockets) ws.close();
  await Promise.all(ids.map((id) => fetch(`${url}/api/sessions/${id}`, { method: 'DELETE' })));
  const kb = (bytes: number) => round(bytes / 1024, 1);
  const tree = trees.pssBytes / IDLE_SESSIONS;
  return {
    perSessionKb: round((after - before) / IDLE_SESSIONS / 1024, 1),
    sessions: IDLE_SESSIONS,
    sandboxPssKb: { service: kb(servicePss), sandboxTree: kb(tree), total: kb(servicePss + tree), withProgram: kb(servicePss + tree + trees.excludedPssBytes / IDLE_SESSIONS) },
  };
}

async function measureStart(url: string): Promise<{ p50Ms: number; p99Ms: number }> {
  const samples: number[] = [];
  for (let i = 0; i < START_SAMPLES; i += 1) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { id: string; wsUrl: string };
    const ws = new WebSocket(url.replace(/^http/, 'ws') + body.wsUrl);
    await new Promise<void>((resolve) => ws.on('message', (_d, isBinary) => { if (isBinary) resolve(); }));
    samples.push(performance.now() - t0);
    ws.close();
    await fetch(`${url}/api/sessions/${body.id}`, { method: 'DELETE' });
  }
  return { p50Ms: round(percentile(samples, 50), 1), p99Ms: round(percentile(samples, 99), 1) };
}

/** One service's output throughput. */
async function serviceThroughput(env: Record<string, string>) {
  const flood = await startService({ SESSION_COMMAND: THROUGHPUT_COMMAND, ...env });
  try {
    return await measureThroughput(serviceOpener(flood.url), flood.child.pid!);
  } finally {
    await flood.stop();
  }
}

/** The floor for session start: a raw node-pty spawn of the same shell, connect to first byte. */
async function measureBaselineStart(url: string, command: string): Promise<{ p50Ms: number; p99Ms: number }> {
  const samples: number[] = [];
  for (let i = 0; i < START_SAMPLES; i += 1) {
    const t0 = performance.now();
    const ws = new WebSocket(url);
    const first = new Promise<void>((resolve) => ws.on('message', (_d, isBinary) => { if (isBinary) resolve(); }));
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    ws.send(command);
    await first;
    samples.push(performance.now() - t0);
    ws.close();
  }
  return { p50Ms: round(percentile(samples, 50), 1), p99Ms: round(percentile(samples, 99), 1) };
}

const step = (what: string) => console.error(`  terminal: ${what}`);

/** `BENCH_ONLY=throughput,echo` runs a subset (for profiling). */
const only = (name: string) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(name);

export async function runTerminalBench(): Promise<object> {
  step('starting the raw baseline');
  const baseline = await startBaseline();
  const results: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version } };
  try {
    if (only('echo')) {
    const echoService = await startService({ SESSION_COMMAND: ECHO_COMMAND });
    step('echo latency');
    const baselineEcho = await measureEcho(baselineOpener(baseline.url));
    const serviceEcho = await measureEcho(serviceOpener(echoService.url));
    await echoService.stop();
    results.echo = { baseline: baselineEcho, service: serviceEcho, p50Ratio: round(serviceEcho.p50Ms / baselineEcho.p50Ms, 2), target: 'p50 <= 1.2x baseline' };
    }

    if (only('throughput')) {
    step('throughput');
    const baselineThroughput = await measureThroughput(baselineOpener(baseline.url), baseline.child.pid!);
    const screenThroughput = await serviceThroughput({});
    const rawThroughput = await serviceThroughput({ SCREEN_RESTORE: 'false' });
    results.throughput = {
      baseline: baselineThroughput, service: screenThroughput,
      ratio: round(screenThroughput.mbPerSecond / baselineThroughput.mbPerSecond, 2), target: '>= 0.85x baseline with SCREEN_RESTORE on',
      withoutScreenRestore: { service: rawThroughput, ratio: round(rawThroughput.mbPerSecond / baselineThroughput.mbPerSecond, 2) },
    };
    }

    if (only('stall')) {
    step('stalled client');
    const yes = await startService({ SESSION_COMMAND: 'exec yes' });
    results.stalledClient = {
      baseline: await measureStall(baselineOpener(baseline.url), baseline.child.pid!),
      service: await measureStall(serviceOpener(yes.url), yes.child.pid!),
      target: 'service RSS growth < 10 MB over 10 s of `yes` with a stalled client',
    };
    await yes.stop();
    }

    if (only('idle')) {
    step('idle sessions and start latency');
    const idleCommand = 'echo ready; exec cat';
    const idle = await startService({ SESSION_COMMAND: idleCommand });
    results.idleSession = {
      ...(await measureIdleSessions(idle.url, idle.child.pid!)),
      target: '< 300 KB of server memory per idle attached session (most of it the headless terminal of its screen); sandboxPssKb.total < 2048',
    };
    const serviceStart = await measureStart(idle.url);
    const rawStart = await measureBaselineStart(baseline.url, idleCommand);
    results.sessionStart = {
      ...serviceStart, rawNodePty: rawStart, p50Ratio: round(serviceStart.p50Ms / rawStart.p50Ms, 2),
      target: 'POST to first output byte, p50 < 300 ms; within 3x of a raw node-pty spawn (ttyd is not built here)',
    };
    await idle.stop();
    const rawIdle = await startService({ SESSION_COMMAND: 'echo ready; exec cat', SCREEN_RESTORE: 'false' });
    (results.idleSession as Record<string, unknown>).withoutScreenRestore = await measureIdleSessions(rawIdle.url, rawIdle.child.pid!);
    await rawIdle.stop();
    }
  } finally {
    await baseline.stop();
  }
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
