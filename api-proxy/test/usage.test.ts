// Usage taps read the bytes as they stream past, whatever the chunk boundaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sseEvents } from '../../web-terminal/test/fakes/fake-anthropic.ts';
import { JsonUsageTap, SseUsageTap } from '../src/usage.ts';

const usage = { input_tokens: 321, output_tokens: 47, cache_creation_input_tokens: 5, cache_read_input_tokens: 1200 };
const stream = sseEvents('msg_1', 'claude-x', [{ type: 'text', text: 'héllo wörld ✓ '.repeat(20) }], 'end_turn', usage)
  .map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`)
  .join('');

test('SSE: message_start usage plus the cumulative message_delta counts, for any chunking', () => {
  const bytes = Buffer.from(stream);
  for (const size of [1, 2, 3, 7, 64, 1000, bytes.length]) {
    const tap = new SseUsageTap();
    for (let i = 0; i < bytes.length; i += size) tap.push(bytes.subarray(i, i + size));
    assert.deepEqual(tap.result(), usage, `chunk size ${size}`);
  }
});

test('SSE: CRLF line endings and multi-line data', () => {
  const tap = new SseUsageTap();
  const start = JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 10, output_tokens: 1 } } });
  tap.push(Buffer.from(`event: message_start\r\ndata: ${start}\r\n\r\n`));
  tap.push(Buffer.from('event: message_delta\r\ndata: {"type":"message_delta",\r\ndata: "usage":{"output_tokens":9}}\r\n\r\n'));
  assert.deepEqual(tap.result(), { input_tokens: 10, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
});

test('SSE: a stream cut after message_start still reports the input tokens; garbage is ignored', () => {
  const tap = new SseUsageTap();
  tap.push(Buffer.from(stream.slice(0, stream.indexOf('event: content_block_start'))));
  tap.push(Buffer.from('event: message_delta\ndata: {not json\n\n'));
  assert.equal(tap.result()?.input_tokens, 321);
  assert.equal(tap.result()?.output_tokens, 1);
  assert.equal(new SseUsageTap().result(), undefined);
});

test('JSON: the top-level usage, and nothing for bodies without one or over the cap', () => {
  const body = Buffer.from(JSON.stringify({ type: 'message', content: [], usage }));
  const tap = new JsonUsageTap();
  tap.push(body.subarray(0, 10));
  tap.push(body.subarray(10));
  assert.deepEqual(tap.result(), usage);
  const none = new JsonUsageTap();
  none.push(Buffer.from('{"input_tokens":5}'));
  assert.equal(none.result(), undefined);
  const capped = new JsonUsageTap(8);
  capped.push(body);
  assert.equal(capped.result(), undefined);
});
