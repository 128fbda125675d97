// The warm pool against a runtime that runs nothing: claims, refills, capacity, replacement, drain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeRuntime, FakeTerminal } from '../helpers/fake-runtime.ts';
import { managerOptions } from '../helpers/manager-options.ts';
import { holdTerminal } from '../../src/sessions/held-terminal.ts';
import { WarmPool } from '../../src/sessions/warm-pool.ts';
import type { PoolKey } from '../../src/sessions/warm-pool.ts';
import { waitUntil } from '../helpers/processes.ts';
import { loadConfig } from '../../src/config.ts';
import { parsePoolKeys } from '../../src/sessions/warm-sandboxes.ts';
import { makeUserHasher } from '../../src/sessions/ids.ts';
import { SessionManager } from '../../src/sessions/manager.ts';

const course: PoolKey = { courseId: 'c1', profile: 'default' };
const other: PoolKey = { courseId: null, profile: 'default' };
/** Lets the pool take hold of terminals that just started. */
const settle = () => new Promise((r) => setImmediate(r));

function setup(opts: { perPool?: number; max?: number; pools?: PoolKey[] } = {}) {
  const runtime = new FakeRuntime();
  let active = 0;
  let n = 0;
  const pool = new WarmPool({
    perPool: opts.perPool ?? 2,
    pools: opts.pools ?? [course],
    maxSandboxes: opts.max ?? 10,
    activeSessions: () => active,
    keptOutputBytes: 1024,
    maxAgeMs: 3_600_000,
    quietMs: 5,
    logger: pino({ level: 'silent' }),
    discard: (id) => runtime.stop(id),
    make: (key, signal) => {
      const sessionId = `w${(n += 1)}`;
      return {
        sessionId,
        terminal: runtime.start({ sessionId, userHash: 'unclaimed', credential: 'c', command: ['x'], env: {}, course: key.courseId ? { id: key.courseId, contentDir: '/c' } : null, profile: key.profile, cols: 80, rows: 24, createdAt: new Date(), expiresAt: new Date() }).then((t) => {
          if (signal.aborted) throw new Error('aborted');
          return t;
        }),
      };
    },
  });
  const live = () => [...runtime.terminals.keys()];
  /** Each sandbox draws its prompt, so the pool counts it ready. */
  const drawPrompts = async () => {
    await settle();
    for (const t of runtime.terminals.values()) t.emitData('$ ');
  };
  return { runtime, pool, live, drawPrompts, setActive: (v: number) => { active = v; } };
}

describe('warm pool', () => {
  it('fills each pool to its size and hands a sandbox to exactly one claimer, then refills', async () => {
    const { pool, live, drawPrompts } = setup();
    pool.start();
    await waitUntil(() => live().length === 2, 2000, 'two warm sandboxes');
    await drawPrompts();
    await waitUntil(() => pool.counts().ready === 2, 2000, 'ready');
    const a = pool.claim(course);
    const b = pool.claim(course);
    assert.ok(a && b);
    assert.notEqual(a.sessionId, b.sessionId);
    assert.equal(a.how, 'warm');
    await waitUntil(() => live().length === 4, 2000, 'refills started');
    const c = pool.claim(course);
    assert.equal(c?.how, 'refill');
    assert.ok(![a.sessionId, b.sessionId].includes(c.sessionId));
    assert.equal(pool.claim(other), null, 'no pool for that key');
    await pool.drain();
  });

  it('gives the kept output to the claimer first, then passes output through', async () => {
    const { pool, live, runtime } = setup({ perPool: 1 });
    pool.start();
    await waitUntil(() => live().length === 1, 2000, 'warm');
    await settle();
    runtime.terminals.get(live()[0]!)!.emitData('screen-1 ');
    const claimed = pool.claim(course)!;
    const held = await claimed.terminal;
    const seen: string[] = [];
    held.terminal.onData((chunk) => seen.push(chunk.toString()));
    runtime.terminals.get(claimed.sessionId)!.emitData('after');
    assert.deepEqual(seen, ['screen-1 ', 'after']);
    await pool.drain();
  });

  it('never lets sessions and warm sandboxes together exceed the capacity', async () => {
    const { pool, live, setActive } = setup({ perPool: 3, max: 4 });
    setActive(2);
    pool.start();
    await waitUntil(() => live().length === 2, 2000, 'two');
    pool.fill();
    assert.equal(pool.size, 2);
    // A cold start needs a slot: one warm sandbox is stopped first.
    setActive(3);
    await pool.makeRoom(other);
    assert.equal(pool.size, 1);
    assert.equal(live().length, 1);
    await pool.drain();
  });

  it('replaces a warm sandbox whose program exited, and never hands it out', async () => {
    const { pool, live, runtime } = setup({ perPool: 1 });
    pool.start();
    await waitUntil(() => live().length === 1, 2000, 'warm');
    const dead = live()[0]!;
    await settle();
    runtime.terminals.get(dead)!.exit({ code: 1 });
    await waitUntil(() => live().length === 1 && live()[0] !== dead, 5000, 'a replacement');
    assert.ok(runtime.stopped.includes(dead));
    assert.notEqual(pool.claim(course)?.sessionId, dead);
    await pool.drain();
  });

  it('drain stops every warm sandbox and refuses further claims', async () => {
    const { pool, live } = setup({ pools: [course, other] });
    pool.start();
    await waitUntil(() => live().length === 4, 2000, 'four');
    await pool.drain();
    assert.deepEqual(live(), []);
    assert.equal(pool.claim(course), null);
  });
});

