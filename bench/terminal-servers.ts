// What the terminal benchmarks share: the service and the raw baseline as child processes (so their
// memory and CPU can be read from /proc), terminal sockets to either, and small statistics.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Longest a server may take to say it is ready (tsx compiles the service first; the machine may be busy). */
const START_TIMEOUT_MS = 120_000;

export interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
export const median = (values: number[]) => percentile(values, 50);
export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Resident memory after a full collection in the server (see gc-on-signal.ts). */
export async function settledRss(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await sleep(300);
  process.kill(pid, 'SIGUSR2');
  await sleep(300);
  return rssBytes(pid);
}

/** CPU time (user + system, ms) the process has used, from /proc: a cost that holds on a busy machine. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
}

/** Resolves with `promise`, or rejects after `ms` naming `what`: no step of a benchmark may wait forever. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`bench: ${what} took longer than ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function startChild(args: string[], env: Record<string, string>, ready: RegExp): Promise<Server> {
  // BENCH_CPU_PROF=<dir>: each server writes a CPU profile there when it stops (open it in Chrome's DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--expose-gc', '--import', 'tsx', '--import', './bench/gc-on-signal.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // A server that does not stop (e.g. stuck in a loop) is killed: the bench must always finish.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await within(START_TIMEOUT_MS, 'a server start', new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const match = ready.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
    }));
    return { url, child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export const startService = (env: Record<string, string>) =>
  startChild(['web-terminal/src/main.ts'], {
    // As `npm start` and the image run it (see web-terminal/package.json).
    MALLOC_ARENA_MAX: '2', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', DB_PATH: ':memory:', MAX_SESSIONS_PER_USER: '200', MAX_SESSIONS: '200',
    SESSION_CREATES_PER_MINUTE: '10000', ...env,
  }, /ready at (http:\/\/[^\s]+)/);

export const startBaseline = async (): Promise<Server> => {
  const server = await startChild(['bench/raw-baseline.ts'], {}, /ready (\d+)/);
  return { ...server, url: `ws://127.0.0.1:${server.url}` };
};

/** Runs `use` with a started server and stops it afterwards, whatever happens. */
export async function withServer<T>(start: Promise<Server>, use: (server: Server) => Promise<T>): Promise<T> {
  const server = await start;
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}

/** A terminal socket to either server: the service via REST + ticket, the baseline by sending the command. */
export type Opener = (command: string) => Promise<{ ws: WebSocket; sessionId?: string }>;

const opened = (ws: WebSocket) => within(30_000, 'a WebSocket open', new Promise((r, j) => { ws.once('open', r); ws.once('error', j); }));

export function serviceOpener(url: string): Opener {
  return async (command) => {
    const res = await fetch(`${url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { id: string; wsUrl: string };
    if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(body)}`);
    void command; // the service runs SESSION_COMMAND; it is set per scenario
    const ws = new WebSocket(url.replace(/^http/, 'ws') + body.wsUrl);
    await opened(ws);
    return { ws, sessionId: body.id };
  };
}

export function baselineOpener(url: string): Opener {
  return async (command) => {
    const ws = new WebSocket(url);
    await opened(ws);
    ws.send(command);
    return { ws };
  };
}

export const deleteSession = (url: string, id: string | undefined) =>
  id ? fetch(`${url}/api/sessions/${id}`, { method: 'DELETE' }).then(() => undefined) : Promise.resolve();
