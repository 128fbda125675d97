// An operator learns at start-up that no API key is configured (local mode: the embedded proxy holds it).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { startTestService } from '../helpers/service.ts';

const capture = () => {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
};

test('the service warns at start-up when no API key is configured, and not when one is', { timeout: 60_000 }, async () => {
  const without = capture();
  const bare = await startTestService({}, { logger: without.logger, proxyEnv: {} });
  await bare.close();
  const warning = without.lines.find((l) => l.level === 40 && /no API key is configured/.test(l.msg));
  assert.ok(warning, JSON.stringify(without.lines.map((l) => l.msg)));

  const withKey = capture();
  const keyed = await startTestService({}, { logger: withKey.logger, proxyEnv: { ANTHROPIC_API_KEY: 'sk-ant-api03-warning-test-key-000000000000' } });
  await keyed.close();
  assert.equal(withKey.lines.some((l) => /no API key is configured/.test(l.msg)), false);
  assert.equal(JSON.stringify(withKey.lines).includes('warning-test-key'), false, 'the key is never logged');
});
