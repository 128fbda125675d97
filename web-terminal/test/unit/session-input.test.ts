// Keystrokes typed while a session starts are kept (bounded) and delivered once it runs; past the bound the
// viewer is told, never left guessing. The buffer lives in Session, so every runtime gets it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REASONS } from '../../public/reasons.js';
import { BRACKETED_PASTE_ON } from '../../src/sandbox-command.ts';
import { MAX_PENDING_INPUT_BYTES, Session } from '../../src/sessions/session.ts';
import type { Viewer } from '../../src/sessions/viewer.ts';
import { FakeTerminal } from '../helpers/fake-runtime.ts';

function newSession(extra: { inputReadyMarker?: string; inputReadyTimeoutMs?: number } = {}) {
  const now = Date.parse('2026-01-01T00:00:00Z');
  return new Session({
    ...extra,
    id: 'a'.repeat(20),
    userHash: 'u',
    ownerId: 'alice',
    displayName: 'Alice',
    courseId: null,
    stage: null,
    profile: 'default',
    createdAt: new Date(now),
    expiresAt: new Date(now + 3_600_000),
    scrollbackBytes: 1024,
    now: () => now,
  });
}

function recordingViewer() {
  const controls: Array<Record<string, unknown>> = [];
  const viewer: Viewer = {
    sendData: () => true,
    onceDrained: (listener) => listener(),
    sendControl: (m) => controls.push(m as Record<string, unknown>),
    close: () => undefined,
    resumeInput: () => undefined,
  };
  return { viewer, controls };
}

const written = (terminal: FakeTerminal) => Buffer.concat(terminal.written).toString();

describe('input while a session starts', () => {
  it('delivers keystrokes typed before the terminal exists, in order, once it runs', () => {
    const session = newSession();
    const seen: string[] = [];
    session.onInput((chunk) => seen.push(chunk.toString()));
    assert.equal(session.input(Buffer.from('hel')), true);
    assert.equal(session.input(Buffer.from('lo\r')), true);
    const terminal = new FakeTerminal();
    session.run(terminal);
    assert.equal(written(terminal), 'hello\r');
    session.input(Buffer.from('more'));
    assert.equal(written(terminal), 'hello\rmore');
    assert.deepEqual(seen, ['hel', 'lo\r', 'more'], 'input observers see held input too');
  });

  it('refuses visibly, once, past the bound, keeps nothing after that, and delivers what it kept', () => {
    const session = newSession();
    const { viewer, controls } = recordingViewer();
    session.attach(viewer);
    session.input(Buffer.alloc(MAX_PENDING_INPUT_BYTES - 1, 'a'));
    session.input(Buffer.from('bc'));
    session.input(Buffer.from('d'));
    const errors = controls.filter((m) => m.type === 'error');
    assert.deepEqual(errors, [{ type: 'error', code: 'input_overflow', message: REASONS.input_overflow }]);
    const terminal = new FakeTerminal();
    session.run(terminal);
    assert.equal(written(terminal), 'a'.repeat(MAX_PENDING_INPUT_BYTES - 1));
  });

  it('lets held input go when the session ends before it runs', async () => {
    const session = newSession();
    session.input(Buffer.from('lost on purpose'));
    session.finish('failed', 'start_failed');
    const terminal = new FakeTerminal();
    session.run(terminal);
    assert.equal(terminal.written.length, 0);
    assert.equal(session.view().reasonMessage, REASONS.start_failed);
  });

  it('holds input for a program that announces when it reads keys, until it does (marker split across chunks)', () => {
    const session = newSession({ inputReadyMarker: BRACKETED_PASTE_ON });
    session.input(Buffer.from('early '));
    const terminal = new FakeTerminal();
    session.run(terminal);
    session.input(Buffer.from('words'));
    terminal.emitData('banner\x1b[?20');
    assert.equal(terminal.written.length, 0, 'the program is not reading keys yet');
    terminal.emitData('04h\x1b[2J prompt');
    assert.equal(written(terminal), 'early words');
    session.input(Buffer.from('!'));
    assert.equal(written(terminal), 'early words!');
    session.finish('ended', 'deleted');
  });

  it('gives held input to a program that never shows the marker once the wait is over', async () => {
    const session = newSession({ inputReadyMarker: BRACKETED_PASTE_ON, inputReadyTimeoutMs: 20 });
    const terminal = new FakeTerminal();
    session.run(terminal);
    session.input(Buffer.from('x'));
    const deadline = Date.now() + 5_000;
    while (terminal.written.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(written(terminal), 'x');
    session.finish('ended', 'deleted');
  });
});
