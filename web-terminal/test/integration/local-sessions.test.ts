// The local runtime end to end: a real server, real bubblewrap sandboxes, a real WebSocket client.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { sandboxProcesses, waitUntil } from '../helpers/processes.ts';
import { processesMentioning } from '../helpers/service-process.ts';
import { assertMatchesOpenApi } from '../helpers/openapi.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';

/** A fresh socket URL for a session (socket URLs may carry a one-time ticket). */
async function attachUrl(service: Service, id: string): Promise<string> {
  const res = await api(service, 'POST', `/api/sessions/${id}/attach`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return wsUrl(service.url, res.body.wsUrl as string);
}

async function newSession(service: Service) {
  const res = await api(service, 'POST', '/api/sessions', {});
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assertMatchesOpenApi('post', '/api/sessions', 201, res.body);
  return res.body as { id: string; wsUrl: string; state: string };
}

describe('local sessions', () => {
  let service: Service;
  before(async () => {
    service = await startTestService({ MAX_SESSIONS: '4', MAX_SESSIONS_PER_USER: '4', SESSION_CREATES_PER_MINUTE: '1000', METRICS_PORT: '0' });
  });
  after(async () => {
    await service.close();
    assert.deepEqual(sandboxProcesses(), [], 'shutdown leaves no sandbox process');
  });

  it('runs a typed command and returns its output', async () => {
    const session = await newSession(service);
    assert.equal(session.state, 'starting');
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    await term.waitForControl((m) => m.type === 'status' && m.state === 'running');
    term.type('echo "sum=$((40+2))"\n');
    await term.waitFor('sum=42');
    const listed = await api(service, 'GET', '/api/sessions');
    assertMatchesOpenApi('get', '/api/sessions', 200, listed.body);
    assert.ok((listed.body.sessions as Array<{ id: string; attached: boolean }>).some((s) => s.id === session.id && s.attached));
    await term.close();
    assert.equal((await api(service, 'DELETE', `/api/sessions/${session.id}`)).status, 204);
  });

  it('resizes the pty: stty size inside follows the browser', async () => {
    const session = await newSession(service);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    term.control({ type: 'resize', cols: 132, rows: 43 });
    term.type('stty size\n');
    await term.waitFor(/43 132/);
    term.control({ type: 'resize', cols: 90, rows: 30 });
    term.type('stty size\n');
    await term.waitFor(/30 90/);
    await term.close();
    await api(service, 'DELETE', `/api/sessions/${session.id}`);
  });

  it('DELETE ends the session, closes the socket with 1000 and leaves no sandbox process', async () => {
    const session = await newSession(service);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    term.type('sleep 300 & sleep 301 & echo started-$$\n');
    await term.waitFor(/started-\d+/);
    assert.ok(sandboxProcesses().length > 0, 'the sandbox is visible in the process table while running');
    const res = await api(service, 'DELETE', `/api/sessions/${session.id}`);
    assert.equal(res.status, 204);
    assert.equal((await term.closed).code, 1000);
    assert.deepEqual(sandboxProcesses(), [], 'no process of the sandbox survives DELETE');
    // Also outside this process's tree: the sandbox's own init must not linger after bubblewrap exits.
    assert.deepEqual(processesMentioning(session.id), []);
    const after = await api(service, 'GET', `/api/sessions/${session.id}`);
    assertMatchesOpenApi('get', '/api/sessions/{sessionId}', 200, after.body);
    assert.equal(after.body.state, 'ended');
    assert.equal(after.body.reason, 'deleted');
  });

  it('ends the session with the exit code when the program exits', async () => {
    const session = await newSession(service);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    await term.waitForControl((m) => m.type === 'status' && m.state === 'running');
    term.type('exit 7\n');
    const exit = await term.waitForControl((m) => m.type === 'exit');
    assert.equal(exit.code, 7);
    assert.equal((await term.closed).code, 1000);
    await waitUntil(() => sandboxProcesses().length === 0, 10_000, 'sandbox gone after exit');
    const view = await api(service, 'GET', `/api/sessions/${session.id}`);
    assert.equal(view.body.state, 'ended');
    assert.equal(view.body.exitCode, 7);
  });

  it('admits exactly MAX_SESSIONS of 50 parallel creates; the rest get 429 with Retry-After', async () => {
    // A session that ended by itself (the previous test) keeps its slot until its end is done (the last
    // conversation save, then its sandbox stopped): all MAX_SESSIONS slots must be free before the burst.
    await waitUntil(() => service.manager.activeCount === 0, 30_000, 'earlier sessions to release their slots');
    const results = await Promise.all(Array.from({ length: 50 }, () => api(service, 'POST', '/api/sessions', {})));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(created.length, 4);
    assert.equal(refused.length, 46);
    assertMatchesOpenApi('post', '/api/sessions', 429, refused[0]!.body);
    for (const r of refused) {
      assert.equal(r.body.error?.code, 'session_limit');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    await waitUntil(() => sandboxProcesses().filter((p) => p.comm === 'bwrap').length >= 4, 15_000, 'four sandboxes running');
    await Promise.all(created.map((r) => api(service, 'DELETE', `/api/sessions/${(r.body as { id: string }).id}`)));
    assert.deepEqual(sandboxProcesses(), [], 'zero sandbox processes after deleting all');
    for (const r of created) assert.deepEqual(processesMentioning((r.body as { id: string }).id), []);
    const again = await api(service, 'POST', '/api/sessions', {});
    assert.equal(again.status, 201, 'slots are free again');
    await api(service, 'DELETE', `/api/sessions/${(again.body as { id: string }).id}`);
  });

  it('refuses a cross-origin upgrade before attaching, and accepts the same origin and configured ones', async () => {
    const session = await newSession(service);
    await assert.rejects(openTerminal(wsUrl(service.url, session.wsUrl), { origin: 'https://evil.example' }), (err: Error & { statusCode?: number }) => err.statusCode === 403);
    const sameOrigin = await openTerminal(await attachUrl(service, session.id), { origin: service.url });
    await sameOrigin.close();
    await api(service, 'DELETE', `/api/sessions/${session.id}`);
  });

  it('closes the socket with 1009 on an oversized frame and keeps the session and others serving', async () => {
    const small = await startTestService({ WS_MAX_MESSAGE_BYTES: '4096' });
    try {
      const a = await newSession(small);
      const b = await newSession(small);
      const termA = await openTerminal(wsUrl(small.url, a.wsUrl));
      const termB = await openTerminal(wsUrl(small.url, b.wsUrl));
      termA.ws.send(Buffer.alloc(8192, 0x61), { binary: true });
      assert.equal((await termA.closed).code, 1009);
      termB.type('echo still-serving-b\n');
      await termB.waitFor('still-serving-b');
      const again = await openTerminal(await attachUrl(small, a.id));
      again.type('echo still-serving-a\n');
      await again.waitFor('still-serving-a');
      await again.close();
      await termB.close();
    } finally {
      await small.close();
    }
  });

  it('answers a malformed control message with an error and keeps serving the session', async () => {
    const session = await newSession(service);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    term.control('{not json');
    const error = await term.waitForControl((m) => m.type === 'error');
    assert.equal(error.code, 'bad_message');
    term.control({ type: 'resize', cols: -1, rows: 10 });
    term.control({ type: 'launch', what: 'rockets' });
    await term.waitForControl((m) => m.type === 'error' && String(m.message).includes('type'));
    term.control({ type: 'ping' });
    await term.waitForControl((m) => m.type === 'pong');
    term.type('echo alive-after-garbage\n');
    await term.waitFor('alive-after-garbage');
    assert.equal(term.ws.readyState, term.ws.OPEN);
    await term.close();
    await api(service, 'DELETE', `/api/sessions/${session.id}`);
  });

  it('keeps the session when the socket drops; reattaching reaches the same program and replays the screen', async () => {
    const session = await newSession(service);
    const first = await openTerminal(wsUrl(service.url, session.wsUrl));
    first.type('export MARK=$$; echo "pid=$MARK"\n');
    const out = await first.waitFor(/pid=\d+/);
    const pid = /pid=(\d+)/.exec(out)![1];
    first.ws.terminate();
    await first.closed;
    let view = await api(service, 'GET', `/api/sessions/${session.id}`);
    const deadline = Date.now() + 5000;
    while (view.body.attached && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      view = await api(service, 'GET', `/api/sessions/${session.id}`);
    }
    assert.equal(view.body.state, 'running');
    assert.equal(view.body.attached, false, 'the server noticed the dropped socket');
    const second = await openTerminal(await attachUrl(service, session.id));
    await second.waitFor(`pid=${pid}`); // replayed screen
    second.type('echo "again=$MARK"\n');
    await second.waitFor(`again=${pid}`); // same shell, same state
    await second.close();
    await api(service, 'DELETE', `/api/sessions/${session.id}`);
  });

  it('a second viewer takes over; the first is closed with 4001', async () => {
    const session = await newSession(service);
    const first = await openTerminal(wsUrl(service.url, session.wsUrl));
    const second = await openTerminal(await attachUrl(service, session.id));
    assert.equal((await first.closed).code, 4001);
    second.type('echo taken-over\n');
    await second.waitFor('taken-over');
    await second.close();
    await api(service, 'DELETE', `/api/sessions/${session.id}`);
  });

  it('pausing output stops the program from producing more until resumed', async () => {
    const session = await newSession(service);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    term.type('i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.01; done\n');
    await term.waitFor(/tick 5\b/);
    term.control({ type: 'pause' });
    await new Promise((r) => setTimeout(r, 300));
    const pausedAt = term.output().length;
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(term.output().length - pausedAt < 2048, 'output stops while paused (only what was in flight arrives)');
    term.control({ type: 'resume' });
    const last = Number(/tick (\d+)\s*$/.exec(term.output().trimEnd())?.[1] ?? 0);
    await term.waitFor(new RegExp(`tick ${last + 20}\\b`));
    await term.close();
    await api(service, 'DELETE', `/api/sessions/${session.id}`);
  });

  it('validates the create request and answers JSON errors', async () => {
    const bad = await api(service, 'POST', '/api/sessions', { courseId: '../etc', stage: 'x' });
    assert.equal(bad.status, 400);
    assertMatchesOpenApi('post', '/api/sessions', 400, bad.body);
    assert.equal(bad.body.error?.code, 'bad_request');
    const unknown = await api(service, 'POST', '/api/sessions', { hack: true });
    assert.equal(unknown.status, 400);
    const notJson = await api(service, 'POST', '/api/sessions', '{oops', { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error?.code, 'invalid_json');
    const huge = await api(service, 'POST', '/api/sessions', JSON.stringify({ courseId: 'x'.repeat(100_000) }), { 'content-type': 'application/json' });
    assert.equal(huge.status, 413);
    const missing = await api(service, 'GET', '/api/sessions/aaaaaaaaaaaaaaaaaaaa');
    assert.equal(missing.status, 404);
    assertMatchesOpenApi('get', '/api/sessions/{sessionId}', 404, missing.body);
    assert.deepEqual(Object.keys(missing.body.error!).sort(), ['code', 'message']);
    const noSuchCourse = await api(service, 'POST', '/api/sessions', { courseId: 'no-such-course' });
    assert.equal(noSuchCourse.status, 404);
  });

  it('answers an upgrade with an unparsable target with 400 and keeps serving', async () => {
    const { port } = new URL(service.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`GET http://[/ws/sessions/x HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await api(service, 'GET', '/healthz')).status, 200);
  });

  it('serves health and readiness, and metrics only on their own loopback listener', async () => {
    assert.equal((await api(service, 'GET', '/healthz')).status, 200);
    const ready = await api(service, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    const publicMetrics = await fetch(`${service.url}/metrics`);
    assert.equal(publicMetrics.status, 404, 'no metrics on the public port');
    assert.doesNotMatch(await publicMetrics.text(), /# HELP/);
    assert.match(service.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.notEqual(new URL(service.metricsUrl!).port, new URL(service.url).port);
    const metrics = await fetch(service.metricsUrl!).then((r) => r.text());
    for (const name of ['webterminal_active_sessions', 'webterminal_session_start_seconds', 'webterminal_bridged_bytes_total', 'webterminal_rejections_total']) {
      assert.ok(metrics.includes(name), `metrics include ${name}`);
    }
    assert.match(metrics, /webterminal_rejections_total\{reason="session_limit"\} \d+/);
  });
});
