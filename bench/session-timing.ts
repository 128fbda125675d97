// What the session-start benchmarks (warm.ts, kubernetes-warm.ts) share: percentiles, a bounded wait, and
// the time from a start to the first output that matches, taken as each frame arrives (no polling delay).
import type { WebSocket } from 'ws';

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
