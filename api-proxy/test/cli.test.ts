// The pinned Claude Code CLI through the proxy (the real binary, the embedded proxy core on real HTTP,
// the fake Anthropic API behind it): every beta it sends is on the allowlist, a refused credential
// makes it fail once with the proxy's message instead of retrying, and with a lower token ceiling it
// works as long as it is told the same ceiling.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn } from '@lydell/node-pty';
import { ALLOWED_BETAS } from '../src/betas.ts';
import { startRig, waitFor, type Rig } from './helpers.ts';
import { CLAUDE_BIN, QUIET_ENV, removeHome, runPrint, seededHome } from './cli-run.ts';

async function proxyAnswers(rig: Rig, route: string): Promise<Record<string, number>> {
  const metric = await rig.registry.getSingleMetric('api_proxy_requests_total')!.get();
  const out: Record<string, number> = {};
  for (const v of metric.values) if (v.labels.route === route) out[String(v.labels.status)] = v.value;
  return out;
}

function betasSent(rig: Rig): Set<string> {
  const all = new Set<string>();
  for (const r of rig.fake.requests) {
    for (const beta of String(r.headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim()).filter(Boolean)) all.add(beta);
  }
  return all;
}

describe('the real CLI through the proxy', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig({ MAX_TOKENS_CEILING: '16000' });
  });
  after(() => rig.close());

  test('print mode, three models: every beta it sends is allowed and every call succeeds', { timeout: 240_000 }, async () => {
    rig.fake.reset();
    for (const args of [['--model', 'opus'], ['--model', 'sonnet'], ['--model', 'haiku']]) {
      const run = await runPrint(rig.url, rig.credential(), 'hi [[tool:Read {"file_path":"/etc/hostname"}]]', { args, env: { CLAUDE_CODE_MAX_OUTPUT_TOKENS: '16000' } });
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /FINAL ANSWER/);
    }
    const sent = betasSent(rig);
    assert.ok(sent.size > 0, 'the CLI sent betas');
    assert.deepEqual([...sent].filter((b) => !ALLOWED_BETAS.has(b)), []);
    assert.deepEqual(Object.keys(await proxyAnswers(rig, 'messages')), ['200']);
  });

  test('full-screen mode: every beta it sends is allowed', { timeout: 180_000 }, async () => {
    rig.fake.reset();
    const work = mkdtempSync(join(tmpdir(), 'cli-tui-work-'));
    const credential = rig.credential({ sessionId: 'tui' });
    const { home, dispose } = seededHome(credential, work);
    const pty = spawn(CLAUDE_BIN, [], {
      cwd: work, cols: 120, rows: 40,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm-256color', ANTHROPIC_BASE_URL: rig.url, ANTHROPIC_API_KEY: credential, CLAUDE_CODE_MAX_OUTPUT_TOKENS: '16000', ...QUIET_ENV },
    });
    let screen = '';
    pty.onData((d) => (screen += d));
    try {
      await waitFor(() => /❯|for shortcuts/.test(screen), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(screen.slice(-1500))}`);
      });
      pty.write('say hello tui-mark');
      await waitFor(() => screen.includes('tui-mark'), 10_000);
      pty.write('\r');
      await waitFor(() => rig.fake.requests.some((r) => r.rawBody.includes('tui-mark') && r.completed), 60_000);
    } finally {
      const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
      pty.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      dispose();
      removeHome(work);
    }
    const sent = betasSent(rig);
    assert.ok(sent.size > 0, 'the CLI sent betas');
    assert.deepEqual([...sent].filter((b) => !ALLOWED_BETAS.has(b)), []);
    for (const status of Object.keys(await proxyAnswers(rig, 'messages'))) assert.equal(status, '200');
  });

  test('an expired credential: one request, then a clear failure (no retries)', { timeout: 150_000 }, async () => {
    const before = (await proxyAnswers(rig, 'messages'))['401'] ?? 0;
    const hits = rig.fake.hits();
    const run = await runPrint(rig.url, rig.credential({ expiresAt: new Date(Date.now() - 1000) }), 'hi', { timeoutMs: 90_000, env: { CLAUDE_CODE_MAX_OUTPUT_TOKENS: '16000' } });
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /401 credential expired/);
    assert.equal(((await proxyAnswers(rig, 'messages'))['401'] ?? 0) - before, 1, 'the CLI retried');
    assert.equal(rig.fake.hits(), hits);
  });

  test('a lower ceiling: refused when the CLI is not told, served when it is', { timeout: 150_000 }, async () => {
    const before = (await proxyAnswers(rig, 'messages'))['400'] ?? 0;
    const untold = await runPrint(rig.url, rig.credential(), 'hi', { timeoutMs: 90_000 });
    assert.notEqual(untold.code, 0);
    assert.match(untold.output, /max_tokens exceeds the proxy ceiling of 16000/);
    // (The CLI itself re-asks a few times with other max_tokens on this error: the fix is the shared ceiling.)
    assert.ok(((await proxyAnswers(rig, 'messages'))['400'] ?? 0) > before);
    rig.fake.reset();
    const told = await runPrint(rig.url, rig.credential(), 'hi', { env: { CLAUDE_CODE_MAX_OUTPUT_TOKENS: '16000' } });
    assert.equal(told.code, 0, told.output);
    assert.match(told.output, /Hello from the fake Anthropic API!/);
    assert.ok(rig.fake.requests.every((r) => r.body.max_tokens <= 16000));
  });
});
