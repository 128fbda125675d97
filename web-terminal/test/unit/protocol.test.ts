import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControlMessage } from '../../src/ws/protocol.ts';

describe('control message parsing', () => {
  it('accepts the four client messages', () => {
    assert.deepEqual(parseControlMessage('{"type":"resize","cols":120,"rows":40}'), { ok: true, message: { type: 'resize', cols: 120, rows: 40 } });
    for (const type of ['ping', 'pause', 'resume']) assert.deepEqual(parseControlMessage(JSON.stringify({ type })), { ok: true, message: { type } });
  });

  const rejected: Array<[string, string, RegExp]> = [
    ['not JSON', '{type:resize', /not valid JSON/],
    ['an unknown type', '{"type":"exec","cmd":"id"}', /invalid control message/],
    ['a missing field', '{"type":"resize","cols":80}', /rows/],
    ['a fractional size', '{"type":"resize","cols":80.5,"rows":24}', /cols/],
    ['a zero size', '{"type":"resize","cols":0,"rows":24}', /cols/],
    ['a huge size', '{"type":"resize","cols":100000,"rows":24}', /cols/],
    ['extra fields', '{"type":"ping","extra":1}', /invalid control message/],
    ['a non-object', '"resize"', /invalid control message/],
    ['null', 'null', /invalid control message/],
    ['an array', '[{"type":"ping"}]', /invalid control message/],
    ['an overlong message', JSON.stringify({ type: 'ping', pad: 'x'.repeat(1000) }), /too long/],
  ];
  for (const [name, text, pattern] of rejected) {
    it(`rejects ${name} with a reason`, () => {
      const result = parseControlMessage(text);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.error, pattern);
    });
  }
});
