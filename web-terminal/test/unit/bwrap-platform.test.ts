// Off Linux the local runtime says plainly why it refuses sessions, instead of "bwrap not found".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBwrap, platformProblem } from '../../src/runtime/local/bwrap-check.ts';

test('only Linux can have local sandboxes; other hosts are pointed at the Kubernetes runtime', async () => {
  assert.equal(platformProblem('linux'), null);
  for (const platform of ['darwin', 'win32', 'freebsd'] as const) {
    assert.match(platformProblem(platform)!, new RegExp(`need Linux with bubblewrap, and this host is ${platform}: use the Kubernetes runtime \\(RUNTIME=kubernetes`));
  }
  const mac = await checkBwrap({ platform: 'darwin' });
  assert.deepEqual(mac, { available: false, path: null, problem: platformProblem('darwin') });
});
