// Ownership everywhere: another user's session id answers exactly like an id that does not exist
// (REST, answers, WebSocket), progress is per user, and an administrator can list and end any session.
// Real sandboxes (local runtime) and the real course catalog.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { as, bearer, jwtEnv, mintToken } from './helpers.ts';

const COURSES_DIR = fileURLToPath(new URL('../../../courses', import.meta.url));
const COURSE = 'attention-is-all-you-need';
const UNKNOWN_ID = 'zzzzzzzzzzzzzzzzzzzz';

describe('cross-user access in jwt mode', () => {
  let service: Service;
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;
  let admin: ReturnType<typeof as>;
  let bobCookie: Record<string, string>;
  let aliceSession: Record<string, unknown>;
  let bobSession: Record<string, unknown>;

  before(async () => {
    service = await startTestService(jwtEnv({ COURSES_DIR, SESSION_COMMAND: 'cat', MAX_SESSIONS: '8' }));
    alice = as(service, bearer(await mintToken('alice')));
    const bobToken = await mintToken('bob');
    bob = as(service, bearer(bobToken));
    bobCookie = { cookie: `claudecode_token=${bobToken}` };
    admin = as(service, bearer(await mintToken('root', { roles: ['admin'] })));
    aliceSession = (await alice('POST', '/api/sessions', { courseId: COURSE })).body;
    bobSession = (await bob('POST', '/api/sessions', { courseId: COURSE })).body;
    assert.match(String(aliceSession.id), /^[a-z2-7]{20}$/);
    assert.match(String(bobSession.id), /^[a-z2-7]{20}$/);
  });
  after(() => service.close());

  it("answers 404 on every session endpoint for someone else's id, exactly as for an unknown id", async () => {
    const id = String(aliceSession.id);
    const endpoints: Array<[string, (sid: string) => string, unknown]> = [
      ['GET', (sid) => `/api/sessions/${sid}`, undefined],
      ['POST', (sid) => `/api/sessions/${sid}/attach`, undefined],
      ['POST', (sid) => `/api/sessions/${sid}/stages/2/answer`, { answer: 'sqrt(d_k)' }],
      ['DELETE', (sid) => `/api/sessions/${sid}`, undefined],
    ];
    for (const [method, path, body] of endpoints) {
      const theirs = await bob(method, path(id), body);
      const unknown = await bob(method, path(UNKNOWN_ID), body);
      assert.equal(theirs.status, 404, `${method} ${path(id)}`);
      assert.deepEqual(theirs.body, unknown.body, `${method}: same answer as for an unknown id`);
    }
    const bobsList = (await bob('GET', '/api/sessions')).body.sessions as Array<{ id: string }>;
    assert.deepEqual(bobsList.map((s) => s.id), [bobSession.id]);
    assert.equal((await alice('GET', `/api/sessions/${id}`)).body.state !== 'ended', true, 'still alive after the attempts');
  });

  it("refuses someone else's session on the WebSocket with 404, and tickets do not travel", async () => {
    const aliceId = String(aliceSession.id);
    // Bob's own ticket, presented on Alice's session: 404, and the ticket is gone.
    const bobsTicket = new URL(String((await bob('POST', `/api/sessions/${String(bobSession.id)}/attach`)).body.wsUrl), 'http://x').search;
    await assert.rejects(openTerminal(wsUrl(service.url, `/ws/sessions/${aliceId}${bobsTicket}`)), { statusCode: 404 });
    await assert.rejects(openTerminal(wsUrl(service.url, `/ws/sessions/${String(bobSession.id)}${bobsTicket}`)), { statusCode: 401 });
    // No ticket at all, even with a valid token cookie: 401.
    await assert.rejects(openTerminal(wsUrl(service.url, `/ws/sessions/${aliceId}`), { headers: bobCookie }), { statusCode: 401 });
    // Alice's ticket, presented by Bob (his cookie on the upgrade): 404, and Alice's ticket is used up.
    const stolen = String((await alice('POST', `/api/sessions/${aliceId}/attach`)).body.wsUrl);
    await assert.rejects(openTerminal(wsUrl(service.url, stolen), { headers: bobCookie }), { statusCode: 404 });
    await assert.rejects(openTerminal(wsUrl(service.url, stolen)), { statusCode: 401 });
    // Alice's fresh ticket works once.
    const fresh = String((await alice('POST', `/api/sessions/${aliceId}/attach`)).body.wsUrl);
    const term = await openTerminal(wsUrl(service.url, fresh));
    term.type('mine\n');
    await term.waitFor(/mine[\s\S]*mine/);
    await term.close();
    await assert.rejects(openTerminal(wsUrl(service.url, fresh)), { statusCode: 401 });
  });

  it('keeps progress per user', async () => {
    const answered = await alice('POST', `/api/sessions/${String(aliceSession.id)}/stages/2/answer`, { answer: 'sqrt(d_k)' });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const stagesOf = (body: Record<string, unknown>) => (body.completedStages as Array<{ stage: number }>).map((s) => s.stage);
    assert.deepEqual(stagesOf((await alice('GET', `/api/progress/${COURSE}`)).body), [2]);
    assert.deepEqual(stagesOf((await bob('GET', `/api/progress/${COURSE}`)).body), []);
    const bobsAll = (await bob('GET', '/api/progress')).body.courses as Array<Record<string, unknown>>;
    for (const course of bobsAll) assert.deepEqual(stagesOf(course), []);
    const alicesAll = (await alice('GET', '/api/progress')).body.courses as Array<Record<string, unknown> & { courseId: string }>;
    assert.deepEqual(stagesOf(alicesAll.find((c) => c.courseId === COURSE)!), [2]);
    assert.equal((await api(service, 'GET', '/api/progress')).status, 401);
  });

  it('lets an administrator list every session and end any of them', async () => {
    assert.equal((await alice('GET', '/api/admin/sessions')).status, 404);
    const all = await admin('GET', '/api/admin/sessions');
    assert.equal(all.status, 200);
    const rows = all.body.sessions as Array<{ id: string; userHash: string }>;
    const ids = rows.map((r) => r.id);
    assert.ok(ids.includes(String(aliceSession.id)) && ids.includes(String(bobSession.id)));
    const hashes = new Set(rows.filter((r) => r.id === aliceSession.id || r.id === bobSession.id).map((r) => r.userHash));
    assert.equal(hashes.size, 2, 'sessions of different users carry different hashes');
    assert.deepEqual((await admin('GET', '/api/sessions')).body.sessions, [], "the admin's own list holds only the admin's sessions");

    const aliceWs = String((await alice('POST', `/api/sessions/${String(aliceSession.id)}/attach`)).body.wsUrl);
    const term = await openTerminal(wsUrl(service.url, aliceWs));
    assert.equal((await admin('DELETE', `/api/sessions/${String(aliceSession.id)}`)).status, 204);
    await term.closed;
    assert.equal((await alice('GET', `/api/sessions/${String(aliceSession.id)}`)).body.state, 'ended');
    assert.equal((await admin('DELETE', `/api/sessions/${String(bobSession.id)}`)).status, 204);
  });
});

describe('tickets in none mode', () => {
  let service: Service;
  before(async () => {
    service = await startTestService({ SESSION_COMMAND: 'cat' });
  });
  after(() => service.close());

  it('the local user opens the terminal only with a ticket, once', async () => {
    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201);
    await assert.rejects(openTerminal(wsUrl(service.url, `/ws/sessions/${String(created.body.id)}`)), { statusCode: 401 });
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
    term.type('local\n');
    await term.waitFor(/local[\s\S]*local/);
    await term.close();
    await assert.rejects(openTerminal(wsUrl(service.url, String(created.body.wsUrl))), { statusCode: 401 });
    assert.equal((await api(service, 'DELETE', `/api/sessions/${String(created.body.id)}`)).status, 204);
  });
});
