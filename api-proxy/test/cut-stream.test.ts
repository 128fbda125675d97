// A stream the upstream cuts inside an SSE event (connection reset, or silence past the idle
// timeout) reaches the official SDK as an APIError, not as a JSON parse error of half a line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { startRig, type Rig } from './helpers.ts';

describe('a stream cut mid-event gives the official SDK an APIError', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig({ UPSTREAM_IDLE_TIMEOUT_MS: '400' });
  });
  after(() => rig.close());

  const client = () => new Anthropic({ apiKey: rig.credential(), baseURL: rig.url, maxRetries: 0, timeout: 20_000 });

  for (const how of ['reset', 'stall'] as const) {
    // Inside a data line, inside an event line, after a data line (event not yet ended), between events.
    for (const at of ['"text_delta","te', 'event: content_block_del', '"text":"Hello from the f"}}\n', '"text":"Hello from the f"}}\n\n']) {
      test(`${how} after ${JSON.stringify(at)}`, { timeout: 30_000 }, async () => {
        rig.fake.script = () => ({ kind: 'cut', at, how });
        try {
          const seen: string[] = [];
          const stream = client().messages.stream({ model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
          stream.on('text', (t) => seen.push(t));
          const outcome = await stream.finalMessage().then(() => 'finished', (err: unknown) => err);
          assert.ok(outcome instanceof APIError, `expected an APIError, got ${String(outcome)}`);
          assert.match(outcome.message, /upstream/);
          // What arrived whole before the cut was still delivered.
          if (at.endsWith('\n\n')) assert.equal(seen.join(''), 'Hello from the f');
        } finally {
          rig.fake.script = undefined;
        }
      });
    }
  }

  test('the raw stream: the partial line is closed before the error event', async () => {
    rig.fake.script = () => ({ kind: 'cut', at: '"text_delta","te', how: 'reset' });
    try {
      const res = await fetch(`${rig.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': rig.credential() },
        body: JSON.stringify({ model: 'claude-x', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.text();
      assert.match(text, /"text_delta","te\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"the upstream connection failed"\}\}\n\n$/);
    } finally {
      rig.fake.script = undefined;
    }
  });
});
