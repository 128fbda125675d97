// AUTH_MODE=jwt: which tokens are accepted, and that everything else is anonymous (401).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Service } from '../../src/server.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import { AUDIENCE, HS_SECRET, ISSUER, as, bearer, jwtEnv, mintToken, recordingRuntime, unsignedToken } from './helpers.ts';

describe('jwt mode with an HS256 secret', () => {
  let service: Service;
  before(async () => {
    service = await startTestService(jwtEnv(), { runtime: recordingRuntime().runtime });
  });
  after(() => service.close());

  const listWith = (headers: Record<string, string>) => api(service, 'GET', '/api/sessions', undefined, headers);

  it('accepts a valid bearer token and scopes the API to its subject', async () => {
    const alice = as(service, bearer(await mintToken('alice')));
    const created = await alice('POST', '/api/sessions', {});
    assert.equal(created.status, 201);
    assert.match(String(created.body.wsUrl), /^\/ws\/sessions\/[a-z2-7]{20}\?ticket=[A-Za-z0-9_-]{43}$/);
    const mine = await alice('GET', '/api/sessions');
    assert.deepEqual((mine.body.sessions as Array<{ id: string }>).map((s) => s.id), [created.body.id]);
    const bobs = await listWith(bearer(await mintToken('bob')));
    assert.deepEqual(bobs.body.sessions, []);
    assert.equal((await alice('DELETE', `/api/sessions/${String(created.body.id)}`)).status, 204);
  });

  it('accepts the token from the cookie', async () => {
    const res = await listWith({ cookie: `other=1; claudecode_token=${await mintToken('alice')}` });
    assert.equal(res.status, 200);
  });

  it('answers 401 without a token, with the error shape', async () => {
    const res = await listWith({});
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { error: { code: 'unauthenticated', message: 'authentication required' } });
    assert.equal((await api(service, 'POST', '/api/sessions', {})).status, 401);
  });

  const refused: Array<[string, () => Promise<string> | string]> = [
    ['a forged signature (other secret)', () => mintToken('alice', {}, { secret: `${HS_SECRET}-but-not-quite` })],
    ['an expired token (beyond the clock skew)', () => mintToken('alice', {}, { expiresIn: -120 })],
    ['a wrong audience', () => mintToken('alice', {}, { audience: 'someone-else' })],
    ['a wrong issuer', () => mintToken('alice', {}, { issuer: 'https://evil.example' })],
    ['alg none', () => unsignedToken({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 })],
    ['an HS512 token (algorithm not on the list)', () => mintToken('alice', {}, { alg: 'HS512' })],
    ['a token without sub', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode(HS_SECRET))],
    ['a token without exp', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer(ISSUER).setAudience(AUDIENCE).sign(new TextEncoder().encode(HS_SECRET))],
    ['a tampered payload', async () => {
      const [h, , s] = (await mintToken('alice')).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300, roles: ['admin'] })).toString('base64url');
      return `${h}.${payload}.${s}`;
    }],
    ['garbage', () => 'not.a.jwt'],
  ];
  for (const [what, make] of refused) {
    it(`answers 401 for ${what}`, async () => {
      const token = await make();
      assert.equal((await listWith(bearer(token))).status, 401);
      assert.equal((await listWith({ cookie: `claudecode_token=${token}` })).status, 401);
    });
  }

  it('tolerates the configured clock skew on expiry', async () => {
    assert.equal((await listWith(bearer(await mintToken('alice', {}, { expiresIn: -10 })))).status, 200);
  });

  it('does not fall back to the cookie when the bearer token is bad', async () => {
    const res = await listWith({ ...bearer('not.a.jwt'), cookie: `claudecode_token=${await mintToken('alice')}` });
    assert.equal(res.status, 401);
  });

  it('gives admin rights only through the configured claim, and shows the name claim', async () => {
    const admin = as(service, bearer(await mintToken('root', { roles: ['staff', 'admin'], name: 'Root Admin' })));
    const carol = as(service, bearer(await mintToken('carol', { admin: true, roles: 'user', preferred_username: 'carol.c' })));
    assert.equal((await carol('GET', '/api/admin/sessions')).status, 404);
    const created = await carol('POST', '/api/sessions', {});
    const list = await admin('GET', '/api/admin/sessions');
    assert.equal(list.status, 200);
    const row = (list.body.sessions as Array<Record<string, unknown>>).find((s) => s.id === created.body.id);
    assert.equal(row?.displayName, 'carol.c');
    assert.equal((await admin('DELETE', `/api/sessions/${String(created.body.id)}`)).status, 204);
  });

  it('never shows an administrator the user id: a token without a name claim lists an empty display name', async () => {
    const admin = as(service, bearer(await mintToken('root', { roles: ['admin'] })));
    const nameless = as(service, bearer(await mintToken('dave-subject-7f3a')));
    const created = await nameless('POST', '/api/sessions', {});
    assert.equal(created.status, 201);
    const list = await admin('GET', '/api/admin/sessions');
    const row = (list.body.sessions as Array<Record<string, unknown>>).find((s) => s.id === created.body.id);
    assert.equal(row?.displayName, '');
    assert.doesNotMatch(JSON.stringify(list.body), /dave-subject-7f3a/);
    assert.equal((await admin('DELETE', `/api/sessions/${String(created.body.id)}`)).status, 204);
  });

  it('opens the terminal with the ticket from wsUrl', async () => {
    const alice = as(service, bearer(await mintToken('alice')));
    const created = await alice('POST', '/api/sessions', {});
    const term = await openTerminal(wsUrl(service.url, String(created.body.wsUrl)));
    term.type('hello over a ticket\n');
    await term.waitFor('hello over a ticket');
    await term.close();
    await alice('DELETE', `/api/sessions/${String(created.body.id)}`);
  });
});

