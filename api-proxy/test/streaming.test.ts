// Streaming behaviour: SSE events flow through as they happen, a client abort closes the upstream
// request, upstream timeouts and failures give clean Anthropic-shaped errors, and usage is accounted
// for both response kinds exactly as the upstream reported it.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RecordedRequest } from '../../web-terminal/test/fakes/fake-anthropic.ts';
import { apiHeaders, messagesBody, request, startRig, waitFor, type Rig } from './helpers.ts';
import { USAGE_KINDS } from '../src/usage.ts';

/** Opens a streaming request and resolves with the response once the first body bytes arrive. */
function openStream(rig: Rig, credential: string, body: string) {
  return new Promise<{ req: http.ClientRequest; res: http.IncomingMessage; first: string; rest: Promise<string> }>(
    (resolve, reject) => {
      const req = http.request(
        { hostname: '127.0.0.1', port: rig.port, path: '/v1/messages?beta=true', method: 'POST', headers: apiHeaders(credential), agent: false },
        (res) => {
          let text = '';
          let done!: (s: string) => void;
          const rest = new Promise<string>((r) => (done = r));
          res.on('data', (chunk: Buffer) => {
            const first = text === '';
            text += chunk.toString('utf8');
            if (first) resolve({ req, res, first: text, rest });
          });
          res.on('end', () => done(text));
          res.on('close', () => done(text));
          res.on('error', () => done(text));
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

async function metricValue(rig: Rig, pattern: RegExp): Promise<number> {
  const text = (await request(rig.url, { method: 'GET', path: '/metrics' })).text;
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Tokens of one kind counted so far (the metric has no per-session label: tests compare before and after). */
const tokens = (rig: Rig, kind: string) => metricValue(rig, new RegExp(`^api_proxy_tokens_total\\{kind="${kind}"\\} (\\d+)$`, 'm'));
const tokensByKind = async (rig: Rig) => Object.fromEntries(await Promise.all(USAGE_KINDS.map(async (kind) => [kind, await tokens(rig, kind)] as const)));

describe('streaming', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig({ UPSTREAM_IDLE_TIMEOUT_MS: '5000' });
  });
  after(() => rig.close());

  test('the first SSE event reaches the client before the upstream has finished the stream', async () => {
    rig.fake.reset();
    rig.fake.sseDelayMs = 150;
    try {
      const stream = await openStream(rig, rig.credential(), messagesBody({ stream: true }));
      assert.match(stream.first, /^event: message_start\n/);
      assert.equal(stream.res.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(stream.res.headers['content-encoding'], undefined);
      const upstream = rig.fake.requests[0]!;
      assert.equal(upstream.completed, false, 'the upstream stream had already finished');
      const all = await stream.rest;
      assert.match(all, /event: message_stop\n/);
      await waitFor(() => upstream.completed);
    } finally {
      rig.fake.sseDelayMs = 0;
    }
  });

  test('a client abort closes the upstream request, and the tokens already reported are still counted', async () => {
    rig.fake.reset();
    rig.fake.sseDelayMs = 2000;
    try {
      const closed = new Promise<RecordedRequest>((resolve) => rig.fake.events.once('closed', resolve));
      const before = await tokens(rig, 'input_tokens');
      const stream = await openStream(rig, rig.credential({ sessionId: 'abort-1' }), messagesBody({ stream: true }));
      assert.match(stream.first, /message_start/);
      stream.req.destroy();
      const upstream = await closed;
      assert.equal(upstream.aborted, true);
      const input = upstream.reply!.usage!.input_tokens;
      await eventually(async () => (await tokens(rig, 'input_tokens')) === before + input);
      await eventually(async () => (await metricValue(rig, /api_proxy_upstream_in_flight (\d+)/)) === 0);
    } finally {
      rig.fake.sseDelayMs = 0;
    }
  });

  test('usage accounting matches what the upstream reported, for SSE and JSON responses', async () => {
    rig.fake.reset();
    const reported = { input_tokens: 1234, output_tokens: 56, cache_creation_input_tokens: 78, cache_read_input_tokens: 90 };
    rig.fake.script = () => ({ kind: 'message', content: [{ type: 'text', text: 'counted' }], usage: reported });
    try {
      const beforeSse = await tokensByKind(rig);
      const sse = await request(rig.url, { headers: apiHeaders(rig.credential({ sessionId: 'usage-sse' })), body: messagesBody({ stream: true }) });
      assert.match(sse.text, /message_stop/);
      const beforeJson = await tokensByKind(rig);
      for (const [kind, value] of Object.entries(reported)) assert.equal(beforeJson[kind]! - beforeSse[kind]!, value, `SSE ${kind}`);
      const json = await request(rig.url, { headers: apiHeaders(rig.credential({ sessionId: 'usage-json' })), body: messagesBody() });
      assert.deepEqual(json.json().usage, reported);
      const afterJson = await tokensByKind(rig);
      for (const [kind, value] of Object.entries(reported)) assert.equal(afterJson[kind]! - beforeJson[kind]!, value, `JSON ${kind}`);
    } finally {
      rig.fake.script = undefined;
    }
    // The fake's own deterministic numbers, through a tool step (message_delta carries the final output count).
    rig.fake.reset();
    const beforeTool = await tokensByKind(rig);
    const body = messagesBody({ stream: true, tools: [{ name: 'Read', input_schema: { type: 'object' } }] }, 'go [[tool:Read {"file_path":"/w/a.txt"}]]');
    const r = await request(rig.url, { headers: apiHeaders(rig.credential({ sessionId: 'usage-tool' })), body });
    assert.match(r.text, /input_json_delta/);
    const usage = rig.fake.requests[0]!.reply!.usage!;
    assert.equal((await tokens(rig, 'input_tokens')) - beforeTool.input_tokens!, usage.input_tokens);
    assert.equal((await tokens(rig, 'output_tokens')) - beforeTool.output_tokens!, usage.output_tokens);
  });

  test('an upstream that never answers gives 504 and the upstream request is closed', async () => {
    const slow = await startRig({ UPSTREAM_IDLE_TIMEOUT_MS: '300' });
    try {
      slow.fake.script = () => ({ kind: 'hang' });
      const r = await request(slow.url, { headers: apiHeaders(slow.credential()), body: messagesBody() });
      assert.equal(r.status, 504);
      assert.deepEqual(Object.keys(r.json()), ['type', 'error']);
      assert.equal(r.json().error.type, 'api_error');
      await waitFor(() => slow.fake.requests[0]?.aborted === true);
    } finally {
      await slow.close();
    }
  });

  test('an upstream that goes silent mid-stream ends the stream with an SSE error event', async () => {
    const slow = await startRig({ UPSTREAM_IDLE_TIMEOUT_MS: '400' });
    try {
      slow.fake.sseDelayMs = 3000;
      const stream = await openStream(slow, slow.credential(), messagesBody({ stream: true }));
      const all = await stream.rest;
      assert.match(all, /^event: message_start/);
      assert.match(all, /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"[^"]+"\}\}\n\n$/);
    } finally {
      await slow.close();
    }
  });

  test('connect timeout (a TLS upstream that never completes the handshake) gives 504', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const rig2 = await startRig({ UPSTREAM_URL: `https://127.0.0.1:${port}`, UPSTREAM_CONNECT_TIMEOUT_MS: '300' });
    try {
      const r = await request(rig2.url, { headers: apiHeaders(rig2.credential()), body: messagesBody() });
      assert.equal(r.status, 504);
      assert.equal(r.json().error.type, 'api_error');
      assert.match(r.json().error.message, /connecting/);
    } finally {
      await rig2.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('an unreachable upstream gives 502', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const rig2 = await startRig({ UPSTREAM_URL: `http://127.0.0.1:${port}` });
    try {
      const r = await request(rig2.url, { headers: apiHeaders(rig2.credential()), body: messagesBody() });
      assert.equal(r.status, 502);
      assert.equal(r.json().type, 'error');
    } finally {
      await rig2.close();
    }
  });
});
