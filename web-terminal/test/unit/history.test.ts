// The pieces of session history on their own: the store (ownership, per-user cap, retention, restart),
// the Markdown rendering of hostile transcripts, the exec output parser, and reading a sandbox home
// that a learner has booby-trapped (symlinks out, FIFOs, oversized files).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openHistoryStore } from '../../src/db/history.ts';
import { transcriptToMarkdown } from '../../src/history/markdown.ts';
import { parseTranscriptOutput } from '../../src/runtime/kubernetes/transcript-exec.ts';
import { readNewestTranscript } from '../../src/runtime/local/sandbox-home.ts';

const UUID_A = '11111111-2222-4333-8444-555555555555';
const UUID_B = '99999999-8888-4777-8666-555555555555';
const line = (value: unknown) => `${JSON.stringify(value)}\n`;
const start = (sessionId: string, userId: string, createdAt = new Date('2026-01-01T00:00:00Z')) => ({ sessionId, userId, courseId: 'c1', createdAt });
const transcript = (text: string) => ({ conversationId: UUID_A, content: Buffer.from(text), truncated: false });

describe('history store', () => {
  it('answers only the owner, and keeps a record after its conversation is deleted', () => {
    const store = openHistoryStore(':memory:', { transcriptsPerUser: 10 });
    try {
      store.recordStart(start('aaaaaaaaaaaaaaaaaaaa', 'alice'));
      assert.equal(store.saveTranscript('aaaaaaaaaaaaaaaaaaaa', transcript('x'), new Date()), true);
      assert.equal(store.saveTranscript('bbbbbbbbbbbbbbbbbbbb', transcript('x'), new Date()), false, 'no row: not saved');
      assert.equal(store.getTranscript('bob', 'aaaaaaaaaaaaaaaaaaaa'), undefined);
      assert.equal(store.deleteTranscript('bob', 'aaaaaaaaaaaaaaaaaaaa'), false);
      assert.deepEqual(store.list('bob', 10), []);
      assert.equal(store.getTranscript('alice', 'aaaaaaaaaaaaaaaaaaaa')?.content.toString(), 'x');
      assert.equal(store.deleteTranscript('alice', 'aaaaaaaaaaaaaaaaaaaa'), true);
      const [entry] = store.list('alice', 10);
      assert.equal(entry?.sessionId, 'aaaaaaaaaaaaaaaaaaaa');
      assert.equal(entry?.conversation, null);
    } finally {
      store.close();
    }
  });

  it('keeps only the newest TRANSCRIPTS_PER_USER conversations of a user, and others\' untouched', () => {
    const store = openHistoryStore(':memory:', { transcriptsPerUser: 2 });
    try {
      const ids = ['aaaaaaaaaaaaaaaaaaa2', 'aaaaaaaaaaaaaaaaaaa3', 'aaaaaaaaaaaaaaaaaaa4'];
      store.recordStart(start('bbbbbbbbbbbbbbbbbbbb', 'bob'));
      store.saveTranscript('bbbbbbbbbbbbbbbbbbbb', transcript('bob'), new Date('2026-01-01T00:00:00Z'));
      ids.forEach((id, i) => {
        store.recordStart(start(id, 'alice'));
        store.saveTranscript(id, transcript(id), new Date(Date.UTC(2026, 0, 2 + i)));
      });
      assert.equal(store.getTranscript('alice', ids[0]!), undefined, 'the oldest was dropped');
      assert.ok(store.getTranscript('alice', ids[1]!));
      assert.ok(store.getTranscript('alice', ids[2]!));
      assert.ok(store.getTranscript('bob', 'bbbbbbbbbbbbbbbbbbbb'));
    } finally {
      store.close();
    }
  });

  it('prunes by age, and closes records a stopped service left open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-store-'));
    const path = join(dir, 'progress.db');
    try {
      let store = openHistoryStore(path, { transcriptsPerUser: 10 });
      store.recordStart(start('aaaaaaaaaaaaaaaaaaaa', 'alice', new Date('2026-01-01T00:00:00Z')));
      store.recordStart(start('cccccccccccccccccccc', 'alice', new Date('2026-03-01T00:00:00Z')));
      store.saveTranscript('aaaaaaaaaaaaaaaaaaaa', transcript('old'), new Date('2026-01-01T00:10:00Z'));
      store.saveTranscript('cccccccccccccccccccc', transcript('new'), new Date('2026-03-01T00:10:00Z'));
      store.close();

      store = openHistoryStore(path, { transcriptsPerUser: 10 }); // survives a restart
      assert.equal(store.closeUnfinished(new Set(['cccccccccccccccccccc']), new Date('2026-03-02T00:00:00Z')), 1);
      const old = store.getEntry('alice', 'aaaaaaaaaaaaaaaaaaaa');
      assert.equal(old?.reason, 'service_restarted');
      assert.equal(store.getEntry('alice', 'cccccccccccccccccccc')?.endedAt, null, 'a live session stays open');
      const removed = store.prune({ transcriptsBefore: new Date('2026-02-01T00:00:00Z'), sessionsBefore: new Date('2025-12-01T00:00:00Z') });
      assert.deepEqual(removed, { transcripts: 1, sessions: 0 });
      assert.equal(store.getTranscript('alice', 'aaaaaaaaaaaaaaaaaaaa'), undefined);
      assert.ok(store.getTranscript('alice', 'cccccccccccccccccccc'));
      assert.deepEqual(store.prune({ transcriptsBefore: new Date(0), sessionsBefore: new Date('2026-02-01T00:00:00Z') }), { transcripts: 0, sessions: 1 });
      assert.equal(store.getEntry('alice', 'aaaaaaaaaaaaaaaaaaaa'), undefined);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Markdown export', () => {
  const meta = { sessionId: 'aaaaaaaaaaaaaaaaaaaa', courseId: null, savedAt: '2026-01-01T00:00:00.000Z', truncated: true };

  it('renders text turns, summarises tool calls and results, and skips notes, metadata and junk', () => {
    const content = [
      'not json at all',
      line({ type: 'queue-operation', content: 'hidden' }),
      line({ type: 'user', message: { role: 'user', content: 'What is attention?' } }),
      line({ type: 'user', isMeta: true, message: { role: 'user', content: 'META-HIDDEN' } }),
      line({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: '<system-reminder>NOTE-HIDDEN</system-reminder>' }] } }),
      line({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', name: 'Read', input: { file_path: '/workspace/a.md', nested: { x: 1 } } }] } }),
      line({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', content: 'RAW-RESULT-HIDDEN', is_error: true }] } }),
      line({ type: 'assistant', message: { role: 'assistant', content: 42 } }),
      line({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'It is a weighting.' }] } }),
      '{"type":"user","message":{"content":"cut off',
    ].join('\n');
    const md = transcriptToMarkdown(Buffer.from(content), meta);
    assert.match(md, /^# Claude Code conversation/);
    assert.match(md, /only its newest part was kept/);
    assert.match(md, /## You\n\nWhat is attention\?/);
    assert.match(md, /## Claude\n\nLet me look\.\n\n> Tool call: `Read` \(file_path: \/workspace\/a\.md\)/);
    assert.match(md, /## Tool\n\n> Tool result: error/);
    assert.match(md, /## Claude\n\nIt is a weighting\./);
    for (const hidden of ['hidden', 'META-HIDDEN', 'NOTE-HIDDEN', 'RAW-RESULT-HIDDEN', 'cut off', 'not json', '{']) assert.ok(!md.includes(hidden), hidden);
  });
});

describe('transcript output of the pod exec', () => {
  const body = Buffer.from('{"a":1}\n{"b":2}\n');
  const output = (id: string, size: number, content: Buffer) => `noise\r\nCLAUDECODE-TRANSCRIPT ${id} ${size}\r\n${content.toString('base64').replace(/.{1,76}/g, '$&\r\n')}CLAUDECODE-END\r\n`;

  it('decodes a well-formed answer, cutting a truncated one at its first line break', () => {
    assert.deepEqual(parseTranscriptOutput(output(UUID_A, body.length, body), 1024), { conversationId: UUID_A, content: body, truncated: false });
    const cut = parseTranscriptOutput(output(UUID_A, 5000, Buffer.from('{"a"tail}\n{"b":2}\n')), 1024);
    assert.deepEqual(cut, { conversationId: UUID_A, content: Buffer.from('{"b":2}\n'), truncated: true });
  });

  it('refuses a bad id, bad base64, a missing footer or more than the cap', () => {
    assert.equal(parseTranscriptOutput(output('../../etc/passwd', 8, body), 1024), null);
    assert.equal(parseTranscriptOutput(output(UUID_A, 8, body).replace(body.toString('base64').slice(0, 4), '%%%%'), 1024), null);
    assert.equal(parseTranscriptOutput(output(UUID_A, 8, body).replace('CLAUDECODE-END', ''), 1024), null);
    assert.equal(parseTranscriptOutput(output(UUID_A, 8, Buffer.alloc(2048, 0x61)), 1024), null);
  });
});

describe('reading a booby-trapped sandbox home', () => {
  it('follows no symlink out of the home, skips FIFOs and odd names, and tail-reads big files', () => {
    const root = mkdtempSync(join(tmpdir(), 'sandbox-home-'));
    try {
      const home = join(root, 'home');
      const secret = join(root, 'host-secret.jsonl');
      writeFileSync(secret, 'HOST-SECRET\n');
      mkdirSync(join(root, 'elsewhere'));
      writeFileSync(join(root, 'elsewhere', `${UUID_B}.jsonl`), 'ELSEWHERE\n');
      const project = join(home, '.claude', 'projects', '-workspace');
      mkdirSync(project, { recursive: true });
      writeFileSync(join(project, `${UUID_A}.jsonl`), `${'x'.repeat(100)}\n{"keep":1}\n`);
      // Newer, but traps: a symlinked file, a symlinked project folder, a FIFO, and a name that is no id.
      symlinkSync(secret, join(project, `${UUID_B}.jsonl`));
      symlinkSync(join(root, 'elsewhere'), join(home, '.claude', 'projects', '-linked'));
      execFileSync('mkfifo', [join(project, '99999999-0000-4000-8000-000000000000.jsonl')]);
      writeFileSync(join(project, 'notes.jsonl'), 'NOT-AN-ID\n');

      const fd = openSync(home, 'r');
      try {
        const read = readNewestTranscript(fd, 20);
        assert.deepEqual(read, { conversationId: UUID_A, content: Buffer.from('{"keep":1}\n'), truncated: true });
        const whole = readNewestTranscript(fd, 4096);
        assert.equal(whole?.truncated, false);
        assert.ok(!whole?.content.includes('HOST-SECRET') && !whole?.content.includes('ELSEWHERE'));
      } finally {
        closeSync(fd);
      }

      // A home whose .claude is itself a symlink out yields nothing.
      const trapped = join(root, 'trapped');
      mkdirSync(trapped);
      symlinkSync(join(home, '.claude'), join(trapped, '.claude'));
      const trappedFd = openSync(trapped, 'r');
      try {
        assert.equal(readNewestTranscript(trappedFd, 4096), null);
      } finally {
        closeSync(trappedFd);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
