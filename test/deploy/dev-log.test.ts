// The log lines of `npm run dev`: pino JSON made readable, everything else untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine } from '../../scripts/dev-log.mjs';

test('a pino line becomes time, level, message and fields; other lines pass through', () => {
  const time = Date.UTC(2026, 10, 30, 15, 4, 5);
  assert.equal(formatLogLine(JSON.stringify({ level: 30, time, pid: 7, hostname: 'h', msg: 'session started', sessionId: 'abc', cols: 80 })), '15:04:05 INFO  session started sessionId=abc cols=80');
  assert.equal(formatLogLine(JSON.stringify({ level: 40, time, msg: 'slow', detail: 'two words' })), '15:04:05 WARN  slow detail="two words"');
  assert.match(formatLogLine(JSON.stringify({ level: 50, time, msg: 'failed', err: { message: 'x', stack: 'Error: x\n    at f' } })), /^15:04:05 ERROR failed err=\n {2}Error: x\n {6}at f$/);
  for (const line of ['web-terminal ready at http://127.0.0.1:3000', '{not json', '{"no":"level"}']) assert.equal(formatLogLine(line), line);
  assert.ok(formatLogLine(JSON.stringify({ level: 30, time, msg: 'big', blob: 'x'.repeat(10_000) })).endsWith('…(cut)'));
});
