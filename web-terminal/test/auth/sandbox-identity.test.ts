// The user's identity reaches the runtime only as the keyed hash: no user id, email, name or token.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { startTestService } from '../helpers/service.ts';
import { as, bearer, jwtEnv, mintToken, recordingRuntime } from './helpers.ts';

const COURSES_DIR = fileURLToPath(new URL('../../../courses', import.meta.url));

describe('what a sandbox learns about its user', () => {
  it('gets the stable hash, never the user id, email, display name or token', async () => {
    const { runtime, specs } = recordingRuntime();
    const service = await startTestService(jwtEnv({ COURSES_DIR }), { runtime });
    try {
      const userId = 'user-7f3a9c-alice';
      const token = await mintToken(userId, { email: 'alice@example.org', name: 'Alice Example', roles: ['admin'] });
      const alice = as(service, bearer(token));
      assert.equal((await alice('POST', '/api/sessions', {})).status, 201);
      assert.equal((await alice('POST', '/api/sessions', { courseId: 'attention-is-all-you-need' })).status, 201);
      assert.equal(specs.length, 2);

      const listed = (await alice('GET', '/api/admin/sessions')).body.sessions as Array<{ userHash: string }>;
      for (const spec of specs) {
        assert.match(spec.userHash, /^[0-9a-f]{32}$/);
        assert.ok(listed.some((row) => row.userHash === spec.userHash));
        const everything = JSON.stringify(spec);
        for (const secret of [userId, 'alice@example.org', 'Alice Example', token, token.split('.')[1]!, token.split('.')[2]!]) {
          assert.equal(everything.includes(secret), false, `spec must not contain ${secret.slice(0, 20)}`);
        }
        for (const [name, value] of Object.entries(spec.env)) {
          assert.doesNotMatch(`${name}=${value}`, /alice|7f3a9c|eyJ/i);
        }
      }
      assert.equal(specs[0]!.userHash, specs[1]!.userHash, 'stable for one user');
    } finally {
      await service.close();
    }
  });
});
