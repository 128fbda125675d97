// Which sessions are live. A session credential is accepted only while its session is live: an
// ended session's credential is refused at once, although it is still signed and unexpired.
// Embedded (local mode) the service answers in-process; standalone, each web-terminal instance
// ("source") pushes a snapshot of its live sessions, and a snapshot that is not renewed within its
// ttl counts as empty (fail closed: a web-terminal that stops pushing takes its sessions with it).

export interface LiveSession {
  /** The session owner's hash, as the web-terminal knows it (accounting keys on this). */
  userHash: string;
}

export interface LiveSessions {
  lookup(sessionId: string): LiveSession | undefined;
}

export interface Snapshot {
  source: string;
  sessions: ReadonlyArray<{ id: string; userHash: string }>;
  ttlMs: number;
}

interface SourceState {
  sessions: Map<string, LiveSession>;
  expiresAt: number;
  /** Timestamp of the newest accepted push: an older or equal one is a replay and is refused. */
  lastStamp: number;
}

export const MAX_SOURCES = 64;
/** A push's timestamp may differ from the proxy's clock by at most this much (see control-signature.ts). */
export const STAMP_WINDOW_MS = 30_000;

export class SnapshotStore implements LiveSessions {
  private readonly sources = new Map<string, SourceState>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Replaces `source`'s snapshot. False when `stamp` is not newer than the last accepted one (a replay). */
  accept(snapshot: Snapshot, stamp: number): 'ok' | 'replayed' | 'too_many_sources' {
    const known = this.sources.get(snapshot.source);
    if (known && stamp <= known.lastStamp) return 'replayed';
    if (!known) {
      this.dropExpired();
      if (this.sources.size >= MAX_SOURCES) return 'too_many_sources';
    }
    const sessions = new Map<string, LiveSession>();
    for (const s of snapshot.sessions) sessions.set(s.id, { userHash: s.userHash });
    this.sources.set(snapshot.source, { sessions, expiresAt: this.now() + snapshot.ttlMs, lastStamp: stamp });
    return 'ok';
  }

  lookup(sessionId: string): LiveSession | undefined {
    const now = this.now();
    for (const state of this.sources.values()) {
      if (state.expiresAt <= now) continue;
      const live = state.sessions.get(sessionId);
      if (live) return live;
    }
    return undefined;
  }

  /** Forgets expired snapshots once their replay stamps are outside the timestamp window anyway. */
  private dropExpired(): void {
    const now = this.now();
    for (const [source, state] of this.sources) if (state.expiresAt + STAMP_WINDOW_MS <= now) this.sources.delete(source);
  }
}
