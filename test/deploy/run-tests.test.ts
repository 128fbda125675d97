// scripts/run-tests.mjs cannot hang and cannot lose a result: a limit per file, files that exit once their
// tests are done, a guard on the whole run, and a file passes only once it reported its totals. Proven on
// fixture files the suite itself never runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './render.ts';

interface Run { status: number | null; output: string; ms: number }

/** Runs the runner on one fixture; the fixture never runs in the normal suite ('fixtures' is skipped). */
function runRunner(filter: string, env: Record<string, string>, roots = 'test/deploy/fixtures/run-tests'): Promise<Run> {
  const started = Date.now();
  const outer = { ...process.env };
  delete outer.NODE_TEST_CONTEXT; // set by the runner running this file; the inner runner must not see it
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/run-tests.mjs'), filter], {
    cwd: repoRoot,
    env: { ...outer, TEST_ROOTS: roots, ...env },
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

test('a file whose test never finishes fails at TEST_TIMEOUT_SECONDS, and the run goes on', { timeout: 120_000 }, async () => {
  const run = await runRunner('never-ends', { TEST_TIMEOUT_SECONDS: '2' });
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /FAILED test\/deploy\/fixtures\/run-tests\/never-ends\.test\.ts: timed out after 2 s/, run.output);
  assert.ok(run.ms < 60_000, `stopped at its limit, not later (${run.ms} ms)`);
});

test('a file that ends before reporting all its results fails the run', { timeout: 120_000 }, async () => {
  const run = await runRunner('exits-mid-run', { TEST_TIMEOUT_SECONDS: '30' });
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /FAILED test\/deploy\/fixtures\/run-tests\/exits-mid-run\.test\.ts: ended \(exit code 0\) without reporting its totals/, run.output);
});

test('every result of many short files is counted', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-tests-many-'));
  try {
    const files = 24;
    const perFile = 40;
    mkdirSync(join(dir, 'many'));
    for (let f = 0; f < files; f++) {
      const lines = ["import { test } from 'node:test';"];
      for (let t = 0; t < perFile; t++) lines.push(`test('file ${f} test ${t}, with a name long enough to fill a frame', () => {});`);
      writeFileSync(join(dir, 'many', `f${f}.test.ts`), lines.join('\n'));
    }
    const run = await runRunner('', {}, dir);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, new RegExp(`^# tests ${files * perFile}$`, 'm'), run.output.slice(-2000));
    assert.match(run.output, new RegExp(`^# pass ${files * perFile}$`, 'm'));
    assert.match(run.output, new RegExp(`^# files ${files}$`, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
