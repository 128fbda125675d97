// Opens the service's SQLite file the one way every store uses it: WAL, full sync, foreign keys, the
// schema migrated to the newest version. The progress store and the history store share one file.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.ts';

export function openDatabase(path: string, opts: { busyTimeoutMs?: number | undefined; what: string }): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw new Error(`open ${opts.what} database`, { cause: err });
  }
  return db;
}
