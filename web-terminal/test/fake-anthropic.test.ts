// The fake Anthropic API speaks the wire formats the CLI and the proxy rely on, and its prompt
// scripting behaves as documented (tool steps, final echo, text, json_schema, fail-NNN).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { parseToolDirectives, startFakeAnthropic, type FakeAnthropic } from './fakes/fake-anthropic.ts';

function call(fake: FakeAnthropic, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(`${fake.url}${path}`, { method, headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-dummy-123', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function parseSse(text: string) {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
      return { event, data };
    });
}

const TOOLS = [{ name: 'Read', input_schema: { type: 'object' } }, { name: 'Bash', input_schema: { type: 'object' } }];
const PROMPT = 'x [[tool:Read {"file_path":"/w/a.txt"}]] [[tool:Bash {"command":"echo ]] done"}]]';

describe('fake Anthropic API', () => {
  let fake: FakeAnthropic;
  before(async () => {
    fake = await startFakeAnthropic();
  });
  after(() => fake.close());

  test('JSON message with the default text, deterministic usage, and a full request record', async () => {
    fake.reset();
    const body = { model: 'claude-opus-4-8', max_tokens: 100, messages: [{ role: 'user', content: 'say hello' }] };
    const r = await call(fake, 'POST', '/v1/messages?beta=true', body, { 'anthropic-version': '2023-06-01' });
    assert.equal(r.status, 200);
    const msg = JSON.parse(r.text);
    assert.equal(msg.type, 'message');
    assert.equal(msg.model, 'claude-opus-4-8');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Hello from the fake Anthropic API!' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    const bytes = Buffer.byteLength(JSON.stringify(body));
    assert.deepEqual(msg.usage, { input_tokens: Math.ceil(bytes / 4), output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    assert.equal(fake.hits(), 1);
    const rec = fake.requests[0]!;
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/v1/messages');
    assert.deepEqual(rec.query, { beta: 'true' });
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(rec.body, body);
    assert.deepEqual(rec.reply?.usage, msg.usage);
    await fake.waitFor(() => rec.completed);
    assert.equal(rec.aborted, false);
  });

  test('SSE stream: the event sequence of the real API, and usage split over start and delta', async () => {
    const body = { model: 'claude-x', max_tokens: 100, stream: true, messages: [{ role: 'user', content: '[[text:streamed reply that is long enough to split]]' }] };
    const r = await call(fake, 'POST', '/v1/messages', body);
    assert.equal(r.headers['content-type'], 'text/event-stream; charset=utf-8');
    const events = parseSse(r.text);
    const names = events.map((e) => e.event);
    assert.equal(names[0], 'message_start');
    assert.deepEqual(names.slice(1, 3), ['content_block_start', 'ping']);
    assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    for (const e of events) assert.equal(e.data.type, e.event);
    const text = events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text).join('');
    assert.equal(text, 'streamed reply that is long enough to split');
    const start = events[0]!.data.message;
    assert.equal(start.usage.output_tokens, 1);
    const delta = events.find((e) => e.event === 'message_delta')!.data;
    assert.equal(delta.delta.stop_reason, 'end_turn');
    assert.equal(delta.usage.output_tokens, fake.requests.at(-1)!.reply!.usage!.output_tokens);
  });

  test('tool steps one per request, then the FINAL ANSWER echo of the last tool_result', async () => {
    const messages: any[] = [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const first = parseSse((await call(fake, 'POST', '/v1/messages', { model: 'm', max_tokens: 10, stream: true, tools: TOOLS, messages })).text);
    const toolStart = first.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use')!;
    assert.equal(toolStart.data.content_block.name, 'Read');
    const json = first.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
    assert.deepEqual(JSON.parse(json), { file_path: '/w/a.txt' });
    assert.equal(first.find((e) => e.event === 'message_delta')!.data.delta.stop_reason, 'tool_use');

    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: toolStart.data.content_block.id, name: 'Read', input: {} }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: toolStart.data.content_block.id, content: 'file body' }, { type: 'text', text: '<system-reminder>x</system-reminder>' }] });
    const second = JSON.parse((await call(fake, 'POST', '/v1/messages', { model: 'm', max_tokens: 10, tools: TOOLS, messages })).text);
    assert.equal(second.content[1].name, 'Bash');
    assert.deepEqual(second.content[1].input, { command: 'echo ]] done' });

    messages.push({ role: 'assistant', content: [second.content[1]] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: second.content[1].id, is_error: true, content: [{ type: 'text', text: 'No such tool available: Bash' }] }] });
    const third = JSON.parse((await call(fake, 'POST', '/v1/messages', { model: 'm', max_tokens: 10, tools: TOOLS, messages })).text);
    assert.equal(third.stop_reason, 'end_turn');
    assert.equal(third.content[0].text, 'FINAL ANSWER.\ntool_result(is_error=true): No such tool available: Bash');
  });

  test('no tool step without a tools array; json_schema output is synthesised', async () => {
    const plain = JSON.parse((await call(fake, 'POST', '/v1/messages', { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: PROMPT }] })).text);
    assert.equal(plain.content.length, 1);
    assert.equal(plain.content[0].type, 'text');
    const title = JSON.parse((await call(fake, 'POST', '/v1/messages', {
      model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'anything' }],
      output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } } },
    })).text);
    assert.equal(typeof JSON.parse(title.content[0].text).title, 'string');
  });

  test('fail-NNN in the credential, count_tokens, models, pre-connect, 404 shape, __requests', async () => {
    for (const status of [401, 429, 529]) {
      const r = await call(fake, 'POST', '/v1/messages', { model: 'm', max_tokens: 1, messages: [] }, { 'x-api-key': `sk-ant-fail-${status}` });
      assert.equal(r.status, status);
      assert.equal(JSON.parse(r.text).type, 'error');
    }
    const bearer = await call(fake, 'POST', '/v1/messages/count_tokens', { model: 'm', messages: [] }, { 'x-api-key': '', authorization: 'Bearer fail-500' });
    assert.equal(bearer.status, 500);
    assert.equal(JSON.parse(bearer.text).error.type, 'api_error');
    const count = await call(fake, 'POST', '/v1/messages/count_tokens', { model: 'm', messages: [] });
    assert.equal(typeof JSON.parse(count.text).input_tokens, 'number');
    assert.equal((await call(fake, 'GET', '/v1/models')).status, 200);
    for (const path of ['/', '/api/hello']) assert.equal((await call(fake, 'HEAD', path)).status, 200);
    const missing = await call(fake, 'GET', '/v1/nope');
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.text).error.type, 'not_found_error');
    const listed = JSON.parse((await call(fake, 'GET', '/__requests')).text);
    assert.equal(listed.length, fake.requests.length);
    const hits = fake.hits();
    await call(fake, 'DELETE', '/__requests');
    assert.equal(fake.requests.length, 0);
    assert.ok(hits > 0);
    assert.equal(fake.hits(), 0);
  });

  test('SSE delay hook and abort observation', async () => {
    fake.sseDelayMs = 200;
    try {
      const closed = new Promise<boolean>((resolve) => fake.events.once('closed', (rec) => resolve(rec.aborted)));
      const req = http.request(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => req.destroy());
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'm', max_tokens: 1, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(await closed, true);
    } finally {
      fake.sseDelayMs = 0;
    }
  });

  test('directive parser', () => {
    assert.deepEqual(parseToolDirectives('[[tool:Glob]] and [[tool:Grep {"pattern":"a}b"}]]'), [
      { name: 'Glob', input: {} },
      { name: 'Grep', input: { pattern: 'a}b' } },
    ]);
    assert.deepEqual(parseToolDirectives('[[tool:Broken {"x":'), []);
  });
});
