import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertAuthConfigSafe } from '../../src/auth/index.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { startTestService } from '../helpers/service.ts';
import { HS_SECRET, recordingRuntime } from './helpers.ts';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    assertAuthConfigSafe(loadConfig(env));
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
};

describe('auth start-up checks', () => {
  it('allows AUTH_MODE=none on loopback addresses', () => {
    for (const HOST of ['127.0.0.1', '127.0.0.53', '::1', 'localhost']) assert.deepEqual(problemsOf({ HOST }), [], HOST);
  });

  it('refuses AUTH_MODE=none on a network address, with a message that says what to do', () => {
    for (const HOST of ['0.0.0.0', '::', '10.1.2.3', 'terminal.example.org']) {
      const problems = problemsOf({ HOST });
      assert.equal(problems.length, 1, HOST);
      assert.match(problems[0]!, /AUTH_MODE: "none" on HOST=.* would give anyone who can reach the port a sandbox/);
      assert.match(problems[0]!, /AUTH_ALLOW_UNAUTHENTICATED_NETWORK=true/);
    }
  });

  it('allows AUTH_MODE=none on a network address with the explicit opt-in', () => {
    assert.deepEqual(problemsOf({ HOST: '0.0.0.0', AUTH_ALLOW_UNAUTHENTICATED_NETWORK: 'true' }), []);
  });

  it('does not care about HOST in the authenticating modes', () => {
    assert.deepEqual(problemsOf({ HOST: '0.0.0.0', AUTH_MODE: 'trusted-header', AUTH_TRUSTED_PROXIES: '10.42.0.0/16' }), []);
    assert.deepEqual(problemsOf({ HOST: '0.0.0.0', AUTH_MODE: 'jwt', AUTH_JWT_SECRET: HS_SECRET, AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' }), []);
  });

  it('requires trusted proxies in trusted-header mode', () => {
    assert.match(problemsOf({ AUTH_MODE: 'trusted-header' }).join('\n'), /AUTH_TRUSTED_PROXIES: required/);
  });

  it('reports every missing jwt setting at once', () => {
    const problems = problemsOf({ AUTH_MODE: 'jwt' });
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /exactly one is required/);
    assert.match(problems.join('\n'), /AUTH_JWT_ISSUER: required/);
    assert.match(problems.join('\n'), /AUTH_JWT_AUDIENCE: required/);
  });

  it('refuses two key sources and short secrets', () => {
    const two = problemsOf({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: HS_SECRET, AUTH_JWKS_URL: 'https://idp.example/jwks', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' });
    assert.match(two.join('\n'), /exactly one is required/);
    const short = problemsOf({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 'short', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' });
    assert.match(short.join('\n'), /AUTH_JWT_SECRET: must be at least 32 bytes/);
  });

  it('rejects malformed auth variables when the config is loaded', () => {
    assert.throws(() => loadConfig({ AUTH_TRUSTED_PROXIES: '10.0.0.0/8,not-a-range' }), (err: unknown) =>
      err instanceof ConfigError && err.problems.some((p) => p.startsWith('AUTH_TRUSTED_PROXIES:')));
    assert.throws(() => loadConfig({ AUTH_USER_HEADER: 'bad header' }), /AUTH_USER_HEADER/);
    assert.throws(() => loadConfig({ AUTH_JWT_ADMIN_CLAIM: '=x' }), /AUTH_JWT_ADMIN_CLAIM/);
    assert.throws(() => loadConfig({ AUTH_JWKS_URL: 'file:///etc/passwd' }), /AUTH_JWKS_URL/);
  });

  it('startService refuses a non-loopback bind in none mode before listening', async () => {
    const { runtime, specs } = recordingRuntime();
    await assert.rejects(startTestService({ HOST: '0.0.0.0' }, { runtime }), (err: unknown) =>
      err instanceof ConfigError && /AUTH_MODE: "none" on HOST=0\.0\.0\.0/.test(err.message));
    assert.equal(specs.length, 0);
  });

  it('startService refuses an unreadable or short secret file', async () => {
    const { runtime } = recordingRuntime();
    const env = { AUTH_MODE: 'jwt', AUTH_JWT_SECRET_FILE: '/nonexistent/secret', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' };
    await assert.rejects(startTestService(env, { runtime }), /AUTH_JWT_SECRET_FILE: cannot read \/nonexistent\/secret/);
  });
});
