// What a person with a shell in a local sandbox can and cannot do (the sandbox is the boundary).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { checkBwrap, type BwrapStatus } from '../../src/runtime/local/bwrap-check.ts';
import { createLocalRuntime } from '../../src/runtime/local/local-runtime.ts';
import type { Service } from '../../src/server.ts';
import { processesMentioning } from '../helpers/service-process.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import type { TerminalClient } from '../helpers/terminal-client.ts';

/** Runs a command line in the session's shell and returns what it printed between two markers. */
async function run(term: TerminalClient, command: string): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 8);
  term.type(`echo "<${tag}"; ${command}; echo "${tag}>"\n`);
  const result = new RegExp(`<${tag}\\r?\\n([\\s\\S]*?)${tag}>`);
  return result.exec(await term.waitFor(result))![1]!;
}

describe('local sandbox isolation', () => {
  let service: Service;
  let term: TerminalClient;
  let sessionId: string;
  before(async () => {
    service = await startTestService();
    const created = await api(service, 'POST', '/api/sessions', {});
    sessionId = created.body.id as string;
    term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
  });
  after(async () => {
    await term?.close();
    await service?.close();
  });

  it('runs as a non-root user with home and /tmp writable', async () => {
    assert.match(await run(term, 'id -u; id -un'), /^1000\r?\nsandbox/);
    assert.match(await run(term, 'echo ok > ~/f && echo ok > /tmp/f && cat ~/f /tmp/f'), /ok\r?\nok/);
  });

  it('cannot write anywhere else', async () => {
    for (const path of ['/etc/x', '/usr/x', '/workspace/x', '/x', '/opt/claudecode/lib/x', '/etc/claude-code/managed-settings.json']) {
      const out = await run(term, `(echo pwned > ${path}) 2>&1 && echo WROTE || echo REFUSED`);
      assert.match(out, /REFUSED/, `${path}: ${out}`);
    }
  });

  it('sees only its own processes', async () => {
    const out = await run(term, 'ls /proc | grep -c "^[0-9]"');
    assert.ok(Number(out.trim()) < 10, `processes visible: ${out}`);
    assert.equal((await run(term, 'cat /proc/1/comm')).trim(), 'bwrap', 'PID 1 is the sandbox\'s own init');
    const cmds = (await run(term, 'cat /proc/[0-9]*/comm 2>/dev/null | sort -u | tr "\\n" " "')).trim().split(' ');
    // The sandbox's own processes only: its init, the shell and this pipeline (no forwarder or helper).
    for (const cmd of cmds) assert.ok(['bwrap', 'bash', 'sh', 'cat', 'sort', 'tr'].includes(cmd), `unexpected process ${cmd}`);
  });

  it('has no network but loopback, and cannot reach the host', async () => {
    const ifaces = await run(term, 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "');
    assert.deepEqual(ifaces.trim().split(/\r?\n/), ['lo']);
    const port = new URL(service.url).port;
    const out = await run(term, `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>&1 && echo CONNECTED || echo NO-ROUTE`);
    assert.match(out, /NO-ROUTE/);
  });

  it('reaches the API proxy, but not the service\'s metrics through it', async () => {
    // The one way out is the proxy's unix socket, the same one Claude Code uses (ANTHROPIC_UNIX_SOCKET).
    const get = (path: string) => `curl -s -m 10 -o /dev/null -w 'status=%{http_code}\\n' --unix-socket "$ANTHROPIC_UNIX_SOCKET" http://api-proxy${path}`;
    assert.match(await run(term, get('/healthz')), /status=200/);
    assert.match(await run(term, get('/metrics')), /status=404/);
  });

  it('holds no credential but its own session token', async () => {
    const env = await run(term, 'env | cut -d= -f1 | sort | tr "\\n" " "');
    assert.ok(!/AWS|SSH|KUBE|PROXY_SHARED_SECRET/.test(env), env);
    const key = await run(term, 'echo "$ANTHROPIC_API_KEY"');
    assert.match(key.trim(), /^ccp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a signed per-session credential, not an API key');
    const marker = await run(term, 'echo "$CLAUDECODE_SESSION_ID"');
    assert.equal(marker.trim(), sessionId);
    // Other host users see command lines (`ps`), not environments: the credential must not be in one.
    assert.ok(processesMentioning(sessionId).length > 0, 'the session is findable by its id');
    assert.deepEqual(processesMentioning(key.trim()), []);
  });
});

describe('local runtime without bubblewrap', () => {
  const noBwrap: BwrapStatus = { available: false, path: null, problem: 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap' };
  const serviceWithoutBwrap = async (allowUnsandboxed: boolean, bwrapStatus: BwrapStatus = noBwrap) => {
    const runtime = await createLocalRuntime({ logger: pino({ level: 'silent' }), proxySockets: null, allowUnsandboxed, memoryMb: 1024, maxProcs: 64, bwrapStatus });
    return startTestService({}, { runtime });
  };

  it('on macOS (and any non-Linux host) says local sandboxes need Linux and points at the Kubernetes runtime', async () => {
    const service = await serviceWithoutBwrap(false, await checkBwrap({ platform: 'darwin' }));
    try {
      const res = await api(service, 'POST', '/api/sessions', {});
      assert.equal(res.status, 503);
      assert.equal(res.body.error?.code, 'runtime_unavailable');
      assert.match(res.body.error!.message, /^This server cannot create sandboxes right now\. \(.*need Linux with bubblewrap, and this host is darwin: use the Kubernetes runtime \(RUNTIME=kubernetes/);
    } finally {
      await service.close();
    }
  });

  it('refuses sessions with a clear message unless the operator opts out', async () => {
    const service = await serviceWithoutBwrap(false);
    try {
      const res = await api(service, 'POST', '/api/sessions', {});
      assert.equal(res.status, 503);
      assert.equal(res.body.error?.code, 'runtime_unavailable');
      assert.match(res.body.error!.message, /bubblewrap/);
      assert.equal((await api(service, 'GET', '/readyz')).status, 503);
    } finally {
      await service.close();
    }
  });

  it('with ALLOW_UNSANDBOXED the terminal announces it in its first line', async () => {
    const service = await serviceWithoutBwrap(true);
    try {
      const created = await api(service, 'POST', '/api/sessions', {});
      assert.equal(created.status, 201);
      const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
      await term.waitFor('NOT sandboxed');
      // eslint-disable-next-line no-control-regex -- strip the screen restore's reset (ESC c) and colour codes
      const firstLine = term.output().replace(/\x1bc|\x1b\[[0-9;]*m/g, '').trim().split(/\r?\n/)[0]!;
      assert.match(firstLine, /WARNING: this session is NOT sandboxed/);
      await term.close();
    } finally {
      await service.close();
    }
  });
});
