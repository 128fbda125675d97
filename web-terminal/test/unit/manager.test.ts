import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/http/errors.ts';
import { makeUserHasher } from '../../src/sessions/ids.ts';
import { SessionManager } from '../../src/sessions/manager.ts';
import type { SessionManagerOptions } from '../../src/sessions/manager.ts';
import type { Viewer } from '../../src/sessions/viewer.ts';
import type { Identity } from '../../src/types.ts';
import { FakeRuntime } from '../helpers/fake-runtime.ts';
import { managerOptions } from '../helpers/manager-options.ts';

const alice: Identity = { userId: 'alice', displayName: 'Alice', isAdmin: false };
const bob: Identity = { userId: 'bob', displayName: 'Bob', isAdmin: false };
const admin: Identity = { userId: 'root', displayName: 'Admin', isAdmin: true };
const tick = () => new Promise((r) => setImmediate(r));

function setup(overrides: Partial<SessionManagerOptions> = {}) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const runtime = new FakeRuntime();
  const manager = new SessionManager(managerOptions(runtime, { now: () => now, ...overrides }));
  return { manager, runtime, advance: (ms: number) => { now += ms; } };
}

function recordingViewer() {
  const controls: Array<Record<string, unknown>> = [];
  const closes: Array<[number, string]> = [];
  const data: Buffer[] = [];
  const viewer: Viewer = {
    sendData: (chunk) => { data.push(chunk); return true; },
    onceDrained: (listener) => listener(),
    sendControl: (m) => controls.push(m as Record<string, unknown>),
    close: (code, reason) => closes.push([code, reason]),
    resumeInput: () => undefined,
  };
  return { viewer, controls, closes, data };
}

