// Benchmark: the Kubernetes runtime over the fake kube-apiserver (in a child process, loopback), compared in
// the same run with a direct local pty. Reports: start overhead (start() to first output byte, minus the fake
// kubelet's scripted delay), exec-path throughput and echo latency vs a local pty, and this process's RSS per
// attached exec with 100 sessions. Bounded loops, well under 3 minutes. Writes bench/results/kubernetes.json.
// Run alone: node --import tsx bench/kubernetes.ts
import { fork, type ChildProcess } from 'node:child_process';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import * as pty from '@lydell/node-pty';
import pino from 'pino';
import { loadKubernetesConfig } from '../web-terminal/src/runtime/kubernetes/config.ts';
import { createKubernetesRuntime, type KubernetesRuntime } from '../web-terminal/src/runtime/kubernetes/runtime.ts';
import type { SandboxSpec, Terminal } from '../web-terminal/src/runtime/types.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEDULE_MS = 20;
const PULL_MS = 30;
const START_MS = 50;
const SCRIPTED_DELAY_MS = SCHEDULE_MS + PULL_MS + START_MS;
const START_ROUNDS = 15;
const THROUGHPUT_BYTES = 16 * 1024 * 1024;
const ECHO_ROUNDS = 300;
const RSS_SESSIONS = 100;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(2));
};
const stats = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95), max: percentile(values, 100), n: values.length });

// ---- child: the fake apiserver lives in its own process so RSS measures only the runtime side ----
async function runFakeServerChild(): Promise<void> {
  const { startFakeKubeApiserver } = await import('../web-terminal/test/fakes/kube-apiserver/index.ts');
  const fake = await startFakeKubeApiserver();
  fake.kubelet.behave({ kind: 'normal', scheduleMs: SCHEDULE_MS, pullMs: PULL_MS, startMs: START_MS });
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'close') void fake.close().then(() => process.exit(0));
  });
  process.send?.({ type: 'ready', url: fake.url, token: fake.token });
}

interface Child { proc: ChildProcess; url: string; token: string }

function startChild(): Promise<Child> {
  const proc = fork(fileURLToPath(import.meta.url), ['--fake-server'], { execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`fake apiserver exited with ${code}`)));
    proc.on('message', (msg: { type: string; url: string; token: string }) => {
      if (msg.type === 'ready') resolve({ proc, url: msg.url, token: msg.token });
    });
  });
}

function kubeConfigFor(child: Child): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: child.url, skipTLSVerify: true }],
    users: [{ name: 'u', token: child.token }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

let counter = 0;
function spec(command: string[]): SandboxSpec {
  counter += 1;
  const createdAt = new Date();
  return {
    sessionId: `bench-${process.pid}-${counter}`, userHash: 'b'.repeat(64), credential: 'bench-credential', command, env: {},
    course: null, profile: 'default', cols: 120, rows: 40, createdAt, expiresAt: new Date(createdAt.getTime() + 3600_000),
  };
}

/** The same program through the exec path or a direct local pty, behind one small interface. */
interface Target { write(data: string): void; onData(l: (chunk: Buffer) => void): void; onExit(l: () => void): void; close(): Promise<void> }

async function execTarget(runtime: KubernetesRuntime, command: string[]): Promise<Target> {
  const s = spec(command);
  const terminal: Terminal = await runtime.start(s, { signal: new AbortController().signal, onProgress: () => {} });
  return {
    write: (d) => terminal.write(Buffer.from(d)),
    onData: (l) => terminal.onData(l),
    onExit: (l) => terminal.onExit(() => l()),
    close: () => runtime.stop(s.sessionId),
  };
}

function localTarget(command: string[]): Target {
  const [file, ...args] = command;
  const p = pty.spawn(file!, args, { name: 'xterm-256color', cols: 120, rows: 40, cwd: ROOT, env: process.env as Record<string, string>, encoding: null } as pty.IPtyForkOptions);
  return {
    write: (d) => p.write(d),
    onData: (l) => p.onData((d: string | Buffer) => l(typeof d === 'string' ? Buffer.from(d) : d)),
    onExit: (l) => p.onExit(() => l()),
    close: async () => { try { p.kill(); } catch { /* gone */ } },
  };
}

async function throughput(make: (command: string[]) => Promise<Target> | Target): Promise<{ mbPerSecond: number; bytes: number }> {
  const target = await make(['/bin/sh', '-c', `read go; head -c ${THROUGHPUT_BYTES} /dev/zero | tr '\\0' 'x'; exit 0`]);
  let bytes = 0;
  let started = 0;
  const done = new Promise<void>((resolve) => {
    target.onData((chunk) => {
      if (started) bytes += chunk.length;
      if (bytes >= THROUGHPUT_BYTES) resolve();
    });
    target.onExit(() => resolve());
  });
  await new Promise((r) => setTimeout(r, 200));
  started = performance.now();
  target.write('go\n');
  await done;
  const seconds = (performance.now() - started) / 1000;
  await target.close();
  return { mbPerSecond: Number((bytes / 1024 / 1024 / seconds).toFixed(1)), bytes };
}

async function echoLatency(make: (command: string[]) => Promise<Target> | Target): Promise<ReturnType<typeof stats>> {
  const target = await make(['/bin/sh', '-c', 'stty raw -echo; echo ready; exec cat']);
  let pending: ((chunk: Buffer) => void) | null = null;
  let seen = '';
  target.onData((chunk) => { seen += chunk.toString(); pending?.(chunk); });
  while (!seen.includes('ready')) await new Promise((r) => setTimeout(r, 20));
  const samples: number[] = [];
  for (let i = 0; i < ECHO_ROUNDS; i += 1) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      pending = (chunk) => { if (chunk.includes('z')) { pending = null; resolve(); } };
      target.write('z');
    });
    samples.push(performance.now() - t0);
  }
  await target.close();
  return stats(samples);
}

