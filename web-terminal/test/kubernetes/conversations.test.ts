// Saved conversations with the Kubernetes runtime, through the real service and @kubernetes/client-node
// against the fake kube-apiserver (whose exec runs real processes): the transcript in the pod's home is
// read over exec while the session runs and when it ends, and a resumed session's pod gets it back
// (written over exec, moved into place by the real sandbox entry point) before its program starts.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Service } from '../../src/server.ts';
import { startFakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import type { FakeKubeApiserver } from '../fakes/kube-apiserver/index.ts';
import { api } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { startServiceOnFake } from './helpers.ts';

const SECRET = 'kubernetes-conversation-test-shared-secret-0123456789';
const ENTRYPOINT = fileURLToPath(new URL('../../../docker/claudecode-sandbox/entrypoint.sh', import.meta.url));
const CONVERSATION = '0f1e2d3c-4b5a-4697-8877-665544332211';
// A stand-in for Claude Code: a new session writes a transcript where Claude Code would; a resumed one
// prints the transcript it finds where Claude Code would look for it.
const PROGRAM = [
  'p="$HOME/.claude/projects/$(printf \'%s\' "$(pwd -P)" | tr -c \'A-Za-z0-9\' \'-\')"',
  'if [ -n "${CLAUDECODE_RESUME_SESSION:-}" ]; then',
  '  echo "resumed=$CLAUDECODE_RESUME_SESSION"; cat "$p/$CLAUDECODE_RESUME_SESSION.jsonl"; echo "end-of-resumed"',
  'else',
  '  mkdir -p "$p"',
  `  printf '%s\\n' '{"type":"user","message":{"role":"user","content":"how do pods start?"}}' > "$p/${CONVERSATION}.jsonl"`,
  `  printf '%s\\n' '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"KUBE-ANSWER-1"}]}}' >> "$p/${CONVERSATION}.jsonl"`,
  '  echo transcript-written',
  'fi',
  'exec bash --norc --noprofile -i',
].join('\n');

async function startOnFake(fake: FakeKubeApiserver): Promise<Service> {
  const env = {
    RUNTIME: 'kubernetes', PROXY_SHARED_SECRET: SECRET, SANDBOX_ENTRYPOINT: ENTRYPOINT, K8S_API_TIMEOUT_SECONDS: '3',
    START_TIMEOUT_SECONDS: '20', SESSION_COMMAND: PROGRAM, TRANSCRIPT_SAVE_INTERVAL_SECONDS: '1',
  };
  return startServiceOnFake(fake, env);
}

async function markdownOf(service: Service, id: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${service.url}/api/conversations/${id}/markdown`);
  return { status: res.status, text: await res.text() };
}

describe('saved conversations with the kubernetes runtime (fake kube-apiserver)', { timeout: 120_000 }, () => {
  let fake: FakeKubeApiserver;
  let service: Service;
  before(async () => {
    fake = await startFakeKubeApiserver();
    service = await startOnFake(fake);
  });
  after(async () => {
    await service?.close();
    await fake?.close();
  });

  it('reads the transcript over exec while the session runs and when it is deleted, then resumes it in a new pod', async () => {
    const created = await api(service, 'POST', '/api/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    await term.waitFor('transcript-written', 30_000);

    // Saved while running (the periodic save), before anything ends the session.
    const deadline = Date.now() + 20_000;
    while ((await markdownOf(service, id)).status !== 200) {
      assert.ok(Date.now() < deadline, 'the running session\'s conversation was saved');
      await new Promise((r) => setTimeout(r, 200));
    }
    // A change in the pod is picked up by the save at the end.
    term.type(`printf '%s\\n' '{"type":"user","message":{"role":"user","content":"and then?"}}' >> "$(ls -d "$HOME"/.claude/projects/*/)${CONVERSATION}.jsonl"; echo appended-$((40+2))\n`);
    await term.waitFor('appended-42');
    assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
    await term.closed;

    const saved = await markdownOf(service, id);
    assert.equal(saved.status, 200);
    assert.match(saved.text, /## You\n\nhow do pods start\?/);
    assert.match(saved.text, /## Claude\n\nKUBE-ANSWER-1/);
    assert.match(saved.text, /## You\n\nand then\?/, 'the save at the end has the last change');
    const entry = ((await api(service, 'GET', '/api/history')).body.sessions as Array<Record<string, unknown>>).find((s) => s.id === id);
    assert.equal(entry?.canContinue, true);

    const resumed = await api(service, 'POST', '/api/sessions', { resume: id });
    assert.equal(resumed.status, 201, JSON.stringify(resumed.body));
    const term2 = await openTerminal(wsUrl(service.url, resumed.body.wsUrl as string));
    const screen = await term2.waitFor('end-of-resumed', 30_000);
    const pod = fake.pods().find((p) => p.metadata?.labels?.['claudecode.io/session-id'] === resumed.body.id);
    const podEnv = Object.fromEntries((pod?.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(podEnv.CLAUDECODE_RESUME_SESSION, CONVERSATION);
    assert.match(screen, new RegExp(`resumed=${CONVERSATION}`));
    assert.match(screen, /KUBE-ANSWER-1/);
    assert.match(screen, /and then\?/);
    assert.equal((await api(service, 'DELETE', `/api/sessions/${String(resumed.body.id)}`)).status, 204);
    await term2.closed;
  });

  it('keeps the last saved copy when the pod is deleted behind the service\'s back', async () => {
    const created = await api(service, 'POST', '/api/sessions', {});
    const id = String(created.body.id);
    const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
    await term.waitFor('transcript-written', 30_000);
    const deadline = Date.now() + 20_000;
    while ((await markdownOf(service, id)).status !== 200) {
      assert.ok(Date.now() < deadline, 'the running session\'s conversation was saved');
      await new Promise((r) => setTimeout(r, 200));
    }
    await fake.kubeConfig().makeApiClient(CoreV1Api).deleteNamespacedPod({ name: `claudecode-session-${id}`, namespace: 'claudecode-sandboxes', gracePeriodSeconds: 0 });
    await term.closed;
    for (;;) {
      const entry = ((await api(service, 'GET', '/api/history')).body.sessions as Array<Record<string, unknown>>).find((s) => s.id === id);
      if (entry && entry.active === false) {
        assert.equal(entry.canContinue, true);
        break;
      }
      assert.ok(Date.now() < deadline + 20_000, 'the session ended');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match((await markdownOf(service, id)).text, /KUBE-ANSWER-1/);
  });
});
