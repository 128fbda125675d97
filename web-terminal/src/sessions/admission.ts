// Who may start a session now. Decisions are synchronous, so a burst of parallel requests cannot
// overshoot a limit: a slot is reserved in the same tick the check passes.

export interface AdmissionLimits {
  maxSessions: number;
  maxSessionsPerUser: number;
  createsPerMinute: number;
}

/**
 * A session's slot. The per-user part counts the user's live sessions and is freed as soon as the session
 * reaches its final state (`releaseUser`); the global part bounds sandboxes and is freed once the sandbox
 * is gone (`release`, which frees both). Each part is freed exactly once.
 */
export interface Slot {
  releaseUser: () => void;
  release: () => void;
}

export type AdmissionDecision =
  | ({ ok: true } & Slot)
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
  reserve(userId: string): Slot {
    this.total += 1;
    this.perUser.set(userId, this.activeFor(userId) + 1);
    return this.slot(userId);
  }

  /** Reserves a slot for `userId`, or says why not. */
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
    return { ok: true, ...this.reserve(userId) };
  }

  private slot(userId: string): Slot {
    let userReleased = false;
    let released = false;
    const releaseUser = () => {
      if (userReleased) return;
      userReleased = true;
      const left = this.activeFor(userId) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
    return {
      releaseUser,
      release: () => {
        releaseUser();
        if (released) return;
        released = true;
        this.total -= 1;
      },
    };
  }
}
