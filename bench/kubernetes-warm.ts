// Benchmark: POST /api/sessions to the program's first output on the terminal socket with the Kubernetes runtime,
// cold (a pod made for the request) vs warm (WARM_SANDBOXES=1: the request claims a pod already
// running its program), through the real service on the fake kube-apiserver with a scripted 5 s
// kubelet start. Rounds are sequential; a warm round waits until the refill is running, so a refill
// never starts during the measurement. Writes bench/results/kubernetes-warm.json.
// Run alone: node --import tsx bench/kubernetes-warm.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { percentile, readyWarm, summary, timeSessionStart, until } from './session-timing.ts';
import { loadConfig } from '../web-terminal/src/config.ts';
import { createKubernetesRuntime } from '../web-terminal/src/runtime/kubernetes/runtime.ts';
import { startService } from '../web-terminal/src/server.ts';
import type { Service } from '../web-terminal/src/server.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../web-terminal/test/fakes/kube-apiserver/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KUBELET_START_MS = 5000;
const COLD_ROUNDS = 4;
const WARM_ROUNDS = 8;
const ROUND_TIMEOUT_MS = 60_000;

/** POST to the program's first output on the socket, in milliseconds. */
const firstByteTime = (service: Service) => timeSessionStart(service, (output) => output.includes('pod-ready'), 'the program\'s first output', ROUND_TIMEOUT_MS);

async function measure(fake: FakeKubeApiserver, warm: boolean): Promise<number[]> {
  const env = {
    HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', LOG_LEVEL: 'silent', RUNTIME: 'kubernetes',
    PROXY_SHARED_SECRET: 'bench-kubernetes-warm-shared-secret-0123456789', SANDBOX_ENTRYPOINT: '',
    SESSION_COMMAND: 'echo pod-ready; exec cat', START_TIMEOUT_SECONDS: '60', K8S_LEASE_DURATION_SECONDS: '60',
    K8S_LEASE_RENEW_SECONDS: '2', MAX_SESSIONS: '3', WARM_SANDBOXES: warm ? '1' : '0', WARM_POOLS: '-',
  };
  const config = loadConfig(env);
  const logger = pino({ level: 'silent' });
  const runtime = createKubernetesRuntime({ config, logger, kubeConfig: fake.kubeConfig(), stopWaitMs: 10_000 });
  const service = await startService(config, { logger, proxyEnv: {}, runtime });
  const samples: number[] = [];
  try {
    for (let i = 0; i < (warm ? WARM_ROUNDS : COLD_ROUNDS); i += 1) {
      if (warm) await until(async () => (await readyWarm(service)) === 1, 'a warm pod running its program', ROUND_TIMEOUT_MS);
      samples.push(await firstByteTime(service));
    }
  } finally {
    await service.close();
  }
  return samples;
}

export async function runKubernetesWarmBench(): Promise<object> {
  const fake = await startFakeKubeApiserver();
  fake.kubelet.behave({ kind: 'normal', startMs: KUBELET_START_MS });
  try {
    console.error('  kubernetes-warm: cold starts');
    const cold = await measure(fake, false);
    console.error('  kubernetes-warm: warm claims');
    const warm = await measure(fake, true);
    const results = {
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      scriptedKubeletStartMs: KUBELET_START_MS,
      cold: { ...summary(cold), oursBeyondKubeletP50Ms: Number((percentile(cold, 50) - KUBELET_START_MS).toFixed(1)) },
      warm: summary(warm),
      p50Speedup: Number((percentile(cold, 50) / percentile(warm, 50)).toFixed(1)),
      target: 'POST to the first byte with a warm pool: p50 < 300 ms; cold stays at the kubelet start + under 50 ms of ours',
    };
    mkdirSync(`${ROOT}/bench/results`, { recursive: true });
    writeFileSync(`${ROOT}/bench/results/kubernetes-warm.json`, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  } finally {
    await fake.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runKubernetesWarmBench().then((r) => console.log(JSON.stringify(r, null, 2)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
