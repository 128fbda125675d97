// What the session-start benchmarks (warm.ts, kubernetes-warm.ts) share: percentiles, a bounded wait, and
// the time from a start to the first output that matches, taken as each frame arrives (no polling delay).
import { WebSocket } from 'ws';
import type { Service } from '../web-terminal/src/server.ts';

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1));
};

export const summary = (samples: number[]) => ({ p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), n: samples.length });

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Milliseconds from `t0` until the socket's terminal output (binary frames) so far satisfies `matches`. */
export function timeToOutput(ws: WebSocket, t0: number, matches: (output: Buffer) => boolean, what: string, timeoutMs: number): Promise<number> {
  const chunks: Buffer[] = [];
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      chunks.push(data as Buffer);
      if (!matches(Buffer.concat(chunks))) return;
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}

/**
 * One session start: POST /api/sessions, open its socket, time until its output satisfies `matches`, then
 * end it. Returns milliseconds from the POST.
 */
export async function timeSessionStart(service: Service, matches: (output: Buffer) => boolean, what: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${service.url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = (await res.json()) as { id: string; wsUrl: string };
  if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(body)}`);
  const ws = new WebSocket(service.url.replace(/^http/, 'ws') + body.wsUrl);
  try {
    return await timeToOutput(ws, t0, matches, what, timeoutMs);
  } finally {
    ws.close();
    await fetch(`${service.url}/api/sessions/${body.id}`, { method: 'DELETE' });
  }
}

/** Warm sandboxes of the service at their prompt (its `webterminal_warm_sandboxes{state="ready"}`). */
export async function readyWarm(service: Service): Promise<number> {
  const text = await service.metrics.registry.getSingleMetricAsString('webterminal_warm_sandboxes');
  return Number(/state="ready"\} (\d+)/.exec(text)?.[1] ?? 0);
}
