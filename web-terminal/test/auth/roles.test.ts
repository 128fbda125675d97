// The instructor role in each identity mode, and what it allows: watching any session (as administrators may).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createAuth } from '../../src/auth/index.ts';
import { canWatchSessions } from '../../src/auth/roles.ts';
import { HS_SECRET, jwtEnv, mintToken } from './helpers.ts';

const request = (headers: Record<string, string> = {}) =>
  ({
    headers,
    headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    socket: { remoteAddress: '127.0.0.1' },
    method: 'GET',
  }) as unknown as IncomingMessage;

const authFor = (env: Record<string, string>) => createAuth(loadConfig({ HOST: '127.0.0.1', ...env }), pino({ level: 'silent' }));

describe('instructor role', () => {
  it('trusted-header: from AUTH_INSTRUCTOR_GROUPS or AUTH_INSTRUCTOR_USERS; admins may watch too', async () => {
    const auth = authFor({
      AUTH_MODE: 'trusted-header',
      AUTH_TRUSTED_PROXIES: '127.0.0.1/32',
      AUTH_GROUPS_HEADER: 'x-groups',
      AUTH_INSTRUCTOR_GROUPS: 'teachers',
      AUTH_INSTRUCTOR_USERS: 'tutor',
      AUTH_ADMIN_GROUPS: 'ops',
    });
    const who = async (headers: Record<string, string>) => (await auth.authenticator.identify(request(headers)))!;
    const teacher = await who({ 'x-auth-request-user': 'ines', 'x-groups': 'staff, teachers' });
    assert.equal(teacher.isInstructor, true);
    assert.equal(teacher.isAdmin, false);
    assert.equal((await who({ 'x-auth-request-user': 'tutor' })).isInstructor, true);
    const student = await who({ 'x-auth-request-user': 'lea', 'x-groups': 'students,teachers-to-be' });
    assert.equal(student.isInstructor ?? false, false);
    assert.equal(canWatchSessions(student), false);
    assert.equal(canWatchSessions(teacher), true);
    assert.equal(canWatchSessions(await who({ 'x-auth-request-user': 'root', 'x-groups': 'ops' })), true, 'administrators may watch');
  });

  it('jwt: from AUTH_JWT_INSTRUCTOR_CLAIM (dotted paths, arrays) or AUTH_INSTRUCTOR_USERS', async () => {
    const auth = authFor(jwtEnv({ AUTH_JWT_SECRET: HS_SECRET, AUTH_JWT_INSTRUCTOR_CLAIM: 'realm_access.roles=instructor', AUTH_INSTRUCTOR_USERS: 'tutor' }));
    const who = async (sub: string, claims: Record<string, unknown> = {}) =>
      (await auth.authenticator.identify(request({ authorization: `Bearer ${await mintToken(sub, claims)}` })))!;
    assert.equal((await who('ines', { realm_access: { roles: ['student', 'instructor'] } })).isInstructor, true);
    assert.equal((await who('tutor')).isInstructor, true);
    assert.equal((await who('lea', { realm_access: { roles: ['student'] } })).isInstructor ?? false, false);
    assert.equal((await who('eve', { roles: ['instructor'] })).isInstructor ?? false, false, 'only the configured claim counts');
  });

  it('jwt without AUTH_JWT_INSTRUCTOR_CLAIM: no token makes an instructor', async () => {
    const auth = authFor(jwtEnv());
    const identity = await auth.authenticator.identify(request({ authorization: `Bearer ${await mintToken('ines', { roles: ['instructor'], instructor: true })}` }));
    assert.equal(identity?.isInstructor ?? false, false);
  });

  it('none: the local user is no instructor unless AUTH_INSTRUCTOR_USERS names `local`', async () => {
    assert.equal((await authFor({}).authenticator.identify(request()))?.isInstructor ?? false, false);
    assert.equal((await authFor({ AUTH_INSTRUCTOR_USERS: 'local' }).authenticator.identify(request()))?.isInstructor, true);
  });

  it('a watch ticket opens only the watch socket of its session', async () => {
    const auth = authFor({ AUTH_INSTRUCTOR_USERS: 'local' });
    const local = (await auth.authenticator.identify(request()))!;
    const session = 'aaaaaaaaaaaaaaaaaaaa';
    const watch = new URL(auth.watchUrlFor(local, session), 'http://x');
    assert.equal(watch.pathname, `/ws/sessions/${session}/watch`);
    assert.notEqual((await auth.authenticateUpgrade(request(), session, watch, 'owner'))?.userId, 'local', 'not the owner socket');
    const again = new URL(auth.watchUrlFor(local, session), 'http://x');
    assert.equal((await auth.authenticateUpgrade(request(), session, again, 'watch'))?.userId, 'local');
    const owner = new URL(auth.wsUrlFor(local, session), 'http://x');
    assert.notEqual((await auth.authenticateUpgrade(request(), session, owner, 'watch'))?.userId, 'local', 'an owner ticket does not watch');
  });
});
