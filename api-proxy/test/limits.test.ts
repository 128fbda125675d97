// Limits with an injected clock: the token bucket refills, slots are released, budgets reset per day.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CredentialLimits } from '../src/limits.ts';

const caller = { sessionId: 's', userHash: 'u', expiresAtMs: 10 * 60_000 };
const settings = { rateLimitPerMinute: 0, maxConcurrentPerCredential: 0, tokenBudgetPerSession: 0, tokenBudgetPerUser: 0 };

test('rate: the bucket empties, says when to retry, and refills with time', () => {
  let now = 0;
  const limits = new CredentialLimits({ ...settings, rateLimitPerMinute: 6 }, () => now);
  for (let i = 0; i < 6; i++) assert.equal(limits.admit(caller).ok, true);
  const denied = limits.admit(caller);
  assert.equal(denied.ok, false);
  if (!denied.ok) {
    assert.equal(denied.rejection.status, 429);
    assert.equal(denied.rejection.reason, 'rate');
    assert.equal(denied.rejection.retryAfterSeconds, 10);
  }
  now += 10_000;
  assert.equal(limits.admit(caller).ok, true);
  assert.equal(limits.admit(caller).ok, false);
});

test('concurrency: a released slot can be taken again; release is idempotent', () => {
  const limits = new CredentialLimits({ ...settings, maxConcurrentPerCredential: 2 });
  const a = limits.admit(caller);
  const b = limits.admit(caller);
  assert.ok(a.ok && b.ok);
  assert.equal(limits.admit(caller).ok, false);
  if (a.ok) {
    a.release();
    a.release();
  }
  assert.equal(limits.admit(caller).ok, true);
  assert.equal(limits.admit(caller).ok, false);
});

test('budgets: session budget holds until expiry, user budget resets the next UTC day', () => {
  let now = 1000;
  const limits = new CredentialLimits({ ...settings, tokenBudgetPerSession: 100, tokenBudgetPerUser: 150 }, () => now);
  limits.recordUsage(caller, 100);
  const s = limits.admit(caller);
  assert.ok(!s.ok && s.rejection.reason === 'session_budget');
  const other = { ...caller, sessionId: 's2' };
  limits.recordUsage(other, 50);
  const u = limits.admit(other);
  assert.ok(!u.ok && u.rejection.reason === 'user_budget');
  now += 86_400_000;
  assert.equal(limits.admit(other).ok, true);
});

test('sweep forgets expired, idle sessions after the grace period', () => {
  let now = 0;
  const limits = new CredentialLimits({ ...settings, tokenBudgetPerSession: 10 }, () => now);
  limits.recordUsage(caller, 10);
  now = caller.expiresAtMs + 1;
  assert.deepEqual(limits.sweep(60_000), []);
  now += 60_000;
  assert.deepEqual(limits.sweep(60_000), [{ sessionId: 's', userHash: 'u' }]);
  assert.equal(limits.admit(caller).ok, true);
});