describe('session manager', () => {
  it('moves starting -> running and gives the runtime a spec with no user identity in it', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    assert.equal(session.state, 'starting');
    await tick();
    assert.equal(session.state, 'running');
    const spec = runtime.started[0]!;
    assert.equal(spec.credential, `cred-${session.id}`);
    assert.ok(!JSON.stringify(spec).includes('alice'));
    assert.equal(spec.userHash, makeUserHasher('test-secret')('alice'));
  });

  it('hides other users\' sessions; admins may end them but not attach to them', async () => {
    const { manager } = setup();
    const session = manager.create(alice, {});
    assert.equal(manager.get(bob, session.id), undefined);
    assert.equal(manager.getForEnding(bob, session.id), undefined);
    assert.equal(manager.get(admin, session.id), undefined, 'get() is what attach, answers and reads use');
    assert.equal(manager.getForEnding(admin, session.id), session);
    assert.deepEqual(manager.list(bob), []);
    assert.equal(manager.list(alice).length, 1);
  });

  it('fails a session whose sandbox cannot start, names the reason and frees the slot', async () => {
    const { manager, runtime } = setup();
    runtime.failNext = 'image_pull_failed';
    const session = manager.create(alice, {});
    await tick();
    await tick();
    assert.equal(session.state, 'failed');
    assert.equal(session.reason, 'image_pull_failed');
    assert.deepEqual(runtime.stopped, [session.id], 'a failed start still releases the sandbox');
    assert.equal(manager.activeCount, 0);
  });

  it('ends the session when the program exits, with its code, and stops the sandbox', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    await tick();
    const { viewer, controls, closes } = recordingViewer();
    session.attach(viewer);
    runtime.terminals.get(session.id)!.exit({ code: 3 });
    await tick();
    assert.equal(session.state, 'ended');
    assert.deepEqual(controls.at(-1), { type: 'exit', code: 3, reason: 'exited' });
    assert.deepEqual(closes, [[1000, 'session ended']]);
    assert.deepEqual(runtime.stopped, [session.id]);
  });

  it('frees the user\'s slot as the session ends, and the global one only once its sandbox is gone', async () => {
    const { manager, runtime } = setup({ limits: { maxSessions: 2, maxSessionsPerUser: 1, createsPerMinute: 100 } });
    let finishSaving = () => undefined as void;
    manager.onSessionEnding(() => new Promise<void>((r) => { finishSaving = r; }));
    const first = manager.create(alice, {});
    await tick();
    const ending = manager.end(first.id, 'deleted');
    assert.equal(first.state, 'ended');
    assert.deepEqual(runtime.stopped, [], 'the sandbox is still being read');
    const second = manager.create(alice, {}); // ended is ended: the learner may start again at once
    assert.equal(manager.activeCount, 2, 'the first sandbox still counts against MAX_SESSIONS');
    assert.throws(() => manager.create(bob, {}), (err: ApiError) => err.code === 'session_limit');
    finishSaving();
    await ending;
    assert.deepEqual(runtime.stopped, [first.id]);
    assert.equal(manager.activeCount, 1);
    assert.throws(() => manager.create(alice, {}), (err: ApiError) => err.code === 'user_session_limit', 'the second session still counts for alice');
    assert.ok(manager.create(bob, {}));
    await manager.end(second.id, 'deleted');
  });

  it('enforces the hard lifetime even while someone is watching', async () => {
    const { manager, runtime, advance } = setup();
    const session = manager.create(alice, {});
    await tick();
    session.attach(recordingViewer().viewer);
    advance(3599_000);
    manager.reap();
    assert.equal(session.state, 'running');
    advance(1000);
    manager.reap();
    await tick();
    assert.equal(session.state, 'ended');
    assert.equal(session.reason, 'expired');
    assert.deepEqual(runtime.stopped, [session.id]);
  });

  it('reaps idle sessions with no viewer, never before the reconnect grace period', async () => {
    const { manager, advance } = setup({ timeouts: { sessionSeconds: 3600, idleSeconds: 60, graceSeconds: 120 } });
    const session = manager.create(alice, {});
    await tick();
    const { viewer } = recordingViewer();
    session.attach(viewer);
    advance(600_000);
    manager.reap();
    assert.equal(session.state, 'running', 'a watched session is not idle');
    session.detach(viewer);
    advance(61_000);
    manager.reap();
    assert.equal(session.state, 'running', 'the grace period protects a dropped viewer');
    advance(60_000);
    manager.reap();
    await tick();
    assert.equal(session.state, 'ended');
    assert.equal(session.reason, 'idle');
  });

  it('counts input as activity for idle reaping', async () => {
    const { manager, advance } = setup({ timeouts: { sessionSeconds: 3600, idleSeconds: 60, graceSeconds: 0 } });
    const session = manager.create(alice, {});
    await tick();
    advance(50_000);
    session.input(Buffer.from('x'));
    advance(50_000);
    manager.reap();
    assert.equal(session.state, 'running');
    advance(11_000);
    manager.reap();
    assert.equal(session.state, 'ended');
  });

  it('end is idempotent and deleting during start leaves nothing running', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    await Promise.all([manager.end(session.id, 'deleted'), manager.end(session.id, 'deleted')]);
    await tick();
    assert.equal(session.state, 'ended');
    assert.equal(runtime.stopped.filter((id) => id === session.id).length >= 1, true);
    assert.equal(runtime.terminals.size, 0, 'a terminal that arrives after the end is detached and stopped');
    assert.equal(manager.activeCount, 0);
  });

  it('refuses new sessions while shutting down and ends local ones', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    await tick();
    await manager.shutdown({ stopSandboxes: true });
    assert.equal(session.state, 'ended');
    assert.equal(session.reason, 'shutdown');
    assert.deepEqual(runtime.stopped, [session.id]);
    assert.throws(() => manager.create(alice, {}), (err: ApiError) => err.code === 'shutting_down');
  });

  it('applies a resize that arrived while the sandbox was still starting', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    session.resize(132, 43);
    await tick();
    assert.deepEqual(runtime.terminals.get(session.id)!.size, { cols: 132, rows: 43 });
  });

  it('fails (instead of crashing) when the sandbox spec cannot be built', async () => {
    const { manager, runtime } = setup({ issueCredential: () => { throw new Error('secret too short'); } });
    const session = manager.create(alice, {});
    await tick();
    await tick();
    assert.equal(session.state, 'failed');
    assert.equal(runtime.started.length, 0);
    assert.equal(manager.activeCount, 0);
  });

  it('refuses at once when the runtime cannot start sandboxes at all', () => {
    const { manager, runtime } = setup();
    (runtime as FakeRuntime & { unavailableReason(): string | null }).unavailableReason = () => 'cannot start a sandbox: no bubblewrap';
    assert.throws(() => manager.create(alice, {}), (err: ApiError) => err.code === 'runtime_unavailable' && err.status === 503 && /bubblewrap/.test(err.message));
    assert.equal(manager.activeCount, 0);
  });

  it('replays recent output and pending events to a viewer that attaches later', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    await tick();
    runtime.terminals.get(session.id)!.emitData('hello before attach');
    session.emitEvent({ name: 'stage_complete', courseId: 'c', stage: 1, completedAt: '2026-01-01T00:00:00.000Z' });
    const { viewer, data, controls } = recordingViewer();
    session.attach(viewer);
    assert.equal(Buffer.concat(data).toString(), 'hello before attach');
    assert.ok(controls.some((c) => c.type === 'event' && c.name === 'stage_complete'));
  });

  it('pauses the program while the viewer is backed up and resumes when it drains', async () => {
    const { manager, runtime } = setup();
    const session = manager.create(alice, {});
    await tick();
    let queued = 0;
    const drained: Array<() => void> = [];
    session.attach({
      sendData: (chunk) => (queued += chunk.length) < 256 * 1024,
      onceDrained: (listener) => drained.push(listener),
      sendControl: () => undefined,
      close: () => undefined,
      resumeInput: () => undefined,
    });
    const terminal = runtime.terminals.get(session.id)!;
    for (let i = 0; i < 40; i += 1) terminal.emitData('x'.repeat(8192));
    assert.equal(terminal.paused, true, 'paused once the viewer reports it is backed up');
    assert.equal(drained.length, 1, 'waits for one drain, however much more arrives');
    queued = 0;
    drained.shift()!();
    assert.equal(terminal.paused, false, 'resumed once drained');
  });
});
