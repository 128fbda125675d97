// Session lifecycle through the real client-node against the fake apiserver: start, exec, resize,
// exit codes, stop, and reattaching to the same running program.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StartProgress } from '../../src/runtime/types.ts';
import { eventually, makeSpec, startHarness, startOpts, TerminalReader, type Harness } from './helpers.ts';

describe('kubernetes runtime lifecycle', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  it('starts a pod, reports progress in order, and bridges the terminal', async () => {
    const progress: StartProgress[] = [];
    const spec = makeSpec();
    const terminal = await h.runtime.start(spec, startOpts(progress));
    const reader = new TerminalReader(terminal);
    await reader.waitFor('ready');
    assert.deepEqual(progress.map((p) => p.phase), ['scheduled', 'pulling_image', 'image_pulled', 'started'].slice(0, progress.length));
    assert.ok(progress.length >= 1);
    terminal.write(Buffer.from('hello-through-exec\n'));
    await reader.waitFor(/hello-through-exec[\s\S]*hello-through-exec/);
    const exec = h.fake.execs.at(-1)!;
    assert.equal(exec.protocol, 'v5.channel.k8s.io');
    assert.equal(exec.tty, true);
    assert.equal(exec.container, 'sandbox');
    await h.runtime.stop(spec.sessionId);
    assert.equal(h.fake.pods().length, 0);
  });

  it('exec carries the bearer token', async () => {
    const spec = makeSpec();
    const terminal = await h.runtime.start(spec, startOpts());
    await new TerminalReader(terminal).waitFor('ready');
    assert.equal(h.fake.execs.at(-1)!.authorization, `Bearer ${h.fake.token}`);
    await h.runtime.stop(spec.sessionId);
  });

  it('an exit in the pod ends the terminal with its code', async () => {
    const spec = makeSpec({ command: ['/bin/sh', '-c', 'echo bye; exit 7'] });
    const reader = new TerminalReader(await h.runtime.start(spec, startOpts()));
    const exit = await reader.waitExit();
    assert.equal(exit.code, 7);
    assert.match(reader.output, /bye/);
    await h.runtime.stop(spec.sessionId);
  });

  it('a clean exit ends with code 0', async () => {
    const spec = makeSpec({ command: ['/bin/sh', '-c', 'exit 0'] });
    const exit = await new TerminalReader(await h.runtime.start(spec, startOpts())).waitExit();
    assert.equal(exit.code, 0);
    await h.runtime.stop(spec.sessionId);
  });

  it('resize reaches the pty', async () => {
    const spec = makeSpec({ command: ['/bin/sh'], cols: 90, rows: 30 });
    const terminal = await h.runtime.start(spec, startOpts());
    const reader = new TerminalReader(terminal);
    terminal.write(Buffer.from('stty size\n'));
    await reader.waitFor('30 90');
    terminal.resize(132, 43);
    await eventually(() => h.fake.execs.at(-1)!.resizes.some((r) => r.cols === 132 && r.rows === 43), 'resize frame');
    terminal.write(Buffer.from('stty size\n'));
    await reader.waitFor('43 132');
    await h.runtime.stop(spec.sessionId);
  });

  it('stop is idempotent and ends the running exec', async () => {
    const spec = makeSpec();
    const reader = new TerminalReader(await h.runtime.start(spec, startOpts()));
    await reader.waitFor('ready');
    await h.runtime.stop(spec.sessionId);
    await h.runtime.stop(spec.sessionId);
    await h.runtime.stop('never-existed');
    assert.equal(h.fake.pods().length, 0);
    const exit = await reader.waitExit();
    assert.notEqual(exit.code, 0);
  });

  it('attach after detach reaches the same running program', async () => {
    const spec = makeSpec({ command: ['/bin/sh', '-c', 'echo pid=$$; exec cat'] });
    const first = new TerminalReader(await h.runtime.start(spec, startOpts()));
    await first.waitFor(/pid=\d+/);
    const pid = first.output.match(/pid=(\d+)/)![1];
    first.terminal.write(Buffer.from('before-detach\n'));
    await first.waitFor(/before-detach[\s\S]*before-detach/);
    first.terminal.detach();
    assert.equal(first.exit, null);

    const records = await h.runtime.list();
    const record = records.find((r) => r.sessionId === spec.sessionId);
    assert.ok(record?.alive);
    const second = new TerminalReader(await h.runtime.attach(spec.sessionId, { cols: 100, rows: 30 }));
    second.terminal.write(Buffer.from('after-attach\n'));
    await second.waitFor(/after-attach[\s\S]*after-attach/);
    assert.doesNotMatch(second.output, /pid=/, 'the program was not started again');
    // The same process is still alive and is the one cat-ing.
    assert.equal(Number.isInteger(Number(pid)), true);
    process.kill(Number(pid), 0);
    second.terminal.write(Buffer.from('\x04'));
    const exit = await second.waitExit();
    assert.equal(exit.code, 0);
    await h.runtime.stop(spec.sessionId);
  });

  it('list reports adoption data from labels and annotations', async () => {
    const spec = makeSpec({ course: { id: 'intro', contentDir: '/nowhere' } });
    const terminal = await h.runtime.start(spec, startOpts());
    await new TerminalReader(terminal).waitFor('ready');
    const record = (await h.runtime.list()).find((r) => r.sessionId === spec.sessionId);
    assert.deepEqual(record, {
      sessionId: spec.sessionId,
      userHash: spec.userHash,
      createdAt: spec.createdAt,
      expiresAt: spec.expiresAt,
      courseId: 'intro',
      profile: 'default',
      alive: true,
    });
    await h.runtime.stop(spec.sessionId);
  });
});
