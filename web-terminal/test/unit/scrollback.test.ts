import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Scrollback } from '../../src/sessions/scrollback.ts';

describe('scrollback', () => {
  it('keeps everything below capacity, in order', () => {
    const s = new Scrollback(16);
    s.append(Buffer.from('hello '));
    s.append(Buffer.from('world'));
    assert.equal(s.snapshot().toString(), 'hello world');
  });

  it('keeps only the newest bytes across wrap-around, whatever the chunk sizes', () => {
    const s = new Scrollback(10);
    let all = '';
    for (let i = 0; i < 200; i += 1) {
      const chunk = String(i).repeat((i % 4) + 1);
      all += chunk;
      s.append(Buffer.from(chunk));
      assert.equal(s.snapshot().toString(), all.slice(-10));
    }
    s.append(Buffer.from('0123456789abcdef'));
    assert.equal(s.snapshot().toString(), '6789abcdef');
    assert.equal(s.size, 10);
  });
});