describe('jwt mode with public keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function keyPair(alg: 'RS256' | 'ES256', kid: string) {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const sign = (sub: string, claims: Record<string, unknown> = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg, kid }).setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(privateKey);
    return { jwk, sign };
  }

  it('verifies RS256 tokens against a JWKS file and refuses HS256 tokens there', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const other = await keyPair('RS256', 'rsa-1');
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [rsa.jwk] }));
    const env = jwtEnv({ AUTH_JWKS_FILE: file });
    delete env.AUTH_JWT_SECRET;
    const service = await startTestService(env, { runtime: recordingRuntime().runtime });
    try {
      assert.equal((await api(service, 'GET', '/api/sessions', undefined, bearer(await rsa.sign('alice')))).status, 200);
      assert.equal((await api(service, 'GET', '/api/sessions', undefined, bearer(await other.sign('alice')))).status, 401, 'same kid, other key');
      assert.equal((await api(service, 'GET', '/api/sessions', undefined, bearer(await mintToken('alice')))).status, 401, 'HS256 not accepted with a key set');
    } finally {
      await service.close();
    }
  });

  it('verifies ES256 tokens against a JWKS URL', async () => {
    const ec = await keyPair('ES256', 'ec-1');
    let fetches = 0;
    const jwksServer = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [ec.jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const env = jwtEnv({ AUTH_JWKS_URL: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json` });
    delete env.AUTH_JWT_SECRET;
    const service = await startTestService(env, { runtime: recordingRuntime().runtime });
    try {
      const alice = as(service, bearer(await ec.sign('alice', { roles: ['admin'] })));
      assert.equal((await alice('GET', '/api/sessions')).status, 200);
      assert.equal((await alice('GET', '/api/admin/sessions')).status, 200);
      assert.equal((await api(service, 'GET', '/api/sessions')).status, 401);
      assert.ok(fetches >= 1);
    } finally {
      await service.close();
      await new Promise((resolve) => jwksServer.close(resolve));
    }
  });
});
