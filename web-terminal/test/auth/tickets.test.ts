import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createAuth } from '../../src/auth/index.ts';
import { TicketStore } from '../../src/auth/tickets.ts';
import { loadConfig } from '../../src/config.ts';
import type { Identity } from '../../src/types.ts';

const alice: Identity = { userId: 'alice', displayName: 'Alice', isAdmin: false };
const bob: Identity = { userId: 'bob', displayName: 'Bob', isAdmin: false };

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('ticket store', () => {
  it('issues 32 random bytes as base64url, different every time', () => {
    const store = new TicketStore({ ttlSeconds: 30 });
    const a = store.issue(alice, 's1');
    const b = store.issue(alice, 's1');
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
  });

  it('redeems a ticket once, with its user and session', () => {
    const store = new TicketStore({ ttlSeconds: 30 });
    const ticket = store.issue(alice, 's1');
    assert.deepEqual(store.redeem(ticket), { identity: alice, sessionId: 's1', access: 'owner' });
    assert.equal(store.redeem(ticket), undefined, 'reuse fails');
    assert.equal(store.size, 0);
  });

  it('refuses an expired ticket, and consumes it', () => {
    const c = clock();
    const store = new TicketStore({ ttlSeconds: 30, now: c.now });
    const ticket = store.issue(alice, 's1');
    c.advance(29_999);
    const fresh = store.issue(alice, 's1');
    c.advance(1);
    assert.equal(store.redeem(ticket), undefined);
    assert.equal(store.redeem(ticket), undefined);
    assert.ok(store.redeem(fresh));
  });

  it('refuses unknown tickets', () => {
    const store = new TicketStore({ ttlSeconds: 30 });
    store.issue(alice, 's1');
    assert.equal(store.redeem('x'.repeat(43)), undefined);
    assert.equal(store.redeem(''), undefined);
  });

  it('drops expired tickets as new ones are issued (the map stays bounded)', () => {
    const c = clock();
    const store = new TicketStore({ ttlSeconds: 30, now: c.now, maxPerUser: 1000 });
    for (let i = 0; i < 100; i++) store.issue(alice, `s${i}`);
    c.advance(31_000);
    store.issue(bob, 'x');
    assert.equal(store.size, 1);
  });

  it('caps the tickets of one user without touching the others', () => {
    const store = new TicketStore({ ttlSeconds: 30, maxPerUser: 3 });
    const bobs = store.issue(bob, 'b1');
    const first = store.issue(alice, 'a1');
    const rest = [store.issue(alice, 'a2'), store.issue(alice, 'a3'), store.issue(alice, 'a4')];
    assert.equal(store.size, 4);
    assert.equal(store.redeem(first), undefined, "alice's oldest went first");
    for (const t of rest) assert.ok(store.redeem(t));
    assert.deepEqual(store.redeem(bobs), { identity: bob, sessionId: 'b1', access: 'owner' });
  });

  it('caps the tickets of everyone together, oldest first', () => {
    const store = new TicketStore({ ttlSeconds: 30, maxTickets: 3 });
    const oldest = store.issue({ ...alice, userId: 'u0' }, 's');
    const others = [1, 2, 3].map((i) => store.issue({ ...alice, userId: `u${i}` }, 's'));
    assert.equal(store.size, 3);
    assert.equal(store.redeem(oldest), undefined);
    for (const t of others) assert.ok(store.redeem(t));
  });
});

describe('authenticateUpgrade with tickets', () => {
  const fakeRequest = (headers: Record<string, string> = {}) =>
    ({
      headers,
      headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      socket: { remoteAddress: '127.0.0.1' },
    }) as unknown as IncomingMessage;
  const ticketOf = (wsUrl: string) => new URL(wsUrl, 'http://x').searchParams.get('ticket')!;
  const sessionA = 'aaaaaaaaaaaaaaaaaaaa';
  const sessionB = 'bbbbbbbbbbbbbbbbbbbb';

  it('in none mode the local user still needs a ticket, once', async () => {
    const auth = createAuth(loadConfig({}), pino({ level: 'silent' }));
    const local = await auth.authenticator.identify(fakeRequest());
    assert.ok(local);
    const wsUrl = auth.wsUrlFor(local, sessionA);
    assert.match(wsUrl, new RegExp(`^/ws/sessions/${sessionA}\\?ticket=[A-Za-z0-9_-]{43}$`));
    const url = new URL(wsUrl, 'http://x');
    assert.equal(await auth.authenticateUpgrade(fakeRequest(), sessionA, new URL(`/ws/sessions/${sessionA}`, 'http://x')), null, 'no ticket');
    assert.deepEqual(await auth.authenticateUpgrade(fakeRequest(), sessionA, url), local);
    assert.equal(await auth.authenticateUpgrade(fakeRequest(), sessionA, url), null, 'reuse');
  });

  it('a ticket for another session grants nothing there, and is used up', async () => {
    const auth = createAuth(loadConfig({}), pino({ level: 'silent' }));
    const local = (await auth.authenticator.identify(fakeRequest()))!;
    const url = new URL(auth.wsUrlFor(local, sessionA), 'http://x');
    const wrong = new URL(`/ws/sessions/${sessionB}?ticket=${ticketOf(url.href)}`, 'http://x');
    const got = await auth.authenticateUpgrade(fakeRequest(), sessionB, wrong);
    assert.ok(got && got.userId !== local.userId && !got.isAdmin, 'an identity that owns nothing');
    assert.equal(await auth.authenticateUpgrade(fakeRequest(), sessionA, url), null, 'consumed by the mismatch');
  });

  it('a ticket presented with another user\'s credentials grants nothing', async () => {
    const env = { AUTH_MODE: 'trusted-header', AUTH_TRUSTED_PROXIES: '127.0.0.1' };
    const auth = createAuth(loadConfig(env), pino({ level: 'silent' }));
    const aliceReq = fakeRequest({ 'x-auth-request-user': 'alice' });
    const bobReq = fakeRequest({ 'x-auth-request-user': 'bob' });
    const identity = (await auth.authenticator.identify(aliceReq))!;
    const stolen = new URL(auth.wsUrlFor(identity, sessionA), 'http://x');
    const got = await auth.authenticateUpgrade(bobReq, sessionA, stolen);
    assert.ok(got && got.userId !== 'alice' && got.userId !== 'bob');
    assert.equal(await auth.authenticateUpgrade(aliceReq, sessionA, stolen), null, 'consumed');
    const fresh = new URL(auth.wsUrlFor(identity, sessionA), 'http://x');
    assert.equal((await auth.authenticateUpgrade(aliceReq, sessionA, fresh))?.userId, 'alice');
  });
});
