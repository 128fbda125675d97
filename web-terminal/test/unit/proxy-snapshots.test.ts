// The live-session pusher against a real HTTP endpoint: it pushes on every change and as a heartbeat,
// signs each push with increasing stamps, rides out an outage with one warning, and hands replies on.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { CONTROL_SIGNATURE_HEADER, verifyControlSignature, type ControlReply } from 'api-proxy';
import { startSnapshotPusher } from '../../src/proxy-snapshots.ts';
import { waitUntil } from '../helpers/processes.ts';

const SECRET = 'pusher-test-shared-secret-0123456789abcdef';

test('pushes changes at once and a heartbeat, signed, through an outage', { timeout: 30_000 }, async () => {
  const received: Array<{ stamp: number; ids: string[] }> = [];
  let down = false;
  let attempts = 0;
  const server = http.createServer((req, res) => {
    attempts += 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (down) {
        res.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const verdict = verifyControlSignature(SECRET, req.headers[CONTROL_SIGNATURE_HEADER] as string, body);
      assert.ok(verdict.ok, 'every push is signed');
      const snapshot = JSON.parse(body.toString()) as { source: string; sessions: Array<{ id: string }>; ttlMs: number };
      assert.equal(snapshot.source, 'test-source');
      received.push({ stamp: verdict.stamp, ids: snapshot.sessions.map((s) => s.id) });
      const reply: ControlReply = { apiKeyConfigured: true, outcomes: { a: 'upstream_overloaded' } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let logs = '';
  const sink = new Writable({ write(chunk, _enc, done) { logs += String(chunk); done(); } });
  let live = [{ id: 'a', userHash: 'u' }];
  const replies: ControlReply[] = [];
  const pushers: Array<{ close(): void }> = [];
  const startPusher = (heartbeatMs: number) => {
    const pusher = startSnapshotPusher({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secret: SECRET,
      source: 'test-source',
      liveSessions: () => [...live],
      onReply: (reply) => replies.push(reply),
      logger: pino({ level: 'info' }, sink),
      heartbeatMs,
      checkMs: 20,
    });
    pushers.push(pusher);
    return pusher;
  };
  try {
    // A heartbeat far away: whatever arrives next was pushed because the set changed.
    const slow = startPusher(600_000);
    await waitUntil(() => replies.length >= 1, 5000, 'the first push and its reply');
    assert.deepEqual(received[0]!.ids, ['a']);
    assert.deepEqual(replies[0], { apiKeyConfigured: true, outcomes: { a: 'upstream_overloaded' } });
    live = [];
    await waitUntil(() => received.at(-1)!.ids.length === 0, 5000, 'the change pushed');
    slow.close();

    startPusher(200);
    const count = received.length;
    await waitUntil(() => received.length >= count + 3, 5000, 'heartbeats with an unchanged set');
    for (let i = 1; i < received.length; i++) assert.ok(received[i]!.stamp > received[i - 1]!.stamp, 'stamps increase');

    down = true;
    await waitUntil(() => /cannot push live sessions/.test(logs), 5000, 'the outage warning');
    const failedSoFar = attempts;
    await waitUntil(() => attempts >= failedSoFar + 3, 5000, 'retries during the outage');
    assert.equal(logs.match(/cannot push live sessions/g)!.length, 1, 'one warning per outage');
    const before = received.length;
    down = false;
    await waitUntil(() => received.length > before, 5000, 'pushes after the outage');
    await waitUntil(() => /accepts live-session snapshots again/.test(logs), 5000, 'the recovery note');
  } finally {
    for (const pusher of pushers) pusher.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
