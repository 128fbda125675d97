import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { configTable } from '../../src/config/docs.ts';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('config', () => {
  it('has defaults that work locally', () => {
    const config = loadConfig({});
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.PORT, 3000);
    assert.equal(config.RUNTIME, 'local');
    assert.equal(config.MAX_SESSIONS, 4);
    assert.equal(config.MAX_SESSIONS_PER_USER, 2);
    assert.equal(config.SESSION_TIMEOUT_SECONDS, 7200);
    assert.deepEqual(config.ALLOWED_ORIGINS, []);
    assert.ok(Object.isFrozen(config));
  });

  it('names the variable in one line per problem, all problems together', () => {
    const problems = problemsOf({ PORT: 'abc', RUNTIME: 'docker', MAX_SESSIONS: '0' });
    assert.equal(problems.length, 3);
    assert.match(problems.find((p) => p.startsWith('PORT:'))!, /^PORT: .*\(got "abc"\)$/);
    assert.match(problems.find((p) => p.startsWith('RUNTIME:'))!, /RUNTIME: .*"docker"/);
    assert.ok(problems.some((p) => p.startsWith('MAX_SESSIONS:')));
    for (const p of problems) assert.ok(!p.includes('\n'));
  });

  it('rejects a per-user limit above the global one', () => {
    assert.match(problemsOf({ MAX_SESSIONS: '2', MAX_SESSIONS_PER_USER: '3' })[0]!, /^MAX_SESSIONS_PER_USER: must not exceed MAX_SESSIONS/);
  });

  it('parses lists and booleans', () => {
    const config = loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example ,', ALLOW_UNSANDBOXED: 'true' });
    assert.deepEqual(config.ALLOWED_ORIGINS, ['https://a.example', 'https://b.example']);
    assert.equal(config.ALLOW_UNSANDBOXED, true);
    assert.ok(problemsOf({ ALLOW_UNSANDBOXED: 'maybe' })[0]!.startsWith('ALLOW_UNSANDBOXED:'));
  });

  it('is documented: the README holds the configuration table generated from the schema', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(configTable()), 'README.md is out of date: paste the output of `node --import tsx scripts/config-table.ts`');
  });
});