describe('held terminal', () => {
  it('is not ready on early output: only once the ready marker was drawn (even split across chunks) and output went quiet', async () => {
    const terminal = new FakeTerminal();
    let t = 0;
    const held = holdTerminal(terminal, { maxKeptBytes: 1024, readyMarker: '\u276f', now: () => t });
    terminal.emitData('\x1b7\x1b8');
    t = 1000;
    assert.equal(held.isQuiet(300), false, 'an escape sequence is not a prompt');
    const glyph = Buffer.from('\u276f');
    terminal.emit(Buffer.concat([Buffer.from('box '), glyph.subarray(0, 1)]));
    terminal.emit(glyph.subarray(1));
    assert.equal(held.isQuiet(300), false, 'just drawn');
    t = 1400;
    assert.equal(held.isQuiet(300), true);
  });

  it('keeps only the tail of the output while unclaimed', () => {
    const terminal = new FakeTerminal();
    const held = holdTerminal(terminal, { maxKeptBytes: 10 });
    for (let i = 0; i < 5; i += 1) terminal.emitData(`chunk${i} `);
    const seen: string[] = [];
    held.terminal.onData((c) => seen.push(c.toString()));
    assert.ok(Buffer.byteLength(seen.join('')) <= 10 + 'chunk4 '.length);
    assert.match(seen.join(''), /chunk4 $/);
  });
});

