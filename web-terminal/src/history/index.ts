// Session history and saved conversations, wired as one unit: the store, the recorder, retention.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openHistoryStore } from '../db/history.ts';
import type { HistoryStore } from '../db/history.ts';
import type { ConversationTranscript, SessionRuntime } from '../runtime/types.ts';
import type { SessionManager } from '../sessions/manager.ts';
import { recordSessionHistory } from './recorder.ts';

const DAY_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

export interface History {
  store: HistoryStore;
  /** For SessionManager's `findConversation`: the caller's saved conversation of an earlier session. */
  findConversation(userId: string, sessionId: string): { courseId: string | null; transcript: ConversationTranscript } | undefined;
  /** Starts recording the manager's sessions and pruning by the retention settings. */
  start(deps: { manager: SessionManager; runtime: SessionRuntime; logger: Logger }): void;
  /** After start-up (and adoption): sessions the history still shows as running but nothing runs are closed. */
  closeUnfinished(liveIds: Iterable<string>): void;
  close(): void;
}

type HistoryConfig = Pick<Config, 'DB_PATH' | 'TRANSCRIPT_MAX_BYTES' | 'TRANSCRIPT_SAVE_INTERVAL_SECONDS' | 'TRANSCRIPT_RETENTION_DAYS' | 'TRANSCRIPTS_PER_USER' | 'HISTORY_RETENTION_DAYS'>;

export function openHistory(config: HistoryConfig, opts: { now?: () => Date } = {}): History {
  const now = opts.now ?? (() => new Date());
  const store = openHistoryStore(config.DB_PATH, { transcriptsPerUser: config.TRANSCRIPTS_PER_USER });
  let recorder: { close(): void } | null = null;
  let pruneTimer: NodeJS.Timeout | null = null;
  let log: Logger | null = null;

  const prune = () => {
    try {
      const at = now().getTime();
      const removed = store.prune({
        transcriptsBefore: new Date(at - config.TRANSCRIPT_RETENTION_DAYS * DAY_MS),
        sessionsBefore: new Date(at - config.HISTORY_RETENTION_DAYS * DAY_MS),
      });
      if (removed.transcripts || removed.sessions) log?.info(removed, 'pruned old history');
    } catch (err) {
      log?.warn({ err }, 'pruning the history failed');
    }
  };

  return {
    store,
    findConversation(userId, sessionId) {
      const saved = store.getTranscript(userId, sessionId);
      if (!saved) return undefined;
      return { courseId: saved.courseId, transcript: { conversationId: saved.conversationId, content: saved.content, truncated: saved.truncated } };
    },
    start({ manager, runtime, logger }) {
      log = logger;
      recorder = recordSessionHistory({
        manager, runtime, store, logger, now,
        maxBytes: config.TRANSCRIPT_MAX_BYTES,
        intervalMs: config.TRANSCRIPT_SAVE_INTERVAL_SECONDS * 1000,
      });
      prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    closeUnfinished(liveIds) {
      try {
        store.closeUnfinished(new Set(liveIds), now());
      } catch (err) {
        log?.warn({ err }, 'closing unfinished history records failed');
      }
    },
    close() {
      recorder?.close();
      if (pruneTimer) clearInterval(pruneTimer);
      store.close();
    },
  };
}
