import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openProgressStore } from '../../src/db/progress.ts';
import { LATEST_VERSION, migrate, schemaVersion } from '../../src/db/migrations.ts';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const writerScript = fileURLToPath(new URL('./progress-writer.fixture.ts', import.meta.url));

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'progress-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'nested', 'progress.db');
}

function clock(start = Date.UTC(2026, 0, 2, 3, 4, 5)): { now: () => Date; advance: (ms: number) => void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

test('a new database is migrated from empty to the latest version with the required pragmas', (t) => {
  const path = tempDb(t);
  openProgressStore(path).close();
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  assert.equal(schemaVersion(db), LATEST_VERSION);
  assert.ok(LATEST_VERSION >= 2);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  assert.deepEqual(tables.map((r) => r.name), ['course_progress', 'session_history', 'stage_completions', 'transcripts']);

  // Per-connection pragmas are checked on a store's own connection (synchronous 2 = FULL).
  const store = openProgressStore(path);
  t.after(() => store.close());
  assert.ok(store.isHealthy());
  assert.deepEqual(store.settings(), { journalMode: 'wal', synchronous: 2, foreignKeys: true, schemaVersion: LATEST_VERSION });
});

test('a version 1 database is upgraded and keeps its rows', (t) => {
  const path = tempDb(t);
  openProgressStore(path).close(); // creates the folder
  rmSync(path);
  const v1 = new Database(path);
  assert.equal(migrate(v1, 1), 1);
  v1.prepare("INSERT INTO course_progress VALUES ('u1', 'c1', '2025-05-01T00:00:00.000Z', NULL)").run();
  v1.prepare("INSERT INTO stage_completions VALUES ('u1', 'c1', 1, '2025-05-01T00:01:00.000Z')").run();
  v1.close();

  const store = openProgressStore(path);
  t.after(() => store.close());
  assert.deepEqual(store.getCourseProgress('u1', 'c1'), {
    courseId: 'c1',
    completedStages: [{ stage: 1, completedAt: '2025-05-01T00:01:00.000Z', source: 'marker' }],
    isCourseComplete: false,
    completedAt: null,
  });
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  assert.equal(schemaVersion(db), LATEST_VERSION);
});

test('a database from a newer version is refused, not modified', (t) => {
  const path = tempDb(t);
  openProgressStore(path).close();
  const db = new Database(path);
  db.pragma(`user_version = ${LATEST_VERSION + 1}`);
  db.close();
  assert.throws(() => openProgressStore(path), (err: Error) => /newer than this service/.test(String((err.cause as Error).message)));
});

test('foreign keys are enforced on the store connection', (t) => {
  const path = tempDb(t);
  const store = openProgressStore(path);
  t.after(() => store.close());
  assert.equal(store.settings().foreignKeys, true);
  const db = new Database(path);
  t.after(() => db.close());
  db.pragma('foreign_keys = ON');
  assert.throws(() => db.prepare("INSERT INTO stage_completions VALUES ('u', 'nope', 1, 'x', 'marker')").run(), /FOREIGN KEY/);
});

test('recording a stage twice keeps the first time and source', (t) => {
  const c = clock();
  const store = openProgressStore(tempDb(t), { now: c.now });
  t.after(() => store.close());
  const first = store.recordStageComplete({ userId: 'u1', courseId: 'c1', stage: 2, source: 'answer' });
  assert.deepEqual(first, { stage: 2, completedAt: '2026-01-02T03:04:05.000Z', source: 'answer', newlyCompleted: true });
  c.advance(60_000);
  const second = store.recordStageComplete({ userId: 'u1', courseId: 'c1', stage: 2, source: 'marker' });
  assert.deepEqual(second, { ...first, newlyCompleted: false });
  assert.match(first.completedAt, ISO_UTC);
});

test('course completion is idempotent and progress is per user', (t) => {
  const c = clock();
  const store = openProgressStore(tempDb(t), { now: c.now });
  t.after(() => store.close());
  store.recordStageComplete({ userId: 'u1', courseId: 'b-course', stage: 1, source: 'marker' });
  c.advance(1000);
  store.recordStageComplete({ userId: 'u1', courseId: 'a-course', stage: 3, source: 'marker' });
  store.recordStageComplete({ userId: 'u1', courseId: 'a-course', stage: 1, source: 'answer' });
  const done = store.recordCourseComplete({ userId: 'u1', courseId: 'a-course' });
  assert.equal(done.newlyCompleted, true);
  c.advance(1000);
  assert.deepEqual(store.recordCourseComplete({ userId: 'u1', courseId: 'a-course' }), { ...done, newlyCompleted: false });

  assert.deepEqual(store.getProgress('u1'), [
    {
      courseId: 'a-course',
      completedStages: [
        { stage: 1, completedAt: '2026-01-02T03:04:06.000Z', source: 'answer' },
        { stage: 3, completedAt: '2026-01-02T03:04:06.000Z', source: 'marker' },
      ],
      isCourseComplete: true,
      completedAt: '2026-01-02T03:04:06.000Z',
    },
    { courseId: 'b-course', completedStages: [{ stage: 1, completedAt: '2026-01-02T03:04:05.000Z', source: 'marker' }], isCourseComplete: false, completedAt: null },
  ]);
  assert.deepEqual(store.getProgress('u2'), []);
  assert.deepEqual(store.getCourseProgress('u2', 'a-course'), { courseId: 'a-course', completedStages: [], isCourseComplete: false, completedAt: null });
});

test('bad input is refused before it reaches the database', (t) => {
  const store = openProgressStore(tempDb(t));
  t.after(() => store.close());
  assert.throws(() => store.recordStageComplete({ userId: '', courseId: 'c', stage: 1, source: 'marker' }), TypeError);
  assert.throws(() => store.recordStageComplete({ userId: 'u', courseId: 'c', stage: 0, source: 'marker' }), TypeError);
  assert.throws(() => store.recordStageComplete({ userId: 'u', courseId: 'c', stage: 1.5, source: 'marker' }), TypeError);
  assert.throws(() => store.recordStageComplete({ userId: 'u', courseId: 'c', stage: 1, source: 'guess' as 'marker' }), TypeError);
  assert.throws(() => store.getProgress('x'.repeat(300)), TypeError);
});

interface Ack {
  stage: number;
  completedAt: string;
  newly: boolean;
}

/** Starts a writer child; resolves its acknowledged writes as they come. */
function startWriter(path: string, userId: string, courseId: string, count: number | 'forever') {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, path, userId, courseId, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: Ack[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let onLine: (() => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line !== 'ready') acks.push(JSON.parse(line) as Ack);
    onLine?.();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    acks,
    exited,
    stderr: () => stderr,
    /** Resolves once at least n writes were acknowledged. */
    waitForAcks: (n: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (acks.length >= n ? resolve() : undefined);
        onLine = check;
        void exited.then(() => (acks.length >= n ? resolve() : reject(new Error(`writer exited after ${acks.length} acks: ${stderr}`))));
        check();
      }),
  };
}

