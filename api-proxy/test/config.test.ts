// Config: defaults, validation with one-line errors that name the variable (never the value), *_FILE
// secrets, and the README's table kept in step with the schema.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, loadProxyConfig } from '../src/config.ts';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

test('defaults', () => {
  const c = loadProxyConfig({ PROXY_SHARED_SECRET: SECRET });
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.upstreamUrl.href, 'https://api.anthropic.com/');
  assert.equal(c.anthropicApiKey, undefined);
  assert.equal(c.legacyDummyKey, undefined);
  assert.deepEqual(c.allowedModels, ['claude-*']);
  assert.equal(c.maxTokensCeiling, 128000);
  assert.equal(c.maxBodyBytes, 32 * 1024 * 1024);
  assert.equal(c.tokenBudgetPerSession, 0);
  assert.equal(c.logLevel, 'info');
  assert.ok(Object.isFrozen(c));
});

test('every variable is read', () => {
  const c = loadProxyConfig({
    PORT: '9000', HOST: '0.0.0.0', UPSTREAM_URL: 'http://127.0.0.1:1234/prefix', ANTHROPIC_API_KEY: ' sk-real \n',
    PROXY_SHARED_SECRET: SECRET, LEGACY_DUMMY_KEY: 'sk-ant-dummy-123', ALLOWED_MODELS: 'claude-sonnet-*, claude-haiku-4-5',
    MAX_TOKENS_CEILING: '32000', MAX_BODY_BYTES: '2048', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_PER_CREDENTIAL: '3',
    TOKEN_BUDGET_PER_SESSION: '1000', TOKEN_BUDGET_PER_USER: '5000', UPSTREAM_CONNECT_TIMEOUT_MS: '100',
    UPSTREAM_IDLE_TIMEOUT_MS: '200', LOG_LEVEL: 'warn',
  });
  assert.equal(c.port, 9000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.upstreamUrl.pathname, '/prefix');
  assert.equal(c.anthropicApiKey, 'sk-real');
  assert.deepEqual(c.allowedModels, ['claude-sonnet-*', 'claude-haiku-4-5']);
  assert.deepEqual(
    [c.maxTokensCeiling, c.maxBodyBytes, c.rateLimitPerMinute, c.maxConcurrentPerCredential, c.tokenBudgetPerSession, c.tokenBudgetPerUser, c.upstreamConnectTimeoutMs, c.upstreamIdleTimeoutMs, c.logLevel],
    [32000, 2048, 0, 3, 1000, 5000, 100, 200, 'warn'],
  );
});

test('bad values give one ConfigError line naming the variable, without echoing secrets', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ UPSTREAM_URL: 'ftp://x' }, 'UPSTREAM_URL'],
    [{ UPSTREAM_URL: 'https://user:pw@api.example' }, 'UPSTREAM_URL'],
    [{ UPSTREAM_URL: 'https://api.example/?x=1' }, 'UPSTREAM_URL'],
    [{ PROXY_SHARED_SECRET: 'too-short-secret-value' }, 'PROXY_SHARED_SECRET'],
    [{ LEGACY_DUMMY_KEY: 'short' }, 'LEGACY_DUMMY_KEY'],
    [{ ALLOWED_MODELS: 'claude-*-x' }, 'ALLOWED_MODELS'],
    [{ ALLOWED_MODELS: ' , ' }, 'ALLOWED_MODELS'],
    [{ MAX_TOKENS_CEILING: '0' }, 'MAX_TOKENS_CEILING'],
    [{ MAX_BODY_BYTES: '-1' }, 'MAX_BODY_BYTES'],
    [{ RATE_LIMIT_PER_MINUTE: '1.5' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ANTHROPIC_API_KEY_FILE: '/nonexistent/key' }, 'ANTHROPIC_API_KEY_FILE'],
  ];
  for (const [env, name] of cases) {
    const full = { PROXY_SHARED_SECRET: SECRET, ...env };
    assert.throws(() => loadProxyConfig(full), (err: unknown) => {
      assert.ok(err instanceof ConfigError, name);
      assert.match(err.message, new RegExp(`\\b${name}\\b`));
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(!err.message.includes('too-short-secret-value'), 'secret echoed');
      return true;
    });
  }
  assert.throws(() => loadProxyConfig({}), /PROXY_SHARED_SECRET/);
  // The legacy key alone is enough to start.
  assert.equal(loadProxyConfig({ LEGACY_DUMMY_KEY: 'sk-ant-dummy-123' }).sharedSecret, undefined);
});

test('*_FILE variables win over the plain ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-proxy-config-'));
  try {
    writeFileSync(join(dir, 'key'), 'sk-from-file\n');
    writeFileSync(join(dir, 'secret'), `${SECRET}-file\n`);
    const c = loadProxyConfig({
      ANTHROPIC_API_KEY: 'sk-from-env', ANTHROPIC_API_KEY_FILE: join(dir, 'key'),
      PROXY_SHARED_SECRET: 'ignored', PROXY_SHARED_SECRET_FILE: join(dir, 'secret'),
    });
    assert.equal(c.anthropicApiKey, 'sk-from-file');
    assert.equal(c.sharedSecret, `${SECRET}-file`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('README documents exactly the variables the schema reads', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.keys(CONFIG_VARIABLES).sort());
});
