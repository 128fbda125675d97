// Session history and saved Claude Code conversations, in the progress database (its own connection).
// The one storage module for both: rows are keyed by session id and always read through the owner's
// user id, so another user's session answers exactly like one that does not exist.
// Transcript content is learner-controlled bytes: stored as an opaque BLOB, never interpreted here.
import { openDatabase } from './open.ts';

export interface SessionStart {
  sessionId: string;
  userId: string;
  courseId: string | null;
  createdAt: Date;
}

export interface SessionEnd {
  sessionId: string;
  endedAt: Date;
  state: 'ended' | 'failed';
  reason: string;
}

export interface SavedTranscript {
  /** Claude Code's own session id (the `--resume` argument): a UUID. */
  conversationId: string;
  content: Buffer;
  /** True when only the newest part fitted under the size cap. */
  truncated: boolean;
  savedAt: string;
}

export interface HistoryEntry {
  sessionId: string;
  courseId: string | null;
  createdAt: string;
  endedAt: string | null;
  state: string | null;
  reason: string | null;
  /** The saved conversation, without its content. */
  conversation: { bytes: number; truncated: boolean; savedAt: string } | null;
}

export interface HistoryStore {
  recordStart(start: SessionStart): void;
  recordEnd(end: SessionEnd): void;
  /** Marks sessions that never recorded an end (the service stopped under them) as ended, except `liveIds`. */
  closeUnfinished(liveIds: ReadonlySet<string>, at: Date): number;
  /** Saves a session's conversation (replacing the last copy); false when the session has no history row. */
  saveTranscript(sessionId: string, transcript: Omit<SavedTranscript, 'savedAt'>, at: Date): boolean;
  getTranscript(userId: string, sessionId: string): (SavedTranscript & { courseId: string | null }) | undefined;
  deleteTranscript(userId: string, sessionId: string): boolean;
  /** The user's sessions, newest first. */
  list(userId: string, limit: number): HistoryEntry[];
  getEntry(userId: string, sessionId: string): HistoryEntry | undefined;
  /** Drops transcripts saved before `transcriptsBefore` and sessions created before `sessionsBefore`. */
  prune(opts: { transcriptsBefore: Date; sessionsBefore: Date }): { transcripts: number; sessions: number };
  close(): void;
}

export interface HistoryStoreOptions {
  /** Saved conversations kept per user; saving one more drops that user's oldest. */
  transcriptsPerUser: number;
  busyTimeoutMs?: number;
}

interface EntryRow {
  session_id: string;
  course_id: string | null;
  created_at: string;
  ended_at: string | null;
  state: string | null;
  reason: string | null;
  bytes: number | null;
  truncated: number | null;
  saved_at: string | null;
}

const toEntry = (row: EntryRow): HistoryEntry => ({
  sessionId: row.session_id,
  courseId: row.course_id,
  createdAt: row.created_at,
  endedAt: row.ended_at,
  state: row.state,
  reason: row.reason,
  conversation: row.saved_at === null ? null : { bytes: row.bytes ?? 0, truncated: row.truncated === 1, savedAt: row.saved_at },
});

const ENTRY_SELECT = `
  SELECT h.session_id, h.course_id, h.created_at, h.ended_at, h.state, h.reason,
         length(t.content) AS bytes, t.truncated, t.saved_at
  FROM session_history h LEFT JOIN transcripts t ON t.session_id = h.session_id`;

