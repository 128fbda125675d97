// Instructor live view through the API of a real service with real sandboxes (trusted-header mode, the
// test client is the trusted proxy): who may watch, what a watcher gets, that its input reaches nothing,
// that the learner is told, that every watch is logged, and that a stalled watcher does not stall the
// learner's output.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Service } from '../../src/server.ts';
import { assertMatchesOpenApi } from '../helpers/openapi.ts';
import { sandboxProcesses, waitUntil } from '../helpers/processes.ts';
import { startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import type { TerminalClient } from '../helpers/terminal-client.ts';
import { as } from '../auth/helpers.ts';

const learnerHeaders = { 'x-auth-request-user': 'lea', 'x-auth-request-email': 'lea@example.org' };
const instructorHeaders = { 'x-auth-request-user': 'ines', 'x-auth-request-email': 'ines@example.org', 'x-auth-request-groups': 'staff,teachers' };
const strangerHeaders = { 'x-auth-request-user': 'sam', 'x-auth-request-email': 'sam@example.org', 'x-auth-request-groups': 'students' };

describe('instructor live view (local runtime)', () => {
  let service: Service;
  const logLines: Array<Record<string, unknown>> = [];
  let learner: ReturnType<typeof as>;
  let instructor: ReturnType<typeof as>;
  let stranger: ReturnType<typeof as>;
  const opened: TerminalClient[] = [];

  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    service = await startTestService({
      AUTH_MODE: 'trusted-header',
      AUTH_TRUSTED_PROXIES: '127.0.0.0/8,::1/128',
      AUTH_EMAIL_HEADER: 'x-auth-request-email',
      AUTH_GROUPS_HEADER: 'x-auth-request-groups',
      AUTH_INSTRUCTOR_GROUPS: 'teachers',
      MAX_SESSIONS_PER_USER: '4',
      SESSION_CREATES_PER_MINUTE: '100',
    }, { logger });
    learner = as(service, learnerHeaders);
    instructor = as(service, instructorHeaders);
    stranger = as(service, strangerHeaders);
  });
  after(async () => {
    for (const client of opened) client.ws.terminate();
    await service?.close();
    assert.deepEqual(sandboxProcesses(), []);
  });

  const open = async (path: string, headers: Record<string, string>) => {
    const client = await openTerminal(wsUrl(service.url, path), { headers });
    opened.push(client);
    return client;
  };

  async function learnerSession() {
    const created = await learner('POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const term = await open(created.body.wsUrl as string, learnerHeaders);
    await term.waitForControl((m) => m.type === 'status' && m.state === 'running');
    return { id: created.body.id as string, term };
  }

  it('only an instructor may list and watch sessions; tickets open only their own kind of socket', async () => {
    const { id, term } = await learnerSession();
    assert.equal((await stranger('GET', '/api/watch/sessions')).status, 404);
    assert.equal((await stranger('POST', `/api/sessions/${id}/watch`)).status, 404);
    assert.equal((await learner('POST', `/api/sessions/${id}/watch`)).status, 404, 'not even the owner, who is no instructor');

    const listed = await instructor('GET', '/api/watch/sessions');
    assert.equal(listed.status, 200);
    assertMatchesOpenApi('get', '/api/watch/sessions', 200, listed.body);
    const row = (listed.body.sessions as Array<Record<string, unknown>>).find((s) => s.id === id);
    assert.equal(row?.displayName, 'lea@example.org');
    assert.deepEqual(row?.watchers, []);
    assert.equal((await instructor('POST', '/api/sessions/aaaaaaaaaaaaaaaaaaaa/watch')).status, 404);

    const granted = await instructor('POST', `/api/sessions/${id}/watch`);
    assert.equal(granted.status, 200);
    assertMatchesOpenApi('post', '/api/sessions/{sessionId}/watch', 200, granted.body);
    assert.match(granted.body.wsUrl as string, new RegExp(`^/ws/sessions/${id}/watch\\?ticket=[A-Za-z0-9_-]{43}$`));
    // A watch ticket does not open the owner's socket (and is used up trying).
    const ticket = new URL(granted.body.wsUrl as string, 'http://x').search;
    await assert.rejects(open(`/ws/sessions/${id}${ticket}`, instructorHeaders), (err: { statusCode?: number }) => err.statusCode === 404);
    // Nor does the owner's ticket open a watcher's socket.
    const attach = await learner('POST', `/api/sessions/${id}/attach`);
    const ownerTicket = new URL(attach.body.wsUrl as string, 'http://x').search;
    await assert.rejects(open(`/ws/sessions/${id}/watch${ownerTicket}`, learnerHeaders), (err: { statusCode?: number }) => err.statusCode === 404);
    // Someone else presenting an instructor's watch ticket gets nothing either.
    const stolen = await instructor('POST', `/api/sessions/${id}/watch`);
    await assert.rejects(open(stolen.body.wsUrl as string, strangerHeaders), (err: { statusCode?: number }) => err.statusCode === 404);
    await term.close();
    await learner('DELETE', `/api/sessions/${id}`);
  });

  it('a watcher sees the screen and live output, its input reaches nothing, the learner is told and it is logged', { timeout: 60_000 }, async () => {
    const { id, term } = await learnerSession();
    term.control({ type: 'resize', cols: 100, rows: 30 });
    term.type('echo "before=$((20+1))"\n');
    await term.waitFor('before=21');

    const granted = await instructor('POST', `/api/sessions/${id}/watch`);
    const watcher = await open(granted.body.wsUrl as string, instructorHeaders);
    await watcher.waitFor('before=21');
    assert.ok(watcher.output().startsWith('\x1bc'), 'the watcher starts from a full screen');
    assert.deepEqual(watcher.controls.find((c) => c.type === 'size'), { type: 'size', cols: 100, rows: 30 });
    await term.waitForControl((m) => m.type === 'watchers' && JSON.stringify(m.names) === '["ines@example.org"]');

    // Everything the watcher sends is ignored: keystrokes, resizes, pauses.
    watcher.type('echo "WATCHER-$((40+2))"\n');
    watcher.control({ type: 'resize', cols: 20, rows: 5 });
    watcher.control({ type: 'pause' });
    term.type('stty size; echo "learner=$((2+2))"\n');
    await term.waitFor('learner=4');
    await watcher.waitFor('learner=4');
    assert.match(term.output(), /30 100/, 'the size stays the learner\'s');
    assert.doesNotMatch(term.output(), /WATCHER/);
    assert.doesNotMatch(watcher.output(), /WATCHER/);

    const line = (msg: string) => logLines.find((l) => l.msg === msg && l.sessionId === id);
    assert.equal(line('watch granted')?.watcherId, 'ines');
    assert.equal(line('watching started')?.watcherName, 'ines@example.org');

    await watcher.close();
    await term.waitForControl((m) => m.type === 'watchers' && Array.isArray(m.names) && m.names.length === 0);
    await waitUntil(() => line('watching ended') !== undefined, 5000, 'the end of the watch logged');

    // A watcher of a session that ends is closed like the owner, with the exit message.
    const again = await open((await instructor('POST', `/api/sessions/${id}/watch`)).body.wsUrl as string, instructorHeaders);
    await again.waitFor('learner=4');
    await learner('DELETE', `/api/sessions/${id}`);
    assert.equal((await again.closed).code, 1000);
    assert.ok(again.controls.some((c) => c.type === 'exit'));
    const ended = await instructor('POST', `/api/sessions/${id}/watch`);
    assert.equal(ended.status, 409);
    assertMatchesOpenApi('post', '/api/sessions/{sessionId}/watch', 409, ended.body);
  });

  it('a stalled watcher does not stall the learner; once it reads again it catches up with a fresh screen', { timeout: 90_000 }, async () => {
    const { id, term } = await learnerSession();
    const watcher = await open((await instructor('POST', `/api/sessions/${id}/watch`)).body.wsUrl as string, instructorHeaders);
    await watcher.waitForControl((m) => m.type === 'size');
    const socket = (watcher.ws as unknown as { _socket: Duplex })._socket;
    socket.pause(); // reads nothing more: the server's sends to it back up

    // 6 MB of output: more than the socket buffers between the server and the stalled watcher hold (at most
    // about 4 MB here); the stall must stay short of the server's heartbeat, which cuts off a peer that stops
    // answering pings for 15-30 s.
    // (Counted here as it comes: waiting on the whole output after every message would be quadratic.)
    let received = 0;
    let tail = '';
    const flooded = new Promise<void>((resolve) => {
      term.ws.on('message', (data, isBinary) => {
        if (!isBinary) return;
        received += (data as Buffer).length;
        tail = (tail + (data as Buffer).toString('latin1')).slice(-64);
        if (tail.includes('flood-9-done')) resolve();
      });
    });
    term.type('yes "a line of output to fill the pipes" | head -c 6000000; echo "flood-$((3*3))-done"\n');
    await flooded;
    assert.ok(received > 6_000_000, 'the learner got all of it while the watcher read nothing');

    socket.resume();
    // A fresh screen comes with the size first: the second `size` marks the catch-up.
    await watcher.waitForControl((m) => m.type === 'size' && watcher.controls.filter((c) => c.type === 'size').length >= 2, 30_000);
    await watcher.waitFor('flood-9-done', 30_000);
    assert.ok(Buffer.byteLength(watcher.output()) < 6_000_000, 'the watcher was skipped, not sent everything');
    await watcher.close();
    await term.close();
    await learner('DELETE', `/api/sessions/${id}`);
  });
});
