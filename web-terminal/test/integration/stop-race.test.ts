// A DELETE at any moment, 0 ms to 2 s after the POST (while the sandbox is still being made included),
// leaves nothing behind: no sandbox process and no cgroup (local runtime). The Kubernetes runtime's
// twin, with pods, is test/kubernetes/stop-race.test.ts (a file of its own: each has its own time limit).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCgroupLayout } from '../../src/runtime/local/cgroups.ts';
import type { Service } from '../../src/server.ts';
import { waitUntil } from '../helpers/processes.ts';
import { processesMentioning } from '../helpers/service-process.ts';
import { api, startTestService } from '../helpers/service.ts';
import { delays, runPairs, STOP_RACE_LIMITS as limits } from '../helpers/stop-race.ts';

describe('race-free stop, local runtime', () => {
  let service: Service;
  before(async () => {
    service = await startTestService({ ...limits, SESSION_COMMAND: 'echo up; exec sleep 1000' });
  });
  after(() => service.close());

  it('200 create/delete pairs at random delays leave no sandbox process and no cgroup', { timeout: 300_000 }, async () => {
    const leftAfterDelete: string[] = [];
    const ids = await runPairs(service, delays(200, 7, 2000), 8, (id) => {
      if (processesMentioning(id).length > 0) leftAfterDelete.push(id);
    });
    assert.equal(ids.length, 200);
    assert.deepEqual(leftAfterDelete, [], 'a sandbox process outlived the DELETE that answered 204');
    // And nothing turns up later either (a sandbox made after its stop would).
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(ids.filter((id) => processesMentioning(id).length > 0), []);
    const layout = parseCgroupLayout(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/self/mountinfo', 'utf8'), () => null);
    const bases = [layout.v2?.dir, ...Object.values(layout.v1)].filter((d): d is string => d !== undefined).map((d) => join(d, 'claudecode-sandboxes'));
    const leftCgroups = ids.flatMap((id) => bases.map((b) => join(b, `session-${id}`))).filter((dir) => existsSync(dir));
    assert.deepEqual(leftCgroups, [], 'every sandbox cgroup was removed');
  });

  it('kills a sandbox process the process tree no longer leads to (an init reparented away)', { timeout: 60_000 }, async () => {
    const created = await api(service, 'POST', '/api/sessions', {});
    const id = created.body.id as string;
    await waitUntil(() => processesMentioning(id).length > 0, 10_000, 'the sandbox running');
    // What a sandbox's init looks like once bubblewrap's outer process is gone: not a child of the service,
    // carrying the session's marker in its arguments.
    const straggler = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', '--', 'CLAUDECODE_SESSION_ID', id], { detached: true, stdio: 'ignore' });
    const gone = new Promise((resolve) => straggler.once('exit', resolve));
    try {
      await waitUntil(() => processesMentioning(id).includes(straggler.pid!), 10_000, 'the straggler running');
      assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
      assert.deepEqual(processesMentioning(id), [], 'nothing of the sandbox survives its DELETE');
      await gone;
    } finally {
      straggler.kill('SIGKILL');
    }
  });
});
