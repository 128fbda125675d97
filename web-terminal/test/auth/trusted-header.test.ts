// AUTH_MODE=trusted-header: identity headers count only when the TCP peer is a trusted proxy.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { as, recordingRuntime } from './helpers.ts';

const headerEnv = (proxies: string) => ({
  AUTH_MODE: 'trusted-header',
  AUTH_TRUSTED_PROXIES: proxies,
  AUTH_EMAIL_HEADER: 'X-Auth-Request-Email',
  AUTH_GROUPS_HEADER: 'X-Auth-Request-Groups',
  AUTH_ADMIN_GROUPS: 'platform-admins,teachers',
  AUTH_ADMIN_USERS: 'octocat',
});

/** GET with raw header lines (fetch would merge repeated headers into one). */
function rawGet(service: Service, path: string, headers: Record<string, string | string[]>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${service.url}${path}`, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('trusted-header mode, the test client is the trusted proxy', () => {
  let service: Service;
  before(async () => {
    // The test talks to 127.0.0.1 from 127.0.0.1: the peer address is inside this list.
    service = await startTestService(headerEnv('10.42.0.0/16,127.0.0.0/8,::1/128'), { runtime: recordingRuntime().runtime });
  });
  after(() => service.close());

  it('takes the user from the configured header', async () => {
    const alice = as(service, { 'x-auth-request-user': 'alice', 'x-auth-request-email': 'alice@example.org' });
    const created = await alice('POST', '/api/sessions', {});
    assert.equal(created.status, 201);
    assert.equal((await alice('GET', `/api/sessions/${String(created.body.id)}`)).status, 200);
    const bob = as(service, { 'x-auth-request-user': 'bob' });
    assert.equal((await bob('GET', `/api/sessions/${String(created.body.id)}`)).status, 404);
    assert.deepEqual((await bob('GET', '/api/sessions')).body.sessions, []);

    const admin = as(service, { 'x-auth-request-user': 'dana', 'x-auth-request-groups': 'students, teachers' });
    const all = await admin('GET', '/api/admin/sessions');
    assert.equal(all.status, 200);
    const row = (all.body.sessions as Array<Record<string, unknown>>).find((s) => s.id === created.body.id);
    assert.equal(row?.displayName, 'alice@example.org');
    assert.equal(JSON.stringify(all.body).includes('"alice"'), false, 'the admin list shows the hash, not the user id');
    assert.equal((await alice('DELETE', `/api/sessions/${String(created.body.id)}`)).status, 204);
    // Without an email header there is no display name: the list shows none rather than the user id.
    const anonymous = await as(service, { 'x-auth-request-user': 'bob-the-user-id' })('POST', '/api/sessions', {});
    const listed = (await admin('GET', '/api/admin/sessions')).body;
    assert.equal((listed.sessions as Array<Record<string, unknown>>).find((s) => s.id === anonymous.body.id)?.displayName, '');
    assert.equal(JSON.stringify(listed).includes('bob-the-user-id'), false, 'the admin list never shows the user id');
  });

  it('makes administrators from AUTH_ADMIN_USERS and AUTH_ADMIN_GROUPS only', async () => {
    assert.equal((await as(service, { 'x-auth-request-user': 'octocat' })('GET', '/api/admin/sessions')).status, 200);
    assert.equal((await as(service, { 'x-auth-request-user': 'eve', 'x-auth-request-groups': 'students,platform-admins-not' })('GET', '/api/admin/sessions')).status, 404);
  });

  it('answers 401 when the proxy sends no user, an empty one, or two of them', async () => {
    assert.equal((await api(service, 'GET', '/api/sessions')).status, 401);
    assert.equal((await api(service, 'GET', '/api/sessions', undefined, { 'x-auth-request-user': '   ' })).status, 401);
    assert.equal((await api(service, 'GET', '/api/sessions', undefined, { 'x-auth-request-email': 'alice@example.org' })).status, 401);
    assert.equal(await rawGet(service, '/api/sessions', { 'x-auth-request-user': ['alice', 'bob'] }), 401);
    assert.equal(await rawGet(service, '/api/sessions', { 'x-auth-request-user': 'alice' }), 200);
  });

  it('opens the terminal with the ticket, and refuses the ticket with another user\'s headers', async () => {
    const aliceHeaders = { 'x-auth-request-user': 'alice' };
    const alice = as(service, aliceHeaders);
    const created = await alice('POST', '/api/sessions', {});
    const stolen = await alice('POST', `/api/sessions/${String(created.body.id)}/attach`);
    await assert.rejects(openTerminal(wsUrl(service.url, String(stolen.body.wsUrl)), { headers: { 'x-auth-request-user': 'mallory' } }), { statusCode: 404 });
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)), { headers: aliceHeaders });
    term.type('proxied\n');
    await term.waitFor('proxied');
    await term.close();
    await alice('DELETE', `/api/sessions/${String(created.body.id)}`);
  });
});

describe('trusted-header mode, the test client is NOT a trusted proxy', () => {
  let service: Service;
  before(async () => {
    service = await startTestService(headerEnv('10.42.0.0/16,fd00::/8'), { runtime: recordingRuntime().runtime });
  });
  after(() => service.close());

  it('ignores spoofed identity headers: the caller is anonymous', async () => {
    const spoofed = { 'x-auth-request-user': 'octocat', 'x-auth-request-groups': 'platform-admins', 'x-forwarded-for': '10.42.0.7', 'x-real-ip': '10.42.0.7', forwarded: 'for=10.42.0.7' };
    for (const [method, path] of [['GET', '/api/sessions'], ['POST', '/api/sessions'], ['GET', '/api/admin/sessions']] as const) {
      const res = await api(service, method, path, method === 'POST' ? {} : undefined, spoofed);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error?.code, 'unauthenticated');
    }
    assert.equal(service.manager.listAll().length, 0);
  });
});
