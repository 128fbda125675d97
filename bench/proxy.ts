// Benchmark: the fake Anthropic API reached directly, through api-proxy, and through nginx (the reference
// reverse proxy), side by side in one run. Loopback only, bounded loops, about a minute.
// Reports added latency p50/p99 (small JSON), SSE time-to-first-byte added, requests/s with 50
// concurrent clients, and RSS with up to 1000 open streams. Writes bench/results/proxy.json.
// Run alone: node --import tsx bench/proxy.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { issueSessionCredential } from '../api-proxy/src/credentials.ts';
import { CONTROL_SIGNATURE_HEADER, signControlBody } from '../api-proxy/src/control-signature.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REAL_KEY = 'sk-ant-bench-real-key-0123456789abcdefghijkl';
const SECRET = 'bench-shared-secret-0123456789abcdefghijkl';
const SEQUENTIAL_ROUNDS = 6;
const SEQUENTIAL_PER_ROUND = 400;
const SSE_PER_ROUND = 60;
const THROUGHPUT_CLIENTS = 50;
const THROUGHPUT_SECONDS = 4;
const STREAM_STEPS = [0, 250, 500, 1000];

type TargetName = 'direct' | 'proxy' | 'nginx' | 'nodeBare';

/** A bare Node passthrough (same HTTP server and undici pool as the proxy, no checks at all): it shows how
 * much of the proxy's cost is Node's HTTP stack rather than the proxy's own work. */
