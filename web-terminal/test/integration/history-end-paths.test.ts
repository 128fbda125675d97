// Every way a local session ends saves its conversation (the real service, real bubblewrap sandboxes, a
// stand-in program that writes a transcript where Claude Code does). Periodic saves are switched off
// (TRANSCRIPT_SAVE_INTERVAL_SECONDS=3600), so what is found was saved at the end: after the program
// exited (its sandbox is gone, its home still open), when the idle reaper ended it, and at shutdown,
// whose history survives a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';

const CONVERSATION = '5e55a0e1-0000-4000-8000-0000000000aa';
const writeTranscript = (text: string) =>
  `mkdir -p "$HOME/.claude/projects/-workspace" && printf '%s\\n' '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"${text}"}]}}' > "$HOME/.claude/projects/-workspace/${CONVERSATION}.jsonl"`;

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const historyEntry = async (service: Service, id: string) =>
  ((await api(service, 'GET', '/api/history')).body.sessions as Array<Record<string, unknown>>).find((s) => s.id === id);

const markdown = async (service: Service, id: string) => {
  const res = await fetch(`${service.url}/api/conversations/${id}/markdown`);
  return { status: res.status, text: await res.text() };
};

describe('a conversation is saved on every end path (local runtime)', { timeout: 120_000 }, () => {
  it('the program exits: read from the stopped sandbox\'s home', async () => {
    const service = await startTestService({ SESSION_COMMAND: 'echo ready-for-input; exec bash --norc --noprofile -i', TRANSCRIPT_SAVE_INTERVAL_SECONDS: '3600' });
    try {
      const created = await api(service, 'POST', '/api/sessions', {});
      const term = await openTerminal(wsUrl(service.url, created.body.wsUrl as string));
      await term.waitFor('ready-for-input');
      term.type(`${writeTranscript('SAID-BEFORE-EXIT')} && exit 0\n`);
      await term.waitForControl((m) => m.type === 'exit');
      // The save at the end runs after the exit is reported (it first lets the terminal settle).
      const saved = await waitFor('the conversation saved at the end', async () => {
        const res = await markdown(service, String(created.body.id));
        return res.status === 200 ? res : undefined;
      });
      assert.match(saved.text, /SAID-BEFORE-EXIT/);
      assert.equal((await historyEntry(service, String(created.body.id)))?.reason, 'exited');
    } finally {
      await service.close();
    }
  });

  it('the idle reaper ends it', async () => {
    const service = await startTestService({
      SESSION_COMMAND: `${writeTranscript('SAID-BEFORE-IDLE')}; exec sleep 600`,
      TRANSCRIPT_SAVE_INTERVAL_SECONDS: '3600', IDLE_TIMEOUT_SECONDS: '1', RECONNECT_GRACE_SECONDS: '2',
    });
    try {
      const created = await api(service, 'POST', '/api/sessions', {});
      const id = String(created.body.id);
      const entry = await waitFor('the idle end in the history', async () => {
        const e = await historyEntry(service, id);
        return e?.reason === 'idle' ? e : undefined;
      });
      assert.equal(entry.state, 'ended');
      const saved = await waitFor('the conversation saved at the end', async () => {
        const res = await markdown(service, id);
        return res.status === 200 ? res : undefined;
      });
      assert.match(saved.text, /SAID-BEFORE-IDLE/);
    } finally {
      await service.close();
    }
  });

  it('the service shuts down; the history and the conversation survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-restart-'));
    const env = { DB_PATH: join(dir, 'progress.db'), SESSION_COMMAND: `${writeTranscript('SAID-BEFORE-SHUTDOWN')}; echo written; exec sleep 600`, TRANSCRIPT_SAVE_INTERVAL_SECONDS: '3600' };
    try {
      const first = await startTestService(env);
      let id = '';
      try {
        const created = await api(first, 'POST', '/api/sessions', {});
        id = String(created.body.id);
        const term = await openTerminal(wsUrl(first.url, created.body.wsUrl as string));
        await term.waitFor('written');
      } finally {
        await first.close();
      }
      const second = await startTestService(env);
      try {
        const entry = await historyEntry(second, id);
        assert.equal(entry?.state, 'ended');
        assert.equal(entry?.reason, 'shutdown');
        assert.equal(entry?.canContinue, true);
        assert.match((await markdown(second, id)).text, /SAID-BEFORE-SHUTDOWN/);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
