// What the upstream answered a session's requests, as reason codes the learner's page understands
// (web-terminal/public/reasons.js), or null once requests succeed again. Only outcomes the learner
// cannot fix by typing something else are reported; a malformed request says nothing about the API.
import type { UpstreamFailure } from './upstream.ts';

export type UpstreamReason =
  | 'upstream_unauthorized'
  | 'upstream_forbidden'
  | 'upstream_rate_limited'
  | 'upstream_overloaded'
  | 'no_api_key'
  | 'budget_exhausted';

/** The outcome of an upstream answer with `status`; undefined: nothing to report. */
export function outcomeOfStatus(status: number): UpstreamReason | null | undefined {
  if (status < 400) return null;
  if (status === 401) return 'upstream_unauthorized';
  if (status === 403) return 'upstream_forbidden';
  if (status === 429) return 'upstream_rate_limited';
  if (status >= 500) return 'upstream_overloaded'; // 500, 502, 503, 504 and 529 (overloaded)
  return undefined;
}

export function outcomeOfFailure(_kind: UpstreamFailure): UpstreamReason {
  return 'upstream_overloaded'; // timeouts, resets and an unreachable upstream alike
}

/** The proxy's own refusals that the learner should hear about. */
export function outcomeOfRejection(reason: string): UpstreamReason | undefined {
  if (reason === 'not_ready') return 'no_api_key';
  if (reason === 'session_budget' || reason === 'user_budget') return 'budget_exhausted';
  return undefined;
}

const MAX_REMEMBERED = 10_000;

/** The latest outcome per session (standalone proxy: read back by each snapshot push). */
export class OutcomeBook {
  private readonly latest = new Map<string, UpstreamReason | null>();

  record(sessionId: string, reason: UpstreamReason | null): void {
    this.latest.delete(sessionId); // re-insert: the map's order is oldest first
    this.latest.set(sessionId, reason);
    if (this.latest.size > MAX_REMEMBERED) this.latest.delete(this.latest.keys().next().value!);
  }

  /** Outcomes of the given sessions that are known. */
  for(sessionIds: Iterable<string>): Record<string, UpstreamReason | null> {
    const out: Record<string, UpstreamReason | null> = {};
    for (const id of sessionIds) {
      const reason = this.latest.get(id);
      if (reason !== undefined) out[id] = reason;
    }
    return out;
  }

  forget(sessionId: string): void {
    this.latest.delete(sessionId);
  }
}