const NODE_BARE = `
import http from 'node:http';
import { Pool } from 'undici';
const pool = new Pool('http://127.0.0.1:' + process.env.UPSTREAM_PORT, { connections: null });
http.createServer({ noDelay: true }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    pool.dispatch({ path: req.url, method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'content-length': String(body.length) } }, {
      onRequestStart() {},
      onResponseStart(_c, status, headers) {
        const out = { 'content-type': headers['content-type'] };
        if (headers['content-length']) out['content-length'] = headers['content-length'];
        res.writeHead(status, out);
      },
      onResponseData(_c, chunk) { res.write(chunk); },
      onResponseEnd() { res.end(); },
      onResponseError() { res.destroy(); },
    });
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
interface Target {
  name: TargetName;
  port: number;
  pids: () => number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await sleep(50);
  }
}

function rssMiB(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    kb += m ? Number(m[1]) : 0;
  }
  return Math.round((kb / 1024) * 10) / 10;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}
const round3 = (n: number) => Math.round(n * 1000) / 1000;

function body(stream: boolean, prompt = 'say hello'): Buffer {
  return Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, stream, messages: [{ role: 'user', content: prompt }] }));
}

/** One request; resolves with [time to first body byte, total time] in ms. */
function timedRequest(port: number, agent: http.Agent | false, payload: Buffer, credential: string): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first = 0;
    const req = http.request(
      {
        host: '127.0.0.1', port, path: '/v1/messages?beta=true', method: 'POST', agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, 'anthropic-version': '2023-06-01', 'x-api-key': credential },
      },
      (res) => {
        res.on('data', () => {
          if (!first) first = performance.now() - start;
        });
        res.on('end', () => (res.statusCode === 200 ? resolve([first, performance.now() - start]) : reject(new Error(`status ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function sequential(targets: Target[], credential: string, stream: boolean, perRound: number) {
  const samples = new Map<TargetName, number[]>(targets.map((t) => [t.name, []]));
  const agents = new Map(targets.map((t) => [t.name, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  const payload = body(stream);
  for (const t of targets) for (let i = 0; i < 100; i++) await timedRequest(t.port, agents.get(t.name)!, payload, credential);
  for (let r = 0; r < SEQUENTIAL_ROUNDS; r++) {
    for (const t of targets) {
      for (let i = 0; i < perRound; i++) {
        const [ttfb, total] = await timedRequest(t.port, agents.get(t.name)!, payload, credential);
        samples.get(t.name)!.push(stream ? ttfb : total);
      }
    }
  }
  for (const a of agents.values()) a.destroy();
  const out: Record<string, { p50: number; p99: number; n: number }> = {};
  for (const [name, s] of samples) {
    s.sort((a, b) => a - b);
    out[name] = { p50: round3(percentile(s, 0.5)), p99: round3(percentile(s, 0.99)), n: s.length };
  }
  return out;
}

/** utime + stime of the given processes, in ms (from /proc; 100 ticks per second on Linux). */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

async function throughput(target: Target, credential: string): Promise<{ rps: number; cpuUsPerRequest: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: THROUGHPUT_CLIENTS });
  const payload = body(false);
  let done = 0;
  let errors = 0;
  const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
  const started = performance.now();
  const cpuBefore = cpuMs(target.pids());
  await Promise.all(
    Array.from({ length: THROUGHPUT_CLIENTS }, async () => {
      while (performance.now() < deadline) {
        try {
          await timedRequest(target.port, agent, payload, credential);
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const cpuUsed = cpuMs(target.pids()) - cpuBefore;
  agent.destroy();
  if (errors) throw new Error(`${target.name}: ${errors} failed requests during the throughput run`);
  return { rps: Math.round(done / ((performance.now() - started) / 1000)), cpuUsPerRequest: Math.round((cpuUsed * 1000) / done) };
}

/** Opens streams that stay open after their first event, measuring the target's RSS as they grow. */
async function openStreams(target: Target, credential: string) {
  const payload = body(true, 'hold the stream [[delay:60000]]');
  const open: http.ClientRequest[] = [];
  const points: Array<{ streams: number; rssMiB: number }> = [];
  try {
    for (const step of STREAM_STEPS) {
      const batch: Array<Promise<void>> = [];
      while (open.length < step) {
        batch.push(
          new Promise<void>((resolve, reject) => {
            const req = http.request(
              {
                host: '127.0.0.1', port: target.port, path: '/v1/messages', method: 'POST', agent: false,
                headers: { 'content-type': 'application/json', 'content-length': payload.length, 'x-api-key': credential },
              },
              (res) => {
                if (res.statusCode !== 200) reject(new Error(`${target.name}: stream status ${res.statusCode}`));
                res.once('data', () => resolve());
                res.on('error', () => undefined);
              },
            );
            req.on('error', (err) => reject(err));
            req.end(payload);
            open.push(req);
          }),
        );
        if (batch.length >= 100) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
      await sleep(300);
      points.push({ streams: step, rssMiB: rssMiB(target.pids()) });
    }
  } finally {
    for (const req of open) req.destroy();
  }
  await sleep(500);
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const perStreamKiB = Math.round(((last.rssMiB - first.rssMiB) * 1024) / Math.max(1, last.streams - first.streams));
  return { points, perStreamKiB };
}

function startChild(args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return child;
}

function startNginx(dir: string, upstreamPort: number, nginxPort: number): ChildProcess | string {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
  if (!binary) return 'nginx binary not found (install nginx-light); nginx column skipped';
  const conf = readFileSync(join(ROOT, 'bench/nginx-proxy.conf.tmpl'), 'utf8')
    .replaceAll('{{PREFIX}}', dir)
    .replaceAll('{{UPSTREAM_PORT}}', String(upstreamPort))
    .replaceAll('{{NGINX_PORT}}', String(nginxPort))
    .replaceAll('{{API_KEY}}', REAL_KEY);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  return spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function nginxPids(master: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(master)], { encoding: 'utf8' }).stdout;
  return [master, ...out.split('\n').map((s) => Number(s.trim())).filter(Boolean)];
}

async function pushLiveSession(port: number): Promise<void> {
  const body = JSON.stringify({ source: 'bench', sessions: [{ id: 'bench', userHash: 'bench-user' }], ttlMs: 10_000 });
  const res = await fetch(`http://127.0.0.1:${port}/control/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signControlBody(SECRET, body) },
    body,
  });
  if (!res.ok) throw new Error(`live-session push refused: ${res.status}`);
  await res.arrayBuffer();
}

export async function runProxyBench(): Promise<object> {
  const dir = mkdtempSync(join(os.tmpdir(), 'proxy-bench-'));
  chmodSync(dir, 0o755);
  const children: ChildProcess[] = [];
  const started = Date.now();
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    const [fakePort, proxyPort, nginxPort] = [await freePort(), await freePort(), await freePort()];
    const fake = startChild(['--import', 'tsx', 'web-terminal/test/fakes/fake-anthropic.ts'], { ...process.env, PORT: String(fakePort), FAKE_RECORD: '0' }, join(dir, 'fake.log'));
    children.push(fake);
    const proxy = startChild(['--import', 'tsx', 'api-proxy/src/main.ts'], {
      ...process.env, PORT: String(proxyPort), HOST: '127.0.0.1', UPSTREAM_URL: `http://127.0.0.1:${fakePort}`,
      ANTHROPIC_API_KEY: REAL_KEY, PROXY_SHARED_SECRET: SECRET, LOG_LEVEL: 'info',
      // Limits stay on (their code runs on every request) but high enough not to refuse the load.
      RATE_LIMIT_PER_MINUTE: '100000000', MAX_CONCURRENT_PER_CREDENTIAL: '100000',
    }, join(dir, 'proxy.log'));
    children.push(proxy);
    const barePort = await freePort();
    const bare = startChild(['--input-type=module', '-e', NODE_BARE], { ...process.env, PORT: String(barePort), UPSTREAM_PORT: String(fakePort) }, join(dir, 'bare.log'));
    children.push(bare);
    const nginx = startNginx(dir, fakePort, nginxPort);
    const nginxSkipped = typeof nginx === 'string' ? nginx : undefined;
    if (typeof nginx !== 'string') children.push(nginx);
    await Promise.all([waitForPort(fakePort), waitForPort(proxyPort), waitForPort(barePort), ...(nginxSkipped ? [] : [waitForPort(nginxPort)])]);

    const credential = issueSessionCredential({ sessionId: 'bench', userHash: 'bench-user', expiresAt: new Date(Date.now() + 3600_000) }, SECRET);
    // The proxy serves only live sessions: keep the bench session in a fresh snapshot, as web-terminal does.
    await pushLiveSession(proxyPort);
    heartbeat = setInterval(() => void pushLiveSession(proxyPort).catch(() => undefined), 1000);
    const targets: Target[] = [
      { name: 'direct', port: fakePort, pids: () => [fake.pid!] },
      { name: 'proxy', port: proxyPort, pids: () => [proxy.pid!] },
      ...(nginxSkipped || typeof nginx === 'string' ? [] : [{ name: 'nginx' as const, port: nginxPort, pids: () => nginxPids(nginx.pid!) }]),
      { name: 'nodeBare', port: barePort, pids: () => [bare.pid!] },
    ];

    const latency = await sequential(targets, credential, false, SEQUENTIAL_PER_ROUND);
    const ttfb = await sequential(targets, credential, true, SSE_PER_ROUND);
    const rps: Record<string, number> = {};
    const cpu: Record<string, number> = {};
    for (let round = 0; round < 2; round++) {
      for (const t of targets) {
        const run = await throughput(t, credential);
        if (run.rps > (rps[t.name] ?? 0)) {
          rps[t.name] = run.rps;
          cpu[t.name] = run.cpuUsPerRequest;
        }
      }
    }
    const memory: Record<string, unknown> = {};
    for (const t of targets.filter((x) => x.name === 'proxy' || x.name === 'nginx')) memory[t.name] = await openStreams(t, credential);

    const added = (m: Record<string, { p50: number; p99: number }>, name: TargetName) =>
      m[name] ? { p50: round3(m[name]!.p50 - m.direct!.p50), p99: round3(m[name]!.p99 - m.direct!.p99) } : undefined;
    const result = {
      when: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg().map(round3) },
      method: {
        note: 'Loopback only. Fake upstream, proxy, nginx (1 worker) and nodeBare (a check-free Node passthrough, for reference) are separate processes; the load generator is this process. Latencies are client-side, keep-alive, one request at a time, targets interleaved in rounds.',
        sequentialRequestsPerTarget: SEQUENTIAL_ROUNDS * SEQUENTIAL_PER_ROUND,
        sseRequestsPerTarget: SEQUENTIAL_ROUNDS * SSE_PER_ROUND,
        throughput: `${THROUGHPUT_CLIENTS} concurrent keep-alive clients, ${THROUGHPUT_SECONDS}s per target, best of 2 rounds`,
        proxyLogLevel: 'info (one log line per request, to a file)',
      },
      smallJsonLatencyMs: latency,
      addedLatencyMs: { proxy: added(latency, 'proxy'), nginx: added(latency, 'nginx'), nodeBare: added(latency, 'nodeBare') },
      sseTimeToFirstByteMs: ttfb,
      addedSseTtfbMs: { proxy: added(ttfb, 'proxy'), nginx: added(ttfb, 'nginx'), nodeBare: added(ttfb, 'nodeBare') },
      requestsPerSecond50Clients: rps,
      proxyVsNginxThroughput: rps.nginx ? round3(rps.proxy! / rps.nginx) : undefined,
      // CPU time the target process(es) spent per request in the throughput run ("direct" = the fake
      // upstream itself). Behind a proxy the fake's own cost is the same, so this is where a gap comes from.
      cpuMicrosecondsPerRequest: cpu,
      rssWithOpenStreams: memory,
      targets: {
        addedP50Below1ms: (added(latency, 'proxy')?.p50 ?? Infinity) < 1,
        throughputAtLeast08xNginx: rps.nginx ? rps.proxy! >= 0.8 * rps.nginx : undefined,
      },
      ...(nginxSkipped ? { nginxSkipped } : {}),
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/proxy.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    clearInterval(heartbeat);
    for (const child of children) child.kill('SIGTERM');
    await sleep(300);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runProxyBench();
  console.log(JSON.stringify(result, null, 2));
}
