// The service as a process: SIGTERM shuts down cleanly, and sandboxes die with it even on kill -9.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from '../helpers/processes.ts';
import { processesMentioning, spawnService, stopServiceProcess } from '../helpers/service-process.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';

async function createSession(url: string): Promise<{ id: string; wsUrl: string }> {
  const res = await fetch(`${url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 201);
  return (await res.json()) as { id: string; wsUrl: string };
}

describe('service process', () => {
  it('on SIGTERM stops intake, tells the viewer, ends sandboxes and exits 0 with no process left', async (t) => {
    const service = await spawnService({ SESSION_COMMAND: 'echo up; exec sleep 1000' });
    t.after(() => stopServiceProcess(service));
    // Run from the repository root like `npm start`: the default COURSES_DIR finds the sample course.
    const courses = (await (await fetch(`${service.url}/api/courses`)).json()) as { courses: Array<{ id: string }> };
    assert.ok(courses.courses.some((c) => c.id === 'attention-is-all-you-need'));
    const session = await createSession(service.url);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    await term.waitFor('up');
    assert.ok(processesMentioning(session.id).length > 0, 'the sandbox runs');
    service.child.kill('SIGTERM');
    const exit = await term.waitForControl((m) => m.type === 'exit');
    assert.equal(exit.reason, 'shutdown');
    assert.equal((await term.closed).code, 1000);
    assert.deepEqual(await service.exited, { code: 0, signal: null });
    assert.deepEqual(processesMentioning(session.id), []);
  });

  it('sandboxes die with the service even when it is killed with SIGKILL', async (t) => {
    const service = await spawnService({ SESSION_COMMAND: 'echo up; exec sleep 1000' });
    t.after(() => stopServiceProcess(service));
    const session = await createSession(service.url);
    const term = await openTerminal(wsUrl(service.url, session.wsUrl));
    await term.waitFor('up');
    service.child.kill('SIGKILL');
    await service.exited;
    await waitUntil(() => processesMentioning(session.id).length === 0, 10_000, 'sandbox gone after the service was killed');
  });

  it('stops at start-up with one line naming a bad variable', async () => {
    await assert.rejects(spawnService({ PORT: 'eighty' }), /config error: PORT: .*"eighty"/);
  });
});
