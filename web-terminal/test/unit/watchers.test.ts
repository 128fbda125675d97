// Watchers of a session, at the session's own seam: they get the screen, the owner is told who watches,
// a backed-up watcher is skipped (the program never pauses for it) and catches up with a fresh screen.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionManager } from '../../src/sessions/manager.ts';
import { WATCHER_RESYNC_MS } from '../../src/sessions/session.ts';
import type { Viewer } from '../../src/sessions/viewer.ts';
import type { Identity } from '../../src/types.ts';
import { FakeRuntime } from '../helpers/fake-runtime.ts';
import { managerOptions } from '../helpers/manager-options.ts';
import { waitUntil } from '../helpers/processes.ts';

const learner: Identity = { userId: 'learner', displayName: 'Lea Learner', isAdmin: false };
const other: Identity = { userId: 'other', displayName: 'Other', isAdmin: false };
const instructor: Identity = { userId: 'teach', displayName: 'Ines Instructor', isAdmin: false, isInstructor: true };
const admin: Identity = { userId: 'root', displayName: 'Admin', isAdmin: true };
const tick = () => new Promise((r) => setImmediate(r));

async function setup() {
  const runtime = new FakeRuntime();
  const manager = new SessionManager(managerOptions(runtime, { screen: { restore: true, scrollbackLines: 100, rawBytes: 1024 } }));
  const session = manager.create(learner, {});
  await tick();
  return { manager, session, terminal: runtime.terminals.get(session.id)! };
}

/** A viewer that records everything; `backedUp` makes sendData report a full socket. */
function recordingViewer() {
  const rec = {
    controls: [] as Array<Record<string, unknown>>,
    closes: [] as Array<[number, string]>,
    data: [] as Buffer[],
    backedUp: false,
    drainListeners: [] as Array<() => void>,
    text: () => Buffer.concat(rec.data).toString(),
    drain: () => {
      rec.backedUp = false;
      for (const l of rec.drainListeners.splice(0)) l();
    },
  };
  const viewer: Viewer = {
    sendData: (chunk) => {
      rec.data.push(chunk);
      return !rec.backedUp;
    },
    onceDrained: (listener) => rec.drainListeners.push(listener),
    sendControl: (m) => rec.controls.push(m as Record<string, unknown>),
    close: (code, reason) => rec.closes.push([code, reason]),
    resumeInput: () => undefined,
  };
  return { viewer, rec };
}

const watchersMessages = (controls: Array<Record<string, unknown>>) => controls.filter((c) => c.type === 'watchers').map((c) => c.names);

describe('watching a session', () => {
  it('only instructors and administrators find a session to watch', async () => {
    const { manager, session } = await setup();
    assert.equal(manager.getForWatching(other, session.id), undefined);
    assert.equal(manager.getForWatching(learner, session.id), undefined, 'owning a session is not a role');
    assert.equal(manager.getForWatching(instructor, session.id), session);
    assert.equal(manager.getForWatching(admin, session.id), session);
  });

  it('a watcher gets the size and the exact screen, then live output; the owner is told who watches', async () => {
    const { session, terminal } = await setup();
    const owner = recordingViewer();
    session.attach(owner.viewer);
    assert.deepEqual(watchersMessages(owner.rec.controls), [[]], 'the owner learns on attach that nobody watches');
    session.resize(100, 30);
    terminal.emitData('\x1b[1;32mgreen prompt\x1b[0m $ ');

    const first = recordingViewer();
    session.watch(first.viewer, instructor.displayName);
    assert.deepEqual(first.rec.controls.find((c) => c.type === 'size'), { type: 'size', cols: 100, rows: 30 });
    assert.ok(first.rec.text().startsWith('\x1bc'), 'the screen starts with a full reset');
    assert.match(first.rec.text(), /green prompt/);
    assert.ok(first.rec.text().includes('\x1b[32;1mgreen prompt') || first.rec.text().includes('\x1b[1;32mgreen prompt'), 'in its colours');
    const second = recordingViewer();
    session.watch(second.viewer, 'Ada Admin');
    const third = recordingViewer();
    session.watch(third.viewer, instructor.displayName); // a second tab of the same instructor
    assert.deepEqual(watchersMessages(owner.rec.controls).at(-1), ['Ada Admin', 'Ines Instructor']);

    terminal.emitData('live line');
    assert.match(first.rec.text(), /live line$/);
    assert.match(owner.rec.text(), /live line$/);
    session.resize(90, 20);
    assert.deepEqual(first.rec.controls.at(-1), { type: 'size', cols: 90, rows: 20 });

    session.unwatch(second.viewer);
    assert.deepEqual(watchersMessages(owner.rec.controls).at(-1), ['Ines Instructor']);
    session.unwatch(first.viewer);
    session.unwatch(third.viewer);
    assert.deepEqual(watchersMessages(owner.rec.controls).at(-1), []);

    // A new owner socket (a reload) hears at once who watches.
    const watcher = recordingViewer();
    session.watch(watcher.viewer, instructor.displayName);
    const reloaded = recordingViewer();
    session.attach(reloaded.viewer);
    assert.deepEqual(watchersMessages(reloaded.rec.controls), [['Ines Instructor']]);
  });

  it('a backed-up watcher never pauses the program; it is skipped, then catches up with a fresh screen', { timeout: 10_000 }, async () => {
    const { session, terminal } = await setup();
    const owner = recordingViewer();
    session.attach(owner.viewer);
    const slow = recordingViewer();
    session.watch(slow.viewer, instructor.displayName);
    slow.rec.backedUp = true;
    terminal.emitData('first chunk');
    const sentWhileBackedUp = slow.rec.data.length;
    for (let i = 0; i < 50; i += 1) terminal.emitData(`chunk ${i}\r\n`);
    assert.equal(slow.rec.data.length, sentWhileBackedUp, 'nothing more is queued for a backed-up watcher');
    assert.equal(terminal.paused, false, 'the program is never paused for a watcher');
    assert.match(owner.rec.text(), /chunk 49/, 'the owner got everything');

    const started = Date.now();
    slow.rec.drain();
    await waitUntil(() => slow.rec.data.length > sentWhileBackedUp, WATCHER_RESYNC_MS + 5000, 'a fresh screen');
    const fresh = slow.rec.data.at(-1)!.toString();
    assert.ok(fresh.startsWith('\x1bc') && fresh.includes('chunk 49'), 'the fresh screen holds what was skipped');
    assert.ok(Date.now() - started <= WATCHER_RESYNC_MS + 1000);
    terminal.emitData('after catching up');
    assert.match(slow.rec.text(), /after catching up$/, 'live again');
  });

  it('an ending session closes its watchers with the exit message', async () => {
    const { manager, session } = await setup();
    const watcher = recordingViewer();
    session.watch(watcher.viewer, instructor.displayName);
    await manager.end(session.id, 'deleted');
    assert.ok(watcher.rec.controls.some((c) => c.type === 'exit' && c.reason === 'deleted'));
    assert.deepEqual(watcher.rec.closes, [[1000, 'session ended']]);
    assert.equal(session.watcherCount, 0);
  });
});
