// Configuration of session history and saved conversations. Composed into the service config.
import { intVar } from '../config/env.ts';

export const historyConfigShape = {
  TRANSCRIPT_MAX_BYTES: intVar(8 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024)
    .describe('Largest Claude Code conversation saved per session (bytes); beyond it only the newest part is kept.'),
  TRANSCRIPT_SAVE_INTERVAL_SECONDS: intVar(30, 1, 3600)
    .describe('How often a running session\'s conversation is saved when its terminal has printed something since the last save (it is also saved when the session ends).'),
  TRANSCRIPT_RETENTION_DAYS: intVar(30, 1, 3650).describe('Saved conversations older than this are deleted.'),
  TRANSCRIPTS_PER_USER: intVar(50, 1, 10_000).describe('Saved conversations kept per user; saving another drops that user\'s oldest.'),
  HISTORY_RETENTION_DAYS: intVar(365, 1, 3650).describe('Session history records (course, times, outcome) older than this are deleted, with their conversation.'),
};
