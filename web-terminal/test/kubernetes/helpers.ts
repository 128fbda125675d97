// Shared set-up of the Kubernetes runtime tests: the fake apiserver, a runtime on it, session specs,
// and a terminal reader that waits for output instead of sleeping.
import pino from 'pino';
import type { SandboxSpec, StartProgress, Terminal, TerminalExit } from '../../src/runtime/types.ts';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';
import { createKubernetesRuntime, type KubernetesRuntime, type KubernetesRuntimeOptions } from '../../src/runtime/kubernetes/runtime.ts';
import { freePort, startMain } from '../../../api-proxy/test/main-process.ts';
import { loadConfig } from '../../src/config.ts';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver, type FakeKubeApiserverOptions } from '../fakes/kube-apiserver/index.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestService } from '../helpers/service.ts';
import type { Browser } from 'playwright-core';

export const silentLogger = pino({ level: 'silent' });

/** The real standalone api-proxy (its main, as a process) in front of `upstreamUrl`, as in a cluster. */
export async function startProxyProcess(
  upstreamUrl: string, secret: string, realKey: string, env: Record<string, string> = {},
): Promise<{ url: string; controlUrl: string; stop(): void }> {
  const [port, controlPort] = [await freePort(), await freePort()];
  const { child } = await startMain({
    PORT: String(port), METRICS_PORT: String(controlPort), UPSTREAM_URL: upstreamUrl, ANTHROPIC_API_KEY: realKey, PROXY_SHARED_SECRET: secret, ...env,
  });
  return { url: `http://127.0.0.1:${port}`, controlUrl: `http://127.0.0.1:${controlPort}`, stop: () => child.kill('SIGKILL') };
}

/** Calls until the api-proxy refuses (401); the refusal, or undefined when it still served after `withinMs`. */
export async function refusalWithin<T extends { status: number }>(call: () => Promise<T>, withinMs: number): Promise<T | undefined> {
  const since = Date.now();
  while (Date.now() - since < withinMs) {
    const answer = await call();
    if (answer.status === 401) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** The real service with the Kubernetes runtime on the fake kube-apiserver (real client-node over HTTP). */
export function startServiceOnFake(fake: FakeKubeApiserver, env: Record<string, string>): Promise<Service> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', LOG_LEVEL: 'silent', ...env });
  const runtime = createKubernetesRuntime({ config, logger: silentLogger, kubeConfig: fake.kubeConfig(), stopWaitMs: 10_000 });
  return startTestService(env, { runtime });
}

let counter = 0;
export function makeSpec(overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  counter += 1;
  const createdAt = new Date();
  return {
    sessionId: `s${process.pid}x${counter}`,
    userHash: 'a'.repeat(64),
    credential: 'cc-session-credential',
    command: ['/bin/sh', '-c', 'echo ready; exec cat'],
    env: {},
    course: null,
    profile: 'default',
    cols: 80,
    rows: 24,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 3600_000),
    ...overrides,
  };
}

export interface Harness {
  fake: FakeKubeApiserver;
  runtime: KubernetesRuntime;
  close(): Promise<void>;
}

export async function startHarness(
  env: Record<string, string> = {},
  runtimeOpts: Partial<KubernetesRuntimeOptions> = {},
  fakeOpts: FakeKubeApiserverOptions = {},
): Promise<Harness> {
  const fake = await startFakeKubeApiserver(fakeOpts);
  // A long Lease: on two busy cores a renewal can be late, and a late holder rightly steps down.
  const config = loadKubernetesConfig({
    SANDBOX_ENTRYPOINT: '', K8S_API_TIMEOUT_SECONDS: '3', START_TIMEOUT_SECONDS: '20', K8S_LEASE_DURATION_SECONDS: '60', K8S_LEASE_RENEW_SECONDS: '2', ...env,
  });
  const runtime = createKubernetesRuntime({ config, logger: silentLogger, kubeConfig: fake.kubeConfig(), stopWaitMs: 10_000, ...runtimeOpts });
  await runtime.startController({ onActive: async () => undefined }); // the only instance: it gets the Lease at once
  return {
    fake,
    runtime,
    async close() {
      await runtime.close();
      await fake.close();
    },
  };
}

export const startOpts = (progress: StartProgress[] = [], signal = new AbortController().signal) => ({
  signal,
  onProgress: (p: StartProgress) => { progress.push(p); },
});

/** Collects a terminal's output and exit; `waitFor` resolves once the output matches. */
export class TerminalReader {
  output = '';
  exit: TerminalExit | null = null;
  private waiters: (() => void)[] = [];
  constructor(readonly terminal: Terminal) {
    terminal.onData((chunk) => { this.output += chunk.toString('utf8'); this.wake(); });
    terminal.onExit((exit) => { this.exit = exit; this.wake(); });
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  async until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far: ${JSON.stringify(this.output.slice(-500))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void> {
    const test = () => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output));
    return this.until(test, `output ${String(pattern)}`, timeoutMs);
  }
  waitExit(timeoutMs?: number): Promise<TerminalExit> {
    return this.until(() => this.exit !== null, 'exit', timeoutMs).then(() => this.exit as TerminalExit);
  }
}

/** Polls `check` until true (conditions, not sleeps). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A fresh fake cluster, the real service on it (Kubernetes runtime, sessions running a shell in the pod)
 * and Chromium, for one test; all stopped afterwards. `env` adds to or overrides the service's settings.
 */
export async function withPageOnFake(
  env: Record<string, string>,
  body: (fake: FakeKubeApiserver, service: Service, browser: Browser) => Promise<void>,
): Promise<void> {
  const fake = await startFakeKubeApiserver();
  let service: Service | null = null;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
  try {
    service = await startServiceOnFake(fake, {
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: 'kubernetes-page-test-shared-secret-0123456789', SANDBOX_ENTRYPOINT: '',
      K8S_API_TIMEOUT_SECONDS: '5', START_TIMEOUT_SECONDS: '60', SESSION_COMMAND: 'echo pod-ready; exec bash --norc --noprofile -i', ...env,
    });
    browser = await launchBrowser();
    await body(fake, service, browser.browser);
  } finally {
    await browser?.close();
    await service?.close();
    await fake.close();
  }
}
