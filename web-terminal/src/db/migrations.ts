// Versioned schema of the progress database. PRAGMA user_version holds the number of migrations applied.
// Append new migrations at the end; never edit one that has shipped.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'course progress and stage completions',
    sql: `
      CREATE TABLE course_progress (
        user_id      TEXT NOT NULL,
        course_id    TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        completed_at TEXT,
        PRIMARY KEY (user_id, course_id)
      ) WITHOUT ROWID;
      CREATE TABLE stage_completions (
        user_id      TEXT NOT NULL,
        course_id    TEXT NOT NULL,
        stage        INTEGER NOT NULL CHECK (stage >= 1),
        completed_at TEXT NOT NULL,
        PRIMARY KEY (user_id, course_id, stage),
        FOREIGN KEY (user_id, course_id) REFERENCES course_progress (user_id, course_id) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'how each stage was completed (marker or verified answer)',
    sql: `
      ALTER TABLE stage_completions ADD COLUMN source TEXT NOT NULL DEFAULT 'marker' CHECK (source IN ('marker', 'answer'));
    `,
  },
  {
    version: 3,
    description: 'session history and saved Claude Code conversations',
    sql: `
      CREATE TABLE session_history (
        session_id TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL,
        course_id  TEXT,
        created_at TEXT NOT NULL,
        ended_at   TEXT,
        state      TEXT,
        reason     TEXT
      ) WITHOUT ROWID;
      CREATE INDEX session_history_by_user ON session_history (user_id, created_at);
      CREATE TABLE transcripts (
        session_id      TEXT PRIMARY KEY REFERENCES session_history (session_id) ON DELETE CASCADE,
        conversation_id TEXT NOT NULL,
        content         BLOB NOT NULL,
        truncated       INTEGER NOT NULL DEFAULT 0,
        saved_at        TEXT NOT NULL
      );
    `,
  },
]);

export const LATEST_VERSION = migrations.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema to `target` (default: latest), one transaction per migration, so a crash leaves the
 * database at a known version. Refuses a database newer than this code.
 */
export function migrate(db: Database.Database, target: number = LATEST_VERSION): number {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new Error(`progress database is at schema version ${current}, newer than this service (${LATEST_VERSION})`);
  }
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}
