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

describe('config: one validation reports every problem at once', () => {
  it('reports a bad variable, an auth rule and the shared-secret rule together', () => {
    const problems = problemsOf({ PORT: 'abc', RUNTIME: 'kubernetes', AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_JWT_AUDIENCE: 'a' });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('PORT:')));
    assert.ok(problems.some((p) => p.startsWith('AUTH_JWT_ISSUER: required')));
    assert.ok(problems.some((p) => p.startsWith('PROXY_SHARED_SECRET, PROXY_SHARED_SECRET_FILE: one is required with RUNTIME=kubernetes')));
  });

  it('refuses a shared secret shorter than the api-proxy accepts, in any runtime', () => {
    assert.deepEqual(problemsOf({ PROXY_SHARED_SECRET: 'short' }), ['PROXY_SHARED_SECRET: must be at least 32 bytes (the api-proxy refuses shorter ones)']);
    assert.equal(loadConfig({ PROXY_SHARED_SECRET: 's'.repeat(32) }).PROXY_SHARED_SECRET, 's'.repeat(32));
  });

  it('does not repeat a problem for a rule whose variable did not parse', () => {
    const problems = problemsOf({ MAX_SESSIONS: 'many', MAX_SESSIONS_PER_USER: '3', AUTH_MODE: 'magic' });
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['AUTH_MODE', 'MAX_SESSIONS']);
  });

  it('checks the auth rules and the network bind together', () => {
    const problems = problemsOf({ HOST: '0.0.0.0', AUTH_MODE: 'trusted-header', PROXY_SHARED_SECRET: 'short' });
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('AUTH_TRUSTED_PROXIES:')));
    assert.ok(problems.some((p) => p.startsWith('PROXY_SHARED_SECRET:')));
  });

  it('validates the host allowlist and the metrics port', () => {
    assert.ok(problemsOf({ ALLOWED_HOSTS: 'ok.example,bad host!' })[0]!.startsWith('ALLOWED_HOSTS:'));
    assert.ok(problemsOf({ METRICS_PORT: '70000' })[0]!.startsWith('METRICS_PORT:'));
    const config = loadConfig({ ALLOWED_HOSTS: '192.168.1.20:31000, k3s.lan', METRICS_PORT: '9090' });
    assert.deepEqual(config.ALLOWED_HOSTS, ['192.168.1.20:31000', 'k3s.lan']);
    assert.equal(config.METRICS_PORT, 9090);
    assert.equal(loadConfig({}).METRICS_PORT, undefined, 'no metrics listener unless asked for');
  });
});
