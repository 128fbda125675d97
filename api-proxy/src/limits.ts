// Per-credential limits, all in memory: a token bucket for requests per minute, an in-flight counter,
// and token budgets per session (lifetime of the credential) and per user hash (per UTC day).
import { rejection, type Rejection } from './errors.ts';

export interface LimitSettings {
  rateLimitPerMinute: number;
  maxConcurrentPerCredential: number;
  tokenBudgetPerSession: number;
  tokenBudgetPerUser: number;
}

export interface Caller {
  sessionId: string;
  userHash: string;
  expiresAtMs: number;
}

interface SessionState {
  tokens: number; // bucket level
  refilledAt: number;
  inFlight: number;
  used: number;
  expiresAtMs: number;
  userHash: string;
}

interface UserState {
  used: number;
  day: number;
}

const DAY_MS = 86_400_000;

export type Admission = { ok: true; release: () => void } | { ok: false; rejection: Rejection };

export class CredentialLimits {
  private readonly sessions = new Map<string, SessionState>();
  private readonly users = new Map<string, UserState>();

  constructor(
    private readonly settings: LimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks every limit; on success the caller holds one concurrency slot until `release()`. */
  admit(caller: Caller): Admission {
    const now = this.now();
    const s = this.session(caller, now);
    const { rateLimitPerMinute: rate, maxConcurrentPerCredential: maxInFlight } = this.settings;

    if (this.settings.tokenBudgetPerSession > 0 && s.used >= this.settings.tokenBudgetPerSession) {
      const retry = Math.max(1, (s.expiresAtMs - now) / 1000);
      return deny('session_budget', 'token budget for this session is spent', retry);
    }
    if (this.settings.tokenBudgetPerUser > 0) {
      const u = this.user(caller.userHash, now);
      if (u.used >= this.settings.tokenBudgetPerUser) {
        const retry = ((u.day + 1) * DAY_MS - now) / 1000;
        return deny('user_budget', 'daily token budget for this user is spent', retry);
      }
    }
    if (maxInFlight > 0 && s.inFlight >= maxInFlight) {
      return deny('concurrency', 'too many concurrent requests for this credential', 1, true);
    }
    if (rate > 0) {
      s.tokens = Math.min(rate, s.tokens + ((now - s.refilledAt) * rate) / 60_000);
      s.refilledAt = now;
      if (s.tokens < 1) return deny('rate', 'request rate limit exceeded', ((1 - s.tokens) * 60) / rate, true);
      s.tokens -= 1;
    }
    s.inFlight++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        s.inFlight--;
      },
    };
  }

  /** Adds the tokens a response reported to the session's and the user's totals. */
  recordUsage(caller: Caller, tokens: number): void {
    if (tokens <= 0) return;
    const now = this.now();
    this.session(caller, now).used += tokens;
    if (this.settings.tokenBudgetPerUser > 0) this.user(caller.userHash, now).used += tokens;
  }

  /** Forgets sessions whose credential has expired and is idle, and users from past days. */
  sweep(graceMs = 0): Array<{ sessionId: string; userHash: string }> {
    const now = this.now();
    const today = Math.floor(now / DAY_MS);
    const forgotten: Array<{ sessionId: string; userHash: string }> = [];
    for (const [id, s] of this.sessions) {
      if (s.expiresAtMs + graceMs < now && s.inFlight === 0) {
        this.sessions.delete(id);
        forgotten.push({ sessionId: id, userHash: s.userHash });
      }
    }
    for (const [hash, u] of this.users) if (u.day < today) this.users.delete(hash);
    return forgotten;
  }

  private session(caller: Caller, now: number): SessionState {
    let s = this.sessions.get(caller.sessionId);
    if (!s) {
      s = { tokens: this.settings.rateLimitPerMinute, refilledAt: now, inFlight: 0, used: 0, expiresAtMs: 0, userHash: caller.userHash };
      this.sessions.set(caller.sessionId, s);
    }
    s.expiresAtMs = Math.max(s.expiresAtMs, caller.expiresAtMs);
    return s;
  }

  private user(userHash: string, now: number): UserState {
    const day = Math.floor(now / DAY_MS);
    let u = this.users.get(userHash);
    if (!u || u.day !== day) {
      u = { used: 0, day };
      this.users.set(userHash, u);
    }
    return u;
  }
}

/** Budgets are spent until their period ends (not retryable); rate and concurrency clear in seconds. */
function deny(reason: string, message: string, retryAfterSeconds: number, retryable = false): Admission {
  return { ok: false, rejection: rejection(429, 'rate_limit_error', reason, message, { retryAfterSeconds, retryable }) };
}
