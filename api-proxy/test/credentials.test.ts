// Session credentials: round trip, shape (printable, long enough for the CLI's approval list), and
// every way a token can be wrong.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { issueSessionCredential, verifySessionCredential } from '../src/credentials.ts';

const SECRET = 'credential-test-secret-0123456789abcdef';
const claims = { sessionId: 'sess-42', userHash: 'u-9f8e7d', expiresAt: new Date('2030-01-01T00:00:00.000Z') };
const NOW = new Date('2029-12-31T00:00:00Z');

test('issue then verify round-trips the claims', () => {
  const token = issueSessionCredential(claims, SECRET);
  const verdict = verifySessionCredential(token, SECRET, NOW);
  assert.deepEqual(verdict, { ok: true, claims });
});

test('tokens are versioned, printable ASCII, at least 40 characters, and differ per session', () => {
  const token = issueSessionCredential(claims, SECRET);
  assert.match(token, /^ccp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.match(token, /^[\x21-\x7e]+$/);
  assert.ok(token.length >= 40);
  const other = issueSessionCredential({ ...claims, sessionId: 'sess-43' }, SECRET);
  assert.notEqual(other.slice(-20), token.slice(-20));
});

test('wrong tokens are refused with a reason', () => {
  const token = issueSessionCredential(claims, SECRET);
  const [v, payload, sig] = token.split('.') as [string, string, string];
  const forged = Buffer.from(JSON.stringify({ sid: 'sess-42', uh: 'someone-else', exp: claims.expiresAt.getTime() })).toString('base64url');
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const cases: Array<[string, string, string]> = [
    ['', SECRET, 'missing'],
    ['not-a-token', SECRET, 'malformed'],
    ['a.b', SECRET, 'malformed'],
    [`${token}.extra`, SECRET, 'malformed'],
    [`ccp2.${payload}.${sig}`, SECRET, 'unknown_version'],
    [`${v}.${forged}.${sig}`, SECRET, 'bad_signature'],
    [`${v}.${payload}.${flip(sig)}`, SECRET, 'bad_signature'],
    [`${v}.${payload}.${sig.slice(0, -1)}`, SECRET, 'bad_signature'],
    [`${v}.${payload}.${sig}=`, SECRET, 'malformed'],
    [`${v}.${payload}!.${sig}`, SECRET, 'malformed'],
    [token, 'another-secret-0123456789abcdefghijkl', 'bad_signature'],
    [token, 'short', 'bad_signature'],
    ['x'.repeat(5000), SECRET, 'malformed'],
  ];
  for (const [t, secret, reason] of cases) {
    assert.deepEqual(verifySessionCredential(t, secret, NOW), { ok: false, reason }, `${t.slice(0, 30)} -> ${reason}`);
  }
});

test('expiry is checked against the clock', () => {
  const token = issueSessionCredential(claims, SECRET);
  assert.equal(verifySessionCredential(token, SECRET, new Date('2030-01-01T00:00:00.000Z')).ok, false);
  assert.deepEqual(verifySessionCredential(token, SECRET, new Date('2031-01-01')), { ok: false, reason: 'expired' });
  assert.equal(verifySessionCredential(token, SECRET, new Date('2029-12-31T23:59:59.999Z')).ok, true);
});

test('a signed payload with unexpected fields is refused', () => {
  // Even with the right secret: only the documented claims are accepted.
  const payload = Buffer.from(JSON.stringify({ sid: 's', uh: 'u', exp: claims.expiresAt.getTime(), admin: true })).toString('base64url');
  const sig = createHmac('sha256', SECRET).update(`ccp1.${payload}`).digest('base64url');
  assert.deepEqual(verifySessionCredential(`ccp1.${payload}.${sig}`, SECRET, NOW), { ok: false, reason: 'malformed' });
});

test('issuing refuses a short secret and invalid claims', () => {
  assert.throws(() => issueSessionCredential(claims, 'short'));
  assert.throws(() => issueSessionCredential({ ...claims, sessionId: '' }, SECRET));
  assert.throws(() => issueSessionCredential({ ...claims, sessionId: 'has space' }, SECRET));
});
