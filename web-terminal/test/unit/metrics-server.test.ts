// Metrics are not on the public port: off unless METRICS_PORT is set, then on their own listener only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestService } from '../helpers/service.ts';
import { recordingRuntime } from '../auth/helpers.ts';

describe('metrics listener', () => {
  it('serves no metrics at all by default, on any path of the public port', async () => {
    const service = await startTestService({}, { runtime: recordingRuntime().runtime });
    try {
      assert.equal(service.metricsUrl, null);
      const res = await fetch(`${service.url}/metrics`);
      assert.equal(res.status, 404);
      assert.doesNotMatch(await res.text(), /webterminal_/);
    } finally {
      await service.close();
    }
  });

  it('serves GET /metrics alone on METRICS_PORT, and is closed with the service', async () => {
    const service = await startTestService({ METRICS_PORT: '0' }, { runtime: recordingRuntime().runtime });
    let closed = false;
    try {
      const url = service.metricsUrl!;
      const metrics = await fetch(url);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /webterminal_active_sessions/);
      assert.equal((await fetch(url.replace('/metrics', '/api/sessions'))).status, 404);
      assert.equal((await fetch(url, { method: 'POST' })).status, 404);
      await service.close();
      closed = true;
      await assert.rejects(fetch(url), 'the metrics listener stopped with the service');
    } finally {
      if (!closed) await service.close();
    }
  });
});
