// Create/delete pairs at seeded random delays, shared by the local and Kubernetes stop-race tests.
import assert from 'node:assert/strict';
import type { Service } from '../../src/server.ts';
import { api } from './service.ts';

/** A small seeded generator: the same delays on every run, so a failure can be replayed. */
export function delays(count: number, seed: number, maxMs: number): number[] {
  let state = seed;
  return Array.from({ length: count }, (_, i) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    // Every tenth pair deletes at once, and half of them within 300 ms: the stop races the sandbox being made.
    if (i % 10 === 0) return 0;
    return i % 2 === 0 ? state % Math.min(300, maxMs) : state % maxMs;
  });
}

/** Runs create/delete pairs with bounded concurrency; `check` runs right after each DELETE answered. */
export async function runPairs(service: Service, waits: number[], concurrency: number, check: (id: string) => void): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < waits.length) {
      const wait = waits[next++]!;
      const created = await api(service, 'POST', '/api/sessions', {});
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      ids.push(id);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const deleted = await api(service, 'DELETE', `/api/sessions/${id}`);
      assert.equal(deleted.status, 204);
      check(id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** Room for 8 sessions at once and no create-rate limit: the pairs, not the limits, are under test. */
export const STOP_RACE_LIMITS = { MAX_SESSIONS: '8', MAX_SESSIONS_PER_USER: '8', SESSION_CREATES_PER_MINUTE: '10000' };