describe('session manager with a warm pool', () => {
  function managerWithPool(opts: { failFirstStart: boolean }) {
    const { runtime, pool, live, drawPrompts } = setup({ perPool: 1, pools: [other] });
    if (opts.failFirstStart) runtime.failNext = 'spawn_failed';
    const manager = new SessionManager(managerOptions(runtime, { limits: { maxSessions: 4, maxSessionsPerUser: 4, createsPerMinute: 100 }, warmPool: pool }));
    return { manager, runtime, pool, live, drawPrompts };
  }
  const alice = { userId: 'alice', displayName: 'Alice', isAdmin: false };

  it('a session takes the warm sandbox\'s id, starts its timers at claim and binds its owner', async () => {
    const { manager, pool, live, drawPrompts } = managerWithPool({ failFirstStart: false });
    pool.start();
    await waitUntil(() => live().length === 1, 2000, 'warm');
    await drawPrompts();
    const warmId = live()[0]!;
    const session = manager.create(alice, {});
    assert.equal(session.id, warmId);
    // The API proxy learns a live session's owner from the manager: the claimed sandbox now counts for alice.
    assert.deepEqual(manager.liveSession(warmId), { userHash: makeUserHasher('test-secret')('alice') });
    await waitUntil(() => session.state === 'running', 2000, 'running');
    await manager.shutdown({ stopSandboxes: true });
    assert.deepEqual(live(), []);
  });

  it('records the owner in the runtime at claim (bindOwner: the claimer, the session\'s own expiry)', async () => {
    const { manager, runtime, pool, live, drawPrompts } = managerWithPool({ failFirstStart: false });
    const bound: Array<{ id: string; userHash: string; claimedAt: Date; expiresAt: Date }> = [];
    Object.assign(runtime, { bindOwner: async (id: string, owner: { userHash: string; claimedAt: Date; expiresAt: Date }) => { bound.push({ id, ...owner }); } });
    pool.start();
    await waitUntil(() => live().length === 1, 2000, 'warm');
    await drawPrompts();
    const session = manager.create(alice, {});
    await waitUntil(() => bound.length === 1, 2000, 'owner bound');
    assert.deepEqual(bound[0], { id: session.id, userHash: makeUserHasher('test-secret')('alice'), claimedAt: session.createdAt, expiresAt: session.expiresAt });
    await manager.shutdown({ stopSandboxes: true });
  });

  it('tries the owner binding again when the runtime fails once', async () => {
    const { manager, runtime, pool, live, drawPrompts } = managerWithPool({ failFirstStart: false });
    let calls = 0;
    Object.assign(runtime, { bindOwner: async () => { calls += 1; if (calls === 1) throw new Error('apiserver blip'); } });
    pool.start();
    await waitUntil(() => live().length === 1, 2000, 'warm');
    await drawPrompts();
    manager.create(alice, {});
    await waitUntil(() => calls === 2, 5000, 'a second attempt');
    await manager.shutdown({ stopSandboxes: true });
  });

  it('after a restart, a sandbox still marked unclaimed is nobody\'s session: only claimed ones are adopted', async () => {
    const runtime = new FakeRuntime();
    const aliceHash = makeUserHasher('test-secret')('alice');
    const record = (sessionId: string, userHash: string) => ({ sessionId, userHash, createdAt: new Date(), expiresAt: new Date(Date.now() + 3600_000), courseId: null, alive: true });
    const attached: string[] = [];
    Object.assign(runtime, {
      list: async () => [record('warmunclaimed', 'unclaimed'), record('warmclaimed', aliceHash)],
      attach: async (id: string) => { attached.push(id); return new FakeTerminal(); },
    });
    const manager = new SessionManager(managerOptions(runtime));
    assert.deepEqual(await manager.adoptRunningSandboxes(), ['warmclaimed']);
    assert.deepEqual(attached, ['warmclaimed']);
    assert.deepEqual(manager.list(alice).map((s) => s.id), ['warmclaimed']);
    await manager.shutdown({ stopSandboxes: true });
  });

  it('a claimed sandbox that fails to start gives way to a cold start for the same session', async () => {
    const { manager, pool, runtime, live } = managerWithPool({ failFirstStart: true });
    pool.start();
    const session = manager.create(alice, {}); // claims the refill whose start is failing
    await waitUntil(() => session.state === 'running', 2000, 'running on a cold start');
    assert.equal(runtime.started.filter((s) => s.sessionId === session.id).length, 2);
    assert.ok(live().includes(session.id));
    await manager.shutdown({ stopSandboxes: true });
  });
});

describe('warm pool settings', () => {
  it('pools default to every course plus sessions without one; unknown courses are refused', () => {
    assert.deepEqual(parsePoolKeys([], ['a', 'b']), [
      { courseId: null, profile: 'default' }, { courseId: 'a', profile: 'default' }, { courseId: 'b', profile: 'default' },
    ]);
    assert.deepEqual(parsePoolKeys(['a:gpu', '-'], ['a'], ['default', 'gpu']), [{ courseId: 'a', profile: 'gpu' }, { courseId: null, profile: 'default' }]);
    assert.throws(() => parsePoolKeys(['nope'], ['a']), /unknown courses: nope/);
    assert.throws(() => parsePoolKeys(['a:gpu'], ['a']), /profiles that are not allowed: gpu/);
    assert.deepEqual(parsePoolKeys(['a:gpu'], ['a'], ['default', 'gpu']), [{ courseId: 'a', profile: 'gpu' }]);
  });

  it('WARM_SANDBOXES is accepted with both runtimes', () => {
    assert.equal(loadConfig({ WARM_SANDBOXES: '2', RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: 'warm-settings-test-shared-secret-0123456789' }).WARM_SANDBOXES, 2);
    assert.equal(loadConfig({ WARM_SANDBOXES: '2' }).WARM_SANDBOXES, 2);
  });
});