export async function runKubernetesBench(): Promise<object> {
  const child = await startChild();
  const config = loadKubernetesConfig({ SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '30', START_TIMEOUT_SECONDS: '60' });
  const runtime = createKubernetesRuntime({ config, logger: pino({ level: 'silent' }), kubeConfig: kubeConfigFor(child) });
  try {
    await runtime.startController({ onActive: async () => undefined }); // the only instance: it holds the Lease
    await runtime.health(); // first list + watch, outside the measurements

    const overheads: number[] = [];
    const toExecOpen: number[] = [];
    const execOpenToFirstByte: number[] = [];
    for (let i = 0; i < START_ROUNDS; i += 1) {
      const s = spec(['/bin/sh', '-c', 'echo x; exec cat']);
      const t0 = performance.now();
      const terminal = await runtime.start(s, { signal: new AbortController().signal, onProgress: () => {} });
      const t1 = performance.now();
      await new Promise<void>((resolve) => terminal.onData(() => resolve()));
      const t2 = performance.now();
      overheads.push(t2 - t0 - SCRIPTED_DELAY_MS);
      toExecOpen.push(t1 - t0 - SCRIPTED_DELAY_MS);
      execOpenToFirstByte.push(t2 - t1);
      await runtime.stop(s.sessionId);
    }

    // RSS per attached exec: 100 sessions started, each with its exec terminal open and attached.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (() => void) | undefined;
    const settle = async () => { for (let i = 0; i < 3; i += 1) { gc?.(); await new Promise((r) => setTimeout(r, 100)); } };
    await settle();
    const before = process.memoryUsage();
    const rssBefore = before.rss;
    const sessions: { id: string; terminal: Terminal }[] = [];
    for (let batch = 0; batch < RSS_SESSIONS; batch += 10) {
      const started = await Promise.all(Array.from({ length: 10 }, async () => {
        const s = spec(['/bin/sh', '-c', 'echo attached; exec cat']);
        const terminal = await runtime.start(s, { signal: new AbortController().signal, onProgress: () => {} });
        terminal.onData(() => {});
        return { id: s.sessionId, terminal };
      }));
      sessions.push(...started);
    }
    await settle();
    const afterUsage = process.memoryUsage();
    const rssAfter = afterUsage.rss;
    const heapPerSessionKiB = Math.round((afterUsage.heapUsed + afterUsage.external - before.heapUsed - before.external) / 1024 / RSS_SESSIONS);
    for (let i = 0; i < sessions.length; i += 20) await Promise.all(sessions.slice(i, i + 20).map((s) => runtime.stop(s.id)));

    const execThroughput = await throughput((c) => execTarget(runtime, c));
    const localThroughput = await throughput(localTarget);
    const execEcho = await echoLatency((c) => execTarget(runtime, c));
    const localEcho = await echoLatency(localTarget);

    return {
      name: 'kubernetes-runtime',
      date: new Date().toISOString(),
      node: process.version,
      note: 'fake kube-apiserver in a child process on loopback; exec runs the program under dtach in a local pty',
      startOverheadMs: {
        ...stats(overheads),
        scriptedKubeletDelayMs: SCRIPTED_DELAY_MS,
        createToExecOpen: stats(toExecOpen),
        // Includes the fake kubelet spawning sh + dtach + the program in a pty.
        execOpenToFirstByte: stats(execOpenToFirstByte),
      },
      throughputMBps: { exec: execThroughput.mbPerSecond, localPty: localThroughput.mbPerSecond, bytes: THROUGHPUT_BYTES },
      echoLatencyMs: { exec: execEcho, localPty: localEcho },
      rssPerAttachedSessionKiB: Math.round((rssAfter - rssBefore) / 1024 / RSS_SESSIONS),
      heapAndExternalPerAttachedSessionKiB: heapPerSessionKiB,
      rssMiB: { before: Math.round(rssBefore / 1048576), with100Sessions: Math.round(rssAfter / 1048576), gcExposed: Boolean(gc) },
    };
  } finally {
    await runtime.close();
    child.proc.removeAllListeners('exit');
    child.proc.send({ type: 'close' });
    await new Promise((r) => { child.proc.once('exit', r); setTimeout(() => { child.proc.kill('SIGKILL'); r(null); }, 5000).unref(); });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv.includes('--fake-server')) {
  void runFakeServerChild();
} else if (isMain) {
  const result = await runKubernetesBench();
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  writeFileSync(`${ROOT}bench/results/kubernetes.json`, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}
