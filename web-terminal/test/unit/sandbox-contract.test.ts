// The sandbox contract: both runtimes give a sandbox the same environment, with the same precedence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLAUDE_CODE_QUIET_ENV, sandboxEnvironment } from '../../src/sandbox/contract.ts';
import { sandboxEnv } from '../../src/runtime/local/bwrap-args.ts';
import { buildSandboxPod } from '../../src/runtime/kubernetes/pod-spec.ts';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';

const hostile = { ANTHROPIC_BASE_URL: 'http://evil', ANTHROPIC_UNIX_SOCKET: '/tmp/evil', HOME: '/root', CLAUDECODE_SESSION_ID: 'other', CLAUDECODE_INITIAL_PROMPT: 'hi' };

describe('sandbox contract', () => {
  it('the contract wins over the runtime, the runtime over the session; nothing else names the API', () => {
    const env = sandboxEnvironment({
      sessionId: 's1', credential: 'cred', proxy: { kind: 'none' }, home: '/home/sandbox', workdir: '/workspace', course: null,
      runtime: { PATH: '/bin', HOME: '/elsewhere', ANTHROPIC_BASE_URL: 'http://runtime' }, session: { ...hostile, PATH: '/evil' },
    });
    assert.equal(env.HOME, '/home/sandbox');
    assert.equal(env.CLAUDECODE_SESSION_ID, 's1');
    assert.equal(env.PATH, '/bin');
    assert.equal(env.CLAUDECODE_INITIAL_PROMPT, 'hi');
    assert.equal(env.ANTHROPIC_API_KEY, 'cred');
    for (const name of Object.keys(env)) assert.ok(!name.startsWith('ANTHROPIC_') || name === 'ANTHROPIC_API_KEY', name);
  });

  it('a socket route needs no forwarder: the CLI sends to the socket itself', () => {
    const env = sandboxEnvironment({
      sessionId: 's1', credential: 'cred', proxy: { kind: 'socket', path: '/run/p.sock' }, home: '/h', workdir: '/w', course: null, runtime: {}, session: {},
    });
    assert.equal(env.ANTHROPIC_UNIX_SOCKET, '/run/p.sock');
    assert.match(env.ANTHROPIC_BASE_URL!, /^http:\/\/[a-z-]+$/);
  });

  it('the local runtime and the pod share every name of the contract, quiet switches and session id included', () => {
    const local = sandboxEnv({ sessionId: 'abc123', credential: 'cred', proxyAvailable: true, extra: hostile });
    const pod = buildSandboxPod({
      sessionId: 'abc123', userHash: 'f'.repeat(64), credential: 'cred', command: ['claude'], env: hostile, course: null, profile: 'default',
      cols: 80, rows: 24, createdAt: new Date(0), expiresAt: new Date(3_600_000),
    }, loadKubernetesConfig({}));
    const podEnv = Object.fromEntries(pod.spec!.containers[0]!.env!.map((e) => [e.name, e.value!]));
    for (const name of ['HOME', 'TERM', 'LANG', 'CLAUDECODE_SESSION_ID', 'CLAUDECODE_WORKDIR', 'ANTHROPIC_API_KEY', 'CLAUDECODE_INITIAL_PROMPT', ...Object.keys(CLAUDE_CODE_QUIET_ENV)]) {
      assert.equal(local[name], podEnv[name], name);
    }
    assert.equal(local.ANTHROPIC_UNIX_SOCKET, '/run/claudecode/proxy.sock');
    assert.equal(podEnv.ANTHROPIC_UNIX_SOCKET, undefined);
    assert.equal(podEnv.ANTHROPIC_BASE_URL, 'http://api-proxy.claudecode-system.svc.cluster.local:8080');
  });

  it('an unsandboxed local session gets no route at all', () => {
    const env = sandboxEnv({ sessionId: 'x', credential: 'c', proxyAvailable: false, extra: hostile });
    assert.equal(env.ANTHROPIC_BASE_URL, undefined);
    assert.equal(env.ANTHROPIC_UNIX_SOCKET, undefined);
  });
});
