// DNS rebinding: a page on an attacker's name that resolves to 127.0.0.1 sends that name as Host (and
// as Origin). The service answers only the names it was meant to, on REST and WebSocket alike.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHostAllowlist } from '../../src/http/host-allowlist.ts';
import type { Service } from '../../src/server.ts';
import { isOriginAllowed } from '../../src/ws/origin.ts';
import { bearer, jwtEnv, mintToken, recordingRuntime } from '../auth/helpers.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';

/** A raw HTTP request with a chosen Host header (fetch does not let a caller set Host). */
function rawRequest(url: string, opts: { method?: string; host: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: opts.method ?? 'GET',
      headers: { host: opts.host, ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const upgradeStatus = (error: unknown) => (error as { statusCode?: number }).statusCode;

describe('host allowlist (DNS rebinding), AUTH_MODE=none with real sandboxes', () => {
  let service: Service;
  let port: string;
  let evil: string;
  before(async () => {
    service = await startTestService({ ALLOWED_ORIGINS: 'https://learn.example.org', ALLOWED_HOSTS: '192.0.2.10:31000,k3s.lan', MAX_SESSIONS_PER_USER: '4' });
    port = new URL(service.url).port;
    evil = `rebind.attacker.example:${port}`;
  });
  after(() => service.close());

  it('refuses every API call for a rebound name with 421 before doing anything', async () => {
    const origin = { origin: `http://${evil}` };
    const created = await rawRequest(`${service.url}/api/sessions`, { method: 'POST', host: evil, headers: origin, body: '{}' });
    assert.equal(created.status, 421);
    assert.equal(JSON.parse(created.body).error.code, 'host_not_allowed');
    assert.equal(service.manager.listAll().length, 0, 'no session was created');
    for (const path of ['/api/sessions', '/api/courses', '/', '/api/admin/sessions']) {
      assert.equal((await rawRequest(`${service.url}${path}`, { host: evil, headers: origin })).status, 421, path);
    }
  });

  it('refuses the WebSocket upgrade for a rebound name, while loopback still runs a typed command', async () => {
    const session = await api(service, 'POST', '/api/sessions', {});
    assert.equal(session.status, 201);
    const id = session.body.id as string;
    const attach = await api(service, 'POST', `/api/sessions/${id}/attach`);
    await assert.rejects(
      openTerminal(wsUrl(service.url, attach.body.wsUrl as string), { origin: `http://${evil}`, headers: { host: evil } }),
      (err) => upgradeStatus(err) === 421,
    );
    const term = await openTerminal(wsUrl(service.url, session.body.wsUrl as string), { origin: service.url });
    try {
      term.type('echo $((6*7))-ok\n');
      await term.waitFor('42-ok', 20_000);
    } finally {
      await term.close();
    }
    const removed = await rawRequest(`${service.url}/api/sessions/${id}`, { method: 'DELETE', host: evil, headers: { origin: `http://${evil}` } });
    assert.equal(removed.status, 421);
    assert.equal((await api(service, 'DELETE', `/api/sessions/${id}`)).status, 204);
  });

  it('answers loopback names on any port, the hosts of ALLOWED_ORIGINS and ALLOWED_HOSTS', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost:8080', 'learn.example.org', 'learn.example.org:443', '192.0.2.10:31000', 'k3s.lan:31000', 'K3S.LAN']) {
      assert.equal((await rawRequest(`${service.url}/api/sessions`, { host })).status, 200, host);
    }
    for (const host of ['learn.example.org:8443', '192.0.2.10:31001', '192.0.2.10', 'learn.example.org.evil.example', 'localhost.evil.example']) {
      assert.equal((await rawRequest(`${service.url}/api/sessions`, { host })).status, 421, JSON.stringify(host));
    }
  });

  it('keeps probes answering any Host (kubelet sends the pod address) and nothing else', async () => {
    assert.equal((await rawRequest(`${service.url}/healthz`, { host: '10.42.0.17:3000' })).status, 200);
    assert.equal((await rawRequest(`${service.url}/readyz`, { host: '10.42.0.17:3000' })).status, 200);
    assert.equal((await rawRequest(`${service.url}/healthz`, { method: 'POST', host: evil })).status, 421);
  });
});

describe('host allowlist in jwt mode', () => {
  let service: Service;
  before(async () => {
    service = await startTestService(jwtEnv(), { runtime: recordingRuntime().runtime, logger: pino({ level: 'silent' }) });
  });
  after(() => service.close());

  it('refuses a valid token presented for a rebound name', async () => {
    const token = await mintToken('alice');
    const host = `rebind.attacker.example:${new URL(service.url).port}`;
    assert.equal((await rawRequest(`${service.url}/api/sessions`, { method: 'POST', host, headers: bearer(token), body: '{}' })).status, 421);
    assert.equal((await api(service, 'POST', '/api/sessions', {}, bearer(token))).status, 201);
  });
});

describe('host allowlist in trusted-header mode', () => {
  let service: Service;
  before(async () => {
    // The test client is the trusted proxy (127.0.0.1): its identity headers count, its Host still must.
    service = await startTestService({ AUTH_MODE: 'trusted-header', AUTH_TRUSTED_PROXIES: '127.0.0.0/8,::1/128' }, { runtime: recordingRuntime().runtime, logger: pino({ level: 'silent' }) });
  });
  after(() => service.close());

  it('refuses identity headers from the trusted proxy presented for a rebound name', async () => {
    const host = `rebind.attacker.example:${new URL(service.url).port}`;
    const user = { 'x-auth-request-user': 'alice' };
    assert.equal((await rawRequest(`${service.url}/api/sessions`, { method: 'POST', host, headers: user, body: '{}' })).status, 421);
    assert.equal(service.manager.listAll().length, 0);
    assert.equal((await api(service, 'POST', '/api/sessions', {}, user)).status, 201);
  });
});

describe('origin check', () => {
  const hosts = createHostAllowlist({ allowedOrigins: ['https://learn.example.org'], allowedHosts: [] });
  const req = (host: string, origin: string) => ({ headers: { host, origin } }) as never;

  it('no longer believes "Origin equals whatever Host says"', () => {
    assert.equal(isOriginAllowed(req('rebind.attacker.example:3000', 'http://rebind.attacker.example:3000'), [], hosts), false);
    assert.equal(isOriginAllowed(req('localhost:3000', 'http://localhost:3000'), [], hosts), true);
    assert.equal(isOriginAllowed(req('localhost:3000', 'https://learn.example.org'), ['https://learn.example.org'], hosts), true);
    assert.equal(isOriginAllowed(req('localhost:3000', 'http://localhost:4000'), [], hosts), false);
  });
});
