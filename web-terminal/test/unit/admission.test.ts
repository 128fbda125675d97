import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission } from '../../src/sessions/admission.ts';

describe('admission', () => {
  it('never exceeds the global limit under a concurrent burst', async () => {
    const admission = new Admission({ maxSessions: 4, maxSessionsPerUser: 4, createsPerMinute: 1000 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => Promise.resolve().then(() => admission.tryAdmit(`user-${i % 7}`))));
    assert.equal(results.filter((r) => r.ok).length, 4);
    assert.equal(admission.active, 4);
    const refused = results.filter((r) => !r.ok);
    assert.equal(refused.length, 46);
    for (const r of refused) if (!r.ok) assert.ok(r.retryAfterSeconds >= 1);
  });

  it('holds the per-user limit and frees slots exactly once', () => {
    const admission = new Admission({ maxSessions: 10, maxSessionsPerUser: 2, createsPerMinute: 1000 });
    const a = admission.tryAdmit('alice');
    const b = admission.tryAdmit('alice');
    const c = admission.tryAdmit('alice');
    assert.ok(a.ok && b.ok);
    assert.deepEqual(c.ok ? null : c.reason, 'user_session_limit');
    assert.ok(admission.tryAdmit('bob').ok);
    if (a.ok) {
      a.release();
      a.release();
    }
    assert.equal(admission.activeFor('alice'), 1);
    assert.equal(admission.active, 2);
    assert.ok(admission.tryAdmit('alice').ok);
  });

  it('limits creations per minute per user, with a Retry-After until the window frees', () => {
    let now = 1_000_000;
    const admission = new Admission({ maxSessions: 100, maxSessionsPerUser: 100, createsPerMinute: 3 }, () => now);
    for (let i = 0; i < 3; i += 1) {
      const r = admission.tryAdmit('alice');
      assert.ok(r.ok);
      now += 1000;
    }
    const limited = admission.tryAdmit('alice');
    assert.ok(!limited.ok && limited.reason === 'rate_limited');
    if (!limited.ok) assert.equal(limited.retryAfterSeconds, 57);
    assert.ok(admission.tryAdmit('bob').ok, 'other users are not affected');
    now += 57_001;
    assert.ok(admission.tryAdmit('alice').ok);
  });
});
