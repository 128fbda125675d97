// Warm sandboxes: N per pool (a course and profile), started ahead of demand with the session program
// already running, so a new session only has to claim one. A claim is synchronous (one sandbox goes to
// exactly one session, never back); the pool refills in the background, replaces a warm sandbox whose
// program died, retires old ones, is drained at shutdown, and never lets sandboxes (active sessions plus
// warm ones) exceed the capacity the operator set.
import type { Logger } from 'pino';
import type { Terminal } from '../runtime/types.ts';
import { holdTerminal } from './held-terminal.ts';
import type { HeldTerminal } from './held-terminal.ts';

export interface PoolKey {
  courseId: string | null;
  profile: string;
}

export const poolKeyName = (key: PoolKey): string => `${key.courseId ?? '-'}:${key.profile}`;

/** A warm sandbox handed to a session: its id was fixed when it was made; its terminal may still be starting. */
export interface ClaimedSandbox {
  sessionId: string;
  /** 'warm': its program was at its prompt; 'refill': it was still starting (the session waits for it). */
  how: 'warm' | 'refill';
  terminal: Promise<HeldTerminal>;
}

export interface WarmPoolOptions {
  /** Warm sandboxes kept per pool. */
  perPool: number;
  pools: readonly PoolKey[];
  /** Sandboxes that may exist at once, sessions and warm ones together (MAX_SESSIONS). */
  maxSandboxes: number;
  /** Sessions holding a slot now. */
  activeSessions: () => number;
  /** Starts a sandbox for `key` under a fresh session id; the promise is its terminal. */
  make: (key: PoolKey, signal: AbortSignal) => { sessionId: string; terminal: Promise<Terminal> };
  /** Stops a sandbox; resolves once it is gone. */
  discard: (sessionId: string) => Promise<void>;
  logger: Logger;
  /** Output kept per warm sandbox until it is claimed. */
  keptOutputBytes: number;
  /** A warm sandbox older than this is replaced (its credential must outlive a session started at the end). */
  maxAgeMs: number;
  /** Output quiet for this long after the first byte (and the ready marker) means the program is at its prompt. */
  quietMs?: number;
  /** See HoldOptions.readyMarker. */
  readyMarker?: string | null;
  now?: () => number;
  /** Whether sandboxes may be started now (false: e.g. a standby instance without the Lease); default yes. */
  canStart?: () => boolean;
  onChange?: (counts: { ready: number; starting: number }) => void;
  onClaim?: (how: ClaimedSandbox['how']) => void;
}

interface Entry {
  sessionId: string;
  key: string;
  madeAt: number;
  abort: AbortController;
  held: HeldTerminal | null;
  /** Its program has drawn its screen and waits for input (output went quiet). */
  ready: boolean;
  terminal: Promise<HeldTerminal>;
}

const RETRY_BASE_MS = 1000;
/** A program that has not drawn its prompt by then stays claimable, but is never counted ready. */
const READY_TIMEOUT_MS = 120_000;
const DEFAULT_QUIET_MS = 300;
const RETRY_MAX_MS = 30_000;

