// The shared pod watch: a dropped watch resumes from the last resourceVersion, 410 Expired relists,
// and reconciliation removes orphans and finished pods.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, makeSpec, startHarness, startOpts, TerminalReader, type Harness } from './helpers.ts';

const watchRequests = (h: Harness) => h.fake.api.requests.filter((r) => r.path.includes('watch=true'));
const listRequests = (h: Harness) => h.fake.api.requests.filter((r) => r.method === 'GET' && r.path.match(/\/pods\?/) && !r.path.includes('watch=true'));

describe('kubernetes pod watch and reconciliation', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  it('a dropped watch is resumed from the last resourceVersion', async () => {
    assert.deepEqual(await h.runtime.health(), { ok: true });
    await eventually(() => h.fake.api.openWatches() === 1, 'the first watch');
    const first = await h.runtime.start(makeSpec(), startOpts()); // moves the resourceVersion on
    first.detach();
    const lists = listRequests(h).length;
    const watches = watchRequests(h).length;
    h.fake.api.dropWatches();
    await eventually(() => watchRequests(h).length > watches && h.fake.api.openWatches() === 1, 'a new watch');
    const resumed = new URL(watchRequests(h).at(-1)!.path, 'http://x').searchParams.get('resourceVersion');
    assert.ok(resumed && Number(resumed) > 100, `resumed from ${resumed}`);
    assert.equal(listRequests(h).length, lists, 'no relist for a plain drop');
    // Events still arrive: a new session starts (its readiness comes through the watch).
    const spec = makeSpec();
    await new TerminalReader(await h.runtime.start(spec, startOpts())).waitFor('ready');
    await h.runtime.reconcile([]);
    await eventually(() => h.fake.pods().length === 0, 'cleanup');
  });

  it('410 Expired relists and watches again', async () => {
    await eventually(() => h.fake.api.openWatches() === 1, 'a watch');
    const lists = listRequests(h).length;
    h.fake.api.compact();
    h.fake.api.dropWatches();
    await eventually(() => listRequests(h).length > lists && h.fake.api.openWatches() === 1, 'a relist and a new watch');
    const spec = makeSpec();
    await new TerminalReader(await h.runtime.start(spec, startOpts())).waitFor('ready');
    await h.runtime.stop(spec.sessionId);
  });

  it('reconcile deletes orphans and finished pods, and keeps owned running ones', async () => {
    const owned = makeSpec();
    const orphan = makeSpec();
    const now = new Date();
    const expiring = makeSpec({ createdAt: now, expiresAt: new Date(now.getTime() + 20_000) }); // 20 s at 100 ms each
    h.fake.kubelet.deadlineMsPerSecond = 100;
    try {
      await h.runtime.start(owned, startOpts());
      await h.runtime.start(orphan, startOpts());
      const reader = new TerminalReader(await h.runtime.start(expiring, startOpts()));
      // activeDeadlineSeconds emulation: the pod turns Failed/DeadlineExceeded and its exec ends.
      const exit = await reader.waitExit(20_000);
      assert.equal(exit.code, 137);
      const records = await h.runtime.list();
      assert.equal(records.find((r) => r.sessionId === expiring.sessionId)?.alive, false);
      assert.equal(records.find((r) => r.sessionId === owned.sessionId)?.alive, true);
    } finally {
      h.fake.kubelet.deadlineMsPerSecond = 1000;
    }
    const result = await h.runtime.reconcile([owned.sessionId, expiring.sessionId]);
    assert.deepEqual(result.deleted.sort(), [`claudecode-session-${expiring.sessionId}`, `claudecode-session-${orphan.sessionId}`].sort());
    await eventually(() => h.fake.pods().length === 1, 'only the owned pod to remain');
    assert.equal(h.fake.pods()[0]!.metadata!.name, `claudecode-session-${owned.sessionId}`);
    await h.runtime.stop(owned.sessionId);
  });
});
