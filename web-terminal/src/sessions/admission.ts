// Who may start a session now. Decisions are synchronous, so a burst of parallel requests cannot
// overshoot a limit: a slot is reserved in the same tick the check passes.

export interface AdmissionLimits {
  maxSessions: number;
  maxSessionsPerUser: number;
  createsPerMinute: number;
}

export type AdmissionDecision =
  | { ok: true; release: () => void }
  | { ok: false; reason: 'session_limit' | 'user_session_limit' | 'rate_limited'; retryAfterSeconds: number };

export class Admission {
  private total = 0;
  private readonly perUser = new Map<string, number>();
  private readonly recentCreates = new Map<string, number[]>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): number {
    return this.total;
  }

  activeFor(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /** Takes a slot without checking limits: for sessions that already exist (adopted after a restart). */
  reserve(userId: string): () => void {
    this.total += 1;
    this.perUser.set(userId, this.activeFor(userId) + 1);
    return this.releaser(userId);
  }

  /** Reserves a slot for `userId`, or says why not. `release` frees it exactly once. */
  tryAdmit(userId: string): AdmissionDecision {
    const now = this.now();
    const windowStart = now - 60_000;
    const recent = (this.recentCreates.get(userId) ?? []).filter((t) => t > windowStart);
    if (recent.length >= this.limits.createsPerMinute) {
      this.recentCreates.set(userId, recent);
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.ceil((recent[0]! - windowStart) / 1000) };
    }
    if (this.total >= this.limits.maxSessions) {
      return { ok: false, reason: 'session_limit', retryAfterSeconds: 30 };
    }
    if (this.activeFor(userId) >= this.limits.maxSessionsPerUser) {
      return { ok: false, reason: 'user_session_limit', retryAfterSeconds: 30 };
    }
    recent.push(now);
    this.recentCreates.set(userId, recent);
    return { ok: true, release: this.reserve(userId) };
  }

  private releaser(userId: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = this.activeFor(userId) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
  }
}