export function openHistoryStore(path: string, options: HistoryStoreOptions): HistoryStore {
  const db = openDatabase(path, { busyTimeoutMs: options.busyTimeoutMs, what: 'history' });

  const insertStart = db.prepare('INSERT INTO session_history (session_id, user_id, course_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
  const updateEnd = db.prepare('UPDATE session_history SET ended_at = ?, state = ?, reason = ? WHERE session_id = ? AND ended_at IS NULL');
  const unfinished = db.prepare<[], { session_id: string }>('SELECT session_id FROM session_history WHERE ended_at IS NULL');
  const ownerOf = db.prepare<[string], { user_id: string }>('SELECT user_id FROM session_history WHERE session_id = ?');
  const upsertTranscript = db.prepare(`
    INSERT INTO transcripts (session_id, conversation_id, content, truncated, saved_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (session_id) DO UPDATE SET conversation_id = excluded.conversation_id, content = excluded.content,
      truncated = excluded.truncated, saved_at = excluded.saved_at`);
  const dropOldestOfUser = db.prepare(`
    DELETE FROM transcripts WHERE session_id IN (
      SELECT t.session_id FROM transcripts t JOIN session_history h ON h.session_id = t.session_id
      WHERE h.user_id = ? ORDER BY t.saved_at DESC LIMIT -1 OFFSET ?)`);
  const readTranscript = db.prepare<[string, string], { conversation_id: string; content: Buffer; truncated: number; saved_at: string; course_id: string | null }>(`
    SELECT t.conversation_id, t.content, t.truncated, t.saved_at, h.course_id
    FROM transcripts t JOIN session_history h ON h.session_id = t.session_id
    WHERE h.user_id = ? AND t.session_id = ?`);
  const removeTranscript = db.prepare('DELETE FROM transcripts WHERE session_id = (SELECT session_id FROM session_history WHERE user_id = ? AND session_id = ?)');
  const listEntries = db.prepare<[string, number], EntryRow>(`${ENTRY_SELECT} WHERE h.user_id = ? ORDER BY h.created_at DESC LIMIT ?`);
  const readEntry = db.prepare<[string, string], EntryRow>(`${ENTRY_SELECT} WHERE h.user_id = ? AND h.session_id = ?`);
  const pruneTranscripts = db.prepare('DELETE FROM transcripts WHERE saved_at < ?');
  const pruneSessions = db.prepare('DELETE FROM session_history WHERE created_at < ? AND ended_at IS NOT NULL');

  const save = db.transaction((sessionId: string, t: Omit<SavedTranscript, 'savedAt'>, at: Date): boolean => {
    const owner = ownerOf.get(sessionId);
    if (!owner) return false;
    upsertTranscript.run(sessionId, t.conversationId, t.content, t.truncated ? 1 : 0, at.toISOString());
    dropOldestOfUser.run(owner.user_id, options.transcriptsPerUser);
    return true;
  });

  const closeAll = db.transaction((liveIds: ReadonlySet<string>, at: Date): number => {
    let closed = 0;
    for (const { session_id } of unfinished.all()) {
      if (liveIds.has(session_id)) continue;
      closed += updateEnd.run(at.toISOString(), 'ended', 'service_restarted', session_id).changes;
    }
    return closed;
  });

  return {
    recordStart({ sessionId, userId, courseId, createdAt }) {
      insertStart.run(sessionId, userId, courseId, createdAt.toISOString());
    },
    recordEnd({ sessionId, endedAt, state, reason }) {
      updateEnd.run(endedAt.toISOString(), state, reason, sessionId);
    },
    closeUnfinished: (liveIds, at) => closeAll.immediate(liveIds, at),
    saveTranscript: (sessionId, transcript, at) => save.immediate(sessionId, transcript, at),
    getTranscript(userId, sessionId) {
      const row = readTranscript.get(userId, sessionId);
      if (!row) return undefined;
      return { conversationId: row.conversation_id, content: row.content, truncated: row.truncated === 1, savedAt: row.saved_at, courseId: row.course_id };
    },
    deleteTranscript: (userId, sessionId) => removeTranscript.run(userId, sessionId).changes > 0,
    list: (userId, limit) => listEntries.all(userId, limit).map(toEntry),
    getEntry(userId, sessionId) {
      const row = readEntry.get(userId, sessionId);
      return row && toEntry(row);
    },
    prune({ transcriptsBefore, sessionsBefore }) {
      const transcripts = pruneTranscripts.run(transcriptsBefore.toISOString()).changes;
      const sessions = pruneSessions.run(sessionsBefore.toISOString()).changes;
      return { transcripts, sessions };
    },
    close() {
      if (db.open) db.close();
    },
  };
}
