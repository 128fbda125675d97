// Conversations that outlive the pod, end to end with the real pinned Claude Code CLI on the Kubernetes
// runtime: the real service (RUNTIME=kubernetes, default session program) drives the fake
// kube-apiserver through @kubernetes/client-node; the fake's exec runs the real sandbox entry point and
// the real CLI on this host, which reaches the real api-proxy (its main, as a process) through the
// pod's ANTHROPIC_BASE_URL; the proxy forwards to the fake Anthropic API. Session 1 holds a
// conversation and is deleted; the history lists it as continuable; session 2 resumes it in a new pod
// and the next upstream request carries the earlier turns; the Markdown export holds them; another
// user gets 404.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { findClaudeBinary } from '../../src/runtime/local/host-files.ts';
import { BRACKETED_PASTE_ON } from '../../src/sandbox-command.ts';
import type { Service } from '../../src/server.ts';
import { as, bearer, jwtEnv, mintToken } from '../auth/helpers.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.ts';
import { startFakeKubeApiserver, type FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { ask, assertHiddenFrom, conversationRequests, texts, type Message } from '../helpers/conversation.ts';
import { openTerminal, wsUrl, type TerminalClient } from '../helpers/terminal-client.ts';
import { startProxyProcess, startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-cli-resume-test-shared-secret-0123456789';
const REAL_KEY = 'sk-ant-api03-kube-resume-real-key-00000000000000';
const ENTRYPOINT = fileURLToPath(new URL('../../../docker/claudecode-sandbox/entrypoint.sh', import.meta.url));
/** Claude Code's prompt box is drawn and takes keys (it switched bracketed paste on). */
const READY = BRACKETED_PASTE_ON;

async function waitForRaw(term: TerminalClient, marker: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!term.output().includes(marker)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(marker)}; output ends with: ${JSON.stringify(term.output().slice(-800))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('conversations that outlive the pod (kubernetes runtime, real CLI, real api-proxy, fake model)', { timeout: 300_000 }, () => {
  let fake: FakeAnthropic;
  let kube: FakeKubeApiserver;
  let proxy: Awaited<ReturnType<typeof startProxyProcess>> | undefined;
  let service: Service;
  let imageBin = '';
  let proxyUrl = '';
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;
  let first = '';

  before(async () => {
    // The image's /usr/local/bin/claude: the pinned CLI from node_modules.
    const cli = findClaudeBinary();
    assert.ok(cli, 'the pinned Claude Code CLI is installed (npm ci runs its install script)');
    imageBin = mkdtempSync(join(tmpdir(), 'kube-image-bin-'));
    symlinkSync(cli, join(imageBin, 'claude'));
    fake = await startFakeAnthropic();
    kube = await startFakeKubeApiserver({ imagePath: [imageBin] });
    proxy = await startProxyProcess(fake.url, SECRET, REAL_KEY);
    proxyUrl = proxy.url;
    const env = jwtEnv({
      RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: ENTRYPOINT, K8S_API_TIMEOUT_SECONDS: '5',
      START_TIMEOUT_SECONDS: '30', SESSION_COMMAND: '', TRANSCRIPT_SAVE_INTERVAL_SECONDS: '1', MAX_SESSIONS: '4',
      SANDBOX_PROXY_URL: proxyUrl, API_PROXY_CONTROL_URL: proxy.controlUrl,
    });
    service = await startServiceOnFake(kube, env);
    alice = as(service, bearer(await mintToken('alice')));
    bob = as(service, bearer(await mintToken('bob')));
  });
  after(async () => {
    await service?.close();
    proxy?.stop();
    await kube?.close();
    await fake?.close();
    if (imageBin) rmSync(imageBin, { recursive: true, force: true });
  });

  it('saves the conversation of a deleted session and lists it as continuable', async () => {
    const created = await alice('POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    first = String(created.body.id);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    try {
      await waitForRaw(term, READY, 60_000);
      await ask(term, 'pod question about apples', 'APPLE-REPLY-ONE');
    } finally {
      await term.close();
    }
    const pod = kube.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === first);
    const podEnv = new Map((pod?.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(podEnv.get('ANTHROPIC_BASE_URL'), proxyUrl, 'the pod reaches the api-proxy');
    assert.match(podEnv.get('ANTHROPIC_API_KEY') ?? '', /^ccp1\./, 'the pod holds a session credential, never the real key');
    const [asked] = conversationRequests(fake, 'pod question about apples');
    assert.ok(asked, 'the question went through the api-proxy to the fake API');
    assert.equal(asked.headers['x-api-key'], REAL_KEY, 'the proxy swapped the pod\'s credential for the real key');

    assert.equal((await alice('DELETE', `/api/sessions/${first}`)).status, 204);
    const entry = ((await alice('GET', '/api/history')).body.sessions as Array<Record<string, unknown>>).find((s) => s.id === first);
    assert.ok(entry, 'the deleted session is in the history');
    assert.equal(entry.reason, 'deleted');
    assert.equal(entry.canContinue, true);

    const markdown = await fetch(`${service.url}/api/conversations/${first}/markdown`, { headers: bearer(await mintToken('alice')) });
    assert.equal(markdown.status, 200);
    const text = await markdown.text();
    assert.match(text, /## You[^\n]*\n\npod question about apples/);
    assert.match(text, /## Claude[^\n]*\n\nAPPLE-REPLY-ONE/);
  });

  it('gives another user 404 on the conversation and on resuming it, like an unknown id', async () => {
    await assertHiddenFrom(bob, first);
  });

  it('continues the conversation in a new pod: the next upstream request carries the earlier turns', async () => {
    const created = await alice('POST', '/api/sessions', { resume: first });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const second = String(created.body.id);
    assert.notEqual(second, first);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    try {
      await waitForRaw(term, READY, 60_000);
      await ask(term, 'pod follow-up', 'PEAR-REPLY-TWO');
    } finally {
      await term.close();
    }
    const pod = kube.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === second);
    assert.ok(pod?.spec?.containers[0]?.env?.some((e) => e.name === 'CLAUDECODE_RESUME_SESSION' && /^[0-9a-f-]{36}$/.test(e.value ?? '')), 'the new pod resumes a conversation');

    const [request] = conversationRequests(fake, 'pod follow-up');
    assert.ok(request, 'the fake saw the follow-up');
    const messages = request.body.messages as Message[];
    assert.ok(texts(messages, 'user').some((t) => t.includes('pod question about apples')), 'the earlier user turn is sent again');
    assert.ok(texts(messages, 'assistant').some((t) => t.includes('APPLE-REPLY-ONE')), 'the earlier answer is sent again');

    assert.equal((await alice('DELETE', `/api/sessions/${second}`)).status, 204);
    const saved = await fetch(`${service.url}/api/conversations/${second}/markdown`, { headers: bearer(await mintToken('alice')) });
    assert.equal(saved.status, 200);
    assert.match(await saved.text(), /pod question about apples[\s\S]*APPLE-REPLY-ONE[\s\S]*pod follow-up[\s\S]*PEAR-REPLY-TWO/);
    assert.equal((await bob('GET', `/api/conversations/${second}/markdown`)).status, 404);
  });
});
