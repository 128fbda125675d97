// Records every session in the history, and saves its Claude Code conversation: while it runs (every
// interval, when the terminal printed something since the last save) and once more when it ends, by any
// path, before the sandbox is stopped. When the sandbox is already gone, the last saved copy stands.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { HistoryStore } from '../db/history.ts';
import type { SessionRuntime } from '../runtime/types.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Session } from '../sessions/session.ts';

export interface RecorderOptions {
  manager: SessionManager;
  runtime: SessionRuntime;
  store: HistoryStore;
  logger: Logger;
  maxBytes: number;
  intervalMs: number;
  now?: () => Date;
}

/**
 * Claude Code writes a turn to its transcript about a second after showing it: the save at the end waits
 * until the terminal has been quiet this long (at most this long), so ending right after an answer keeps it.
 */
const SETTLE_MS = 2000;

interface Tracked {
  dirty: boolean;
  lastOutputAt: number;
  timer: NodeJS.Timeout | null;
  lastDigest: string | null;
  /** The capture in flight, if any: captures of one session never overlap. */
  saving: Promise<void>;
}

export function recordSessionHistory(opts: RecorderOptions): { close(): void } {
  const { manager, runtime, store, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const tracked = new Map<string, Tracked>();
  /** Sessions between their ending and ended notifications. */
  const lastState = new Map<string, Tracked>();

  const capture = async (session: Session, t: Tracked): Promise<void> => {
    if (!runtime.readTranscript) return;
    t.dirty = false;
    const transcript = await runtime.readTranscript(session.id, opts.maxBytes);
    if (!transcript || transcript.content.length === 0) return;
    const digest = createHash('sha256').update(transcript.conversationId).update(transcript.content).digest('hex');
    if (digest === t.lastDigest) return;
    try {
      if (store.saveTranscript(session.id, transcript, now())) t.lastDigest = digest;
    } catch (err) {
      logger.warn({ err, sessionId: session.id }, 'saving the conversation failed');
    }
  };
  const queueCapture = (session: Session, t: Tracked) => {
    t.saving = t.saving.then(() => capture(session, t));
    return t.saving;
  };

  manager.onSessionCreated((session) => {
    try {
      // Adopted sessions (after a restart) have no owner id yet: their history row exists from before.
      if (session.ownerId) store.recordStart({ sessionId: session.id, userId: session.ownerId, courseId: session.courseId, createdAt: session.createdAt });
    } catch (err) {
      logger.warn({ err, sessionId: session.id }, 'recording the session in the history failed');
    }
    if (!runtime.readTranscript) return;
    const t: Tracked = { dirty: false, lastOutputAt: 0, timer: null, lastDigest: null, saving: Promise.resolve() };
    tracked.set(session.id, t);
    session.onOutput(() => {
      t.dirty = true;
      t.lastOutputAt = Date.now();
    });
    t.timer = setInterval(() => {
      if (t.dirty && session.state === 'running') void queueCapture(session, t);
    }, opts.intervalMs);
    t.timer.unref();
  });

  manager.onSessionEnding(async (session) => {
    const t = tracked.get(session.id);
    tracked.delete(session.id);
    if (t) {
      if (t.timer) clearInterval(t.timer);
      lastState.set(session.id, t);
      const settle = Math.min(SETTLE_MS, t.lastOutputAt + SETTLE_MS - Date.now());
      if (settle > 0) await new Promise((resolveSettle) => setTimeout(resolveSettle, settle));
      await queueCapture(session, t);
    }
  });

  // After the sandbox stopped: what the program wrote as it was hung up (where the runtime still sees it).
  manager.onSessionEnded(async (session) => {
    const t = lastState.get(session.id);
    lastState.delete(session.id);
    if (t) await queueCapture(session, t);
    try {
      store.recordEnd({ sessionId: session.id, endedAt: now(), state: session.state === 'failed' ? 'failed' : 'ended', reason: session.reason ?? 'ended' });
    } catch (err) {
      logger.warn({ err, sessionId: session.id }, 'recording the end of the session failed');
    }
  });

  return {
    close() {
      for (const t of tracked.values()) if (t.timer) clearInterval(t.timer);
      tracked.clear();
      lastState.clear();
    },
  };
}
