// A foreign page cannot make the browser change anything with its ambient credentials (the local
// user's loopback address, a token cookie, a proxy's session cookie).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { api, startTestService } from '../helpers/service.ts';
import { bearer, jwtEnv, mintToken, recordingRuntime } from './helpers.ts';

describe('cross-site writes', () => {
  describe('none mode', () => {
    let service: Service;
    before(async () => {
      service = await startTestService({ ALLOWED_ORIGINS: 'https://learn.example.org' }, { runtime: recordingRuntime().runtime });
    });
    after(() => service.close());

    it('refuses a state-changing request from a foreign origin as unauthenticated', async () => {
      const res = await api(service, 'POST', '/api/sessions', {}, { origin: 'https://evil.example' });
      assert.equal(res.status, 401);
      assert.equal(service.manager.listAll().length, 0);
    });

    it('accepts the page\'s own origin, configured origins and clients without Origin', async () => {
      const own = await api(service, 'POST', '/api/sessions', {}, { origin: service.url });
      assert.equal(own.status, 201);
      assert.equal((await api(service, 'DELETE', `/api/sessions/${String(own.body.id)}`, undefined, { origin: 'https://evil.example' })).status, 401);
      assert.equal((await api(service, 'DELETE', `/api/sessions/${String(own.body.id)}`, undefined, { origin: 'https://learn.example.org' })).status, 204);
      const cli = await api(service, 'POST', '/api/sessions', {});
      assert.equal(cli.status, 201);
      assert.equal((await api(service, 'DELETE', `/api/sessions/${String(cli.body.id)}`)).status, 204);
    });

    it('still answers reads from anywhere (the browser keeps the answer from a foreign page)', async () => {
      assert.equal((await api(service, 'GET', '/api/sessions', undefined, { origin: 'https://evil.example' })).status, 200);
    });
  });

  describe('jwt mode', () => {
    let service: Service;
    before(async () => {
      service = await startTestService(jwtEnv(), { runtime: recordingRuntime().runtime });
    });
    after(() => service.close());

    it('refuses a cross-site write carried by the token cookie, but not one with a bearer token', async () => {
      const token = await mintToken('alice');
      const viaCookie = await api(service, 'POST', '/api/sessions', {}, { origin: 'https://evil.example', cookie: `claudecode_token=${token}` });
      assert.equal(viaCookie.status, 401);
      const viaBearer = await api(service, 'POST', '/api/sessions', {}, { origin: 'https://embedder.example', ...bearer(token) });
      assert.equal(viaBearer.status, 201);
      assert.equal((await api(service, 'DELETE', `/api/sessions/${String(viaBearer.body.id)}`, undefined, bearer(token))).status, 204);
    });
  });
});