test('concurrent writers on separate connections: every completion stored once, first time wins', { timeout: 120_000 }, async (t) => {
  const path = tempDb(t);
  openProgressStore(path).close();
  const writers = Array.from({ length: 4 }, () => startWriter(path, 'shared-user', 'race', 60));
  t.after(() => writers.forEach((w) => w.child.kill('SIGKILL')));
  const codes = await Promise.all(writers.map((w) => w.exited));
  assert.deepEqual(codes, [0, 0, 0, 0], writers.map((w) => w.stderr()).join('\n'));

  const store = openProgressStore(path);
  t.after(() => store.close());
  const stored = store.getCourseProgress('shared-user', 'race').completedStages;
  assert.deepEqual(stored.map((s) => s.stage), Array.from({ length: 60 }, (_, i) => i + 1));
  for (const s of stored) {
    const reports = writers.map((w) => w.acks.find((a) => a.stage === s.stage));
    assert.ok(reports.every((r) => r?.completedAt === s.completedAt), `stage ${s.stage}: every writer read back the first time`);
    assert.equal(reports.filter((r) => r?.newly).length, 1, `stage ${s.stage}: exactly one writer inserted it`);
  }
});

test('a writer killed with SIGKILL mid-stream loses none of the writes it acknowledged', { timeout: 120_000 }, async (t) => {
  const path = tempDb(t);
  const writer = startWriter(path, 'u-kill', 'crash', 'forever');
  t.after(() => writer.child.kill('SIGKILL'));
  await writer.waitForAcks(150);
  writer.child.kill('SIGKILL');
  await writer.exited;
  const acknowledged = [...writer.acks];
  assert.ok(acknowledged.length >= 150);

  const store = openProgressStore(path);
  t.after(() => store.close());
  const stored = new Map(store.getCourseProgress('u-kill', 'crash').completedStages.map((s) => [s.stage, s.completedAt]));
  for (const ack of acknowledged) assert.equal(stored.get(ack.stage), ack.completedAt, `acknowledged stage ${ack.stage} survived`);
  // At most the one write in flight at the kill may be present without an acknowledgement.
  assert.ok(stored.size <= acknowledged.length + 1);
});
