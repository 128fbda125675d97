// Input to a pty master: non-blocking writes, what does not fit waits and is retried on a backing-off timer
// (never in a tight loop), backpressure and drain like a socket, and nothing written to a closed fd.
import assert from 'node:assert/strict';
import { closeSync, constants, openSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isNonBlocking, ptyInput } from '../../src/runtime/local/pty-input.ts';

const eagain = () => Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });

/** A pty stand-in that takes at most `room` bytes until given more. */
function fakePty(room: number) {
  const written: Buffer[] = [];
  const state = { room, attempts: 0, error: null as NodeJS.ErrnoException | null };
  const writeFd = (_fd: number, data: Buffer) => {
    state.attempts += 1;
    if (state.error) throw state.error;
    if (state.room === 0) throw eagain();
    const n = Math.min(state.room, data.length);
    state.room -= n;
    written.push(Buffer.from(data.subarray(0, n)));
    return n;
  };
  return { state, writeFd, text: () => Buffer.concat(written).toString() };
}

const waitFor = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('pty input', () => {
  it('writes at once while the pty has room, with no drain to wait for', () => {
    const pty = fakePty(1000);
    const input = ptyInput(3, { isOpen: () => true, writeFd: pty.writeFd });
    let drains = 0;
    input.onDrain(() => (drains += 1));
    assert.equal(input.write(Buffer.from('hello')), true);
    assert.equal(pty.text(), 'hello');
    assert.equal(drains, 0);
    assert.equal(input.queuedBytes, 0);
  });

  it('queues what does not fit, retries on a backing-off timer, keeps the order and drains once', async () => {
    const pty = fakePty(3);
    const input = ptyInput(3, { isOpen: () => true, writeFd: pty.writeFd, minRetryMs: 1, maxRetryMs: 8 });
    let drains = 0;
    input.onDrain(() => (drains += 1));
    assert.equal(input.write(Buffer.from('abcdef')), false);
    assert.equal(input.write(Buffer.from('gh')), false);
    assert.equal(pty.text(), 'abc');
    assert.equal(input.queuedBytes, 5);
    // The program reads nothing for a while: retries are paced, not a loop.
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(pty.state.attempts < 30, `${pty.state.attempts} attempts in 100 ms`);
    assert.equal(drains, 0);
    pty.state.room = 100;
    await waitFor(() => drains === 1, 'the drain');
    assert.equal(pty.text(), 'abcdefgh');
    assert.equal(input.queuedBytes, 0);
    assert.equal(input.write(Buffer.from('i')), true);
    assert.equal(drains, 1);
  });

  it('a write that takes nothing without an error waits too, rather than looping', async () => {
    let attempts = 0;
    const input = ptyInput(3, { isOpen: () => true, writeFd: () => ((attempts += 1), 0), minRetryMs: 1, maxRetryMs: 8 });
    assert.equal(input.write(Buffer.from('abc')), false);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(attempts < 30, `${attempts} attempts in 100 ms`);
    input.close();
  });

  it('drops what waits when the program is gone (EIO) and drains, so input is never stuck', async () => {
    const pty = fakePty(0);
    const input = ptyInput(3, { isOpen: () => true, writeFd: pty.writeFd, minRetryMs: 1 });
    let drains = 0;
    input.onDrain(() => (drains += 1));
    assert.equal(input.write(Buffer.from('abc')), false);
    pty.state.error = Object.assign(new Error('EIO'), { code: 'EIO' });
    await waitFor(() => drains === 1, 'the drain');
    assert.equal(input.queuedBytes, 0);
  });

  it('never writes once the fd is closed or the input closed', async () => {
    const pty = fakePty(0);
    let open = true;
    const input = ptyInput(3, { isOpen: () => open, writeFd: pty.writeFd, minRetryMs: 1 });
    input.write(Buffer.from('abc'));
    const attempts = pty.state.attempts;
    open = false;
    pty.state.room = 100;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(pty.state.attempts, attempts);
    assert.equal(input.queuedBytes, 0);
    const closing = ptyInput(3, { isOpen: () => true, writeFd: pty.writeFd });
    closing.close();
    assert.equal(closing.write(Buffer.from('x')), true);
    assert.equal(pty.text(), '');
  });

  it('tells non-blocking descriptors from blocking ones', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      assert.equal(isNonBlocking(fd), false);
    } finally {
      closeSync(fd);
    }
    const nonBlocking = openSync('/dev/null', constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      assert.equal(isNonBlocking(nonBlocking), true);
    } finally {
      closeSync(nonBlocking);
    }
    assert.equal(isNonBlocking(987654), null, 'an fd that is not open');
  });
});
