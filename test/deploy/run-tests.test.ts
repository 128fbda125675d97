// scripts/run-tests.mjs cannot hang: a per-test limit, files that exit once their tests are done,
// and a guard on the whole run. Proven on fixture files the suite itself never runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './render.ts';

interface Run { status: number | null; output: string; ms: number }

/** Runs the runner on one fixture; the fixture never runs in the normal suite ('fixtures' is skipped). */
function runRunner(filter: string, env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const outer = { ...process.env };
  delete outer.NODE_TEST_CONTEXT; // set by the runner running this file; the inner runner must not see it
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/run-tests.mjs'), filter], {
    cwd: repoRoot,
    env: { ...outer, TEST_ROOTS: 'test/deploy/fixtures/run-tests', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  return new Promise((resolve, reject) => {
    // Far above what the runner needs: only a broken runner trips it, and then it is killed.
    const limit = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the runner itself hung:\n${output}`)); }, 90_000);
    child.on('exit', (status) => { clearTimeout(limit); resolve({ status, output, ms: Date.now() - started }); });
  });
}

test('a test that never finishes fails at TEST_TIMEOUT_SECONDS', { timeout: 120_000 }, async () => {
  const run = await runRunner('never-ends', { TEST_TIMEOUT_SECONDS: '2' });
  assert.notEqual(run.status, 0, run.output);
  assert.match(run.output, /timed out after 2000ms/, run.output);
});

test('a file whose tests pass but leaves a server open still ends, and passes', { timeout: 120_000 }, async () => {
  const run = await runRunner('leaves-server-open', { TEST_TIMEOUT_SECONDS: '30' });
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /# pass 1/, run.output);
});

test('a run that hangs outside any test is stopped at TEST_RUN_TIMEOUT_MINUTES with status 124', { timeout: 120_000 }, async () => {
  const run = await runRunner('hangs-at-load', { TEST_RUN_TIMEOUT_MINUTES: '0.05' });
  assert.equal(run.status, 124, run.output);
  assert.match(run.output, /stopped after 0\.05 minutes/, run.output);
});

test('the runner refuses a nonsensical limit', { timeout: 60_000 }, async () => {
  const run = await runRunner('never-ends', { TEST_TIMEOUT_SECONDS: 'soon' });
  assert.equal(run.status, 2);
  assert.match(run.output, /TEST_TIMEOUT_SECONDS must be a positive number/);
});