export class WarmPool {
  private readonly entries = new Map<string, Entry>();
  private readonly keys: Map<string, PoolKey>;
  private readonly failures = new Map<string, number>();
  private readonly retryAt = new Map<string, number>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly quietMs: number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: WarmPoolOptions) {
    this.now = opts.now ?? Date.now;
    this.quietMs = opts.quietMs ?? DEFAULT_QUIET_MS;
    this.keys = new Map(opts.pools.map((k) => [poolKeyName(k), k]));
  }

  /** Sandboxes the pool holds (ready or starting): they count against `maxSandboxes`. */
  get size(): number {
    return this.entries.size;
  }

  /** Ids of the sandboxes the pool holds: the runtime must not reap them as orphans. */
  sessionIds(): string[] {
    return [...this.entries.keys()];
  }

  counts(): { ready: number; starting: number } {
    let ready = 0;
    for (const entry of this.entries.values()) if (entry.ready && !entry.held?.exited) ready += 1;
    return { ready, starting: this.entries.size - ready };
  }

  start(): void {
    this.fill();
    this.timer ??= setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /**
   * Takes a sandbox of `key` for one session, or null when the pool has none. Synchronous, so two
   * concurrent requests can never take the same one. A running one is preferred over one still starting.
   */
  claim(key: PoolKey): ClaimedSandbox | null {
    if (this.closed) return null;
    const name = poolKeyName(key);
    let best: Entry | null = null;
    for (const entry of this.entries.values()) {
      if (entry.key !== name || entry.held?.exited) continue;
      if (entry.ready) {
        best = entry;
        break;
      }
      best ??= entry;
    }
    if (!best) return null;
    this.entries.delete(best.sessionId);
    const claimed: ClaimedSandbox = { sessionId: best.sessionId, how: best.ready ? 'warm' : 'refill', terminal: best.terminal };
    this.changed();
    this.opts.onClaim?.(claimed.how);
    queueMicrotask(() => this.fill());
    return claimed;
  }

  /**
   * Before a cold start: if sessions and warm sandboxes together fill the capacity, one warm sandbox
   * (another pool's first) is stopped, and this resolves once it is gone.
   */
  async makeRoom(forKey: PoolKey): Promise<void> {
    if (this.opts.activeSessions() + this.entries.size <= this.opts.maxSandboxes) return;
    const name = poolKeyName(forKey);
    const victims = [...this.entries.values()].sort((a, b) => Number(a.key === name) - Number(b.key === name));
    const victim = victims[0];
    if (victim) await this.remove(victim, 'capacity');
  }

  /** Starts what is missing, as far as capacity allows. Safe to call any time (e.g. when a session ends). */
  fill(): void {
    if (this.closed || this.opts.canStart?.() === false) return;
    const hasRoom = () => this.opts.activeSessions() + this.entries.size < this.opts.maxSandboxes;
    for (const [name, key] of this.keys) {
      // A failed start sets retryAt, which also ends this loop.
      while (this.countFor(name) < this.opts.perPool && hasRoom() && (this.retryAt.get(name) ?? 0) <= this.now()) {
        this.makeOne(name, key);
      }
    }
  }

  /** Stops every warm sandbox and refuses further claims; resolves once all are gone. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.entries.values()].map((entry) => this.remove(entry, 'shutdown')));
    await Promise.all([...this.stopping]);
  }

  private countFor(name: string): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.key === name) count += 1;
    return count;
  }

  private makeOne(name: string, key: PoolKey): void {
    const abort = new AbortController();
    let made: { sessionId: string; terminal: Promise<Terminal> };
    try {
      made = this.opts.make(key, abort.signal);
    } catch (err) {
      this.opts.logger.warn({ err, pool: name }, 'could not start a warm sandbox');
      this.backOff(name);
      return;
    }
    const entry: Entry = { sessionId: made.sessionId, key: name, madeAt: this.now(), abort, held: null, ready: false, terminal: null as unknown as Promise<HeldTerminal> };
    entry.terminal = made.terminal.then((terminal) => {
      const held = holdTerminal(terminal, { maxKeptBytes: this.opts.keptOutputBytes, readyMarker: this.opts.readyMarker ?? null, now: this.now });
      entry.held = held;
      held.onUnclaimedExit(() => {
        if (this.entries.get(entry.sessionId) !== entry) return;
        this.opts.logger.warn({ sessionId: entry.sessionId, pool: name }, 'a warm sandbox\'s program exited; replacing it');
        this.backOff(name);
        void this.remove(entry, 'exited').then(() => this.fill());
      });
      void held.whenQuiet(this.quietMs, READY_TIMEOUT_MS).then((quiet) => {
        if (!quiet || this.entries.get(entry.sessionId) !== entry) return;
        entry.ready = true;
        this.failures.delete(name);
        this.changed();
      });
      return held;
    });
    this.entries.set(entry.sessionId, entry);
    this.changed();
    entry.terminal.catch((err: unknown) => {
      if (this.entries.get(entry.sessionId) !== entry) return; // claimed (the session reports it) or removed
      this.entries.delete(entry.sessionId);
      this.changed();
      this.opts.logger.warn({ err, pool: name }, 'could not start a warm sandbox');
      this.backOff(name);
    });
  }

  /** Consecutive failures of a pool delay its next refill (1 s, doubling, at most 30 s). */
  private backOff(name: string): void {
    const failures = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, failures);
    this.retryAt.set(name, this.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1)));
  }

  private remove(entry: Entry, why: string): Promise<void> {
    if (this.entries.get(entry.sessionId) === entry) this.entries.delete(entry.sessionId);
    this.changed();
    entry.abort.abort();
    const stopping = this.opts.discard(entry.sessionId).catch((err: unknown) => {
      this.opts.logger.warn({ err, sessionId: entry.sessionId, why }, 'could not stop a warm sandbox');
    });
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
    return stopping;
  }

  private tick(): void {
    const oldest = this.now() - this.opts.maxAgeMs;
    for (const entry of [...this.entries.values()]) {
      if (entry.madeAt < oldest) void this.remove(entry, 'retired').then(() => this.fill());
    }
    this.fill();
  }

  private changed(): void {
    this.opts.onChange?.(this.counts());
  }
}
