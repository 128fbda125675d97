// The standalone server: starts from env, serves the surface, refuses CONNECT, stops on SIGTERM;
// a bad config stops it at once with one line naming the variable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { rawRequest, request, statusOf } from './helpers.ts';
import { freePort, MAIN, MAIN_SECRET as SECRET, startMain } from './main-process.ts';

test('a bad config exits with code 2 and one line naming the variable', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH, PROXY_SHARED_SECRET: SECRET, MAX_BODY_BYTES: 'lots' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 2);
  assert.match(run.stderr.trim(), /^invalid api-proxy config: MAX_BODY_BYTES: [^\n]+$/);
});

test('serves, refuses CONNECT, and stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const { child, exited } = await startMain({ PORT: String(port) });
  try {
    const url = `http://127.0.0.1:${port}`;
    assert.equal((await request(url, { method: 'GET', path: '/healthz' })).status, 200);
    assert.equal((await request(url, { method: 'GET', path: '/readyz' })).status, 503); // no real key
    assert.equal((await request(url, { method: 'HEAD', path: '/' })).status, 200);
    assert.equal(statusOf(await rawRequest(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')), 405);
    assert.match((await request(url, { method: 'GET', path: '/metrics' })).text, /process_cpu_user_seconds_total/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('with METRICS_PORT, /metrics leaves the API port (which sandboxes can call) for its own port', async () => {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const { child } = await startMain({ PORT: String(port), METRICS_PORT: String(metricsPort) });
  try {
    const api = `http://127.0.0.1:${port}`;
    const ops = `http://127.0.0.1:${metricsPort}`;
    assert.equal((await request(api, { method: 'GET', path: '/metrics' })).status, 404);
    assert.match((await request(ops, { method: 'GET', path: '/metrics' })).text, /process_cpu_user_seconds_total/);
    assert.equal((await request(ops, { method: 'GET', path: '/healthz' })).status, 200);
    assert.equal((await request(ops, { method: 'POST', path: '/v1/messages' })).status, 404, 'the metrics port serves no API');
  } finally {
    child.kill('SIGKILL');
  }
});
