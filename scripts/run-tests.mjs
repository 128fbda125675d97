#!/usr/bin/env node
// Runs every test file of the project with Node's own test runner (TypeScript through tsx).
// `--cluster` runs the opt-in suite against a real cluster instead (needs KUBECONFIG).
// It cannot hang: every test has a time limit (TEST_TIMEOUT_SECONDS, default 300), a file whose
// tests are done exits even if something it started is still open, and the whole run is stopped
// after TEST_RUN_TIMEOUT_MINUTES (default 60).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cluster = process.argv.includes('--cluster');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
// TEST_ROOTS (comma-separated, relative to the repository) exists for the runner's own tests.
const testRoots = process.env.TEST_ROOTS ? process.env.TEST_ROOTS.split(',') : ['api-proxy/test', 'web-terminal/test', 'test'];

function findTests(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fakes' || name === 'fixtures') return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const all = testRoots.flatMap((dir) => findTests(join(root, dir))).sort();
const isClusterTest = (f) => f.endsWith('.cluster.test.ts');
let files = all.filter((f) => isClusterTest(f) === cluster);
if (filters.length) files = files.filter((f) => filters.some((x) => relative(root, f).includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// The whole suite starts with the static checks: a lint or type error fails it like a failing test.
if (!cluster && filters.length === 0) {
  const lint = spawnSync('npm', ['run', '--silent', 'lint'], { cwd: root, stdio: 'inherit' });
  if (lint.status !== 0) {
    console.error('lint or type-check failed (npm run lint)');
    process.exit(lint.status ?? 1);
  }
}

function positiveNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return value;
}
const testTimeoutMs = Math.round(positiveNumber('TEST_TIMEOUT_SECONDS', 300) * 1000);
const runTimeoutMs = Math.round(positiveNumber('TEST_RUN_TIMEOUT_MINUTES', 60) * 60_000);

// Its own process group, so that the guard below can stop the runner and every file it started.
const child = spawn(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${testTimeoutMs}`, '--test-force-exit',
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit', detached: true, env: { ...process.env, NODE_ENV: 'test' } },
);

const killGroup = (signal) => {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
};
let guardFired = false;
const guard = setTimeout(() => {
  guardFired = true;
  console.error(`test run: stopped after ${runTimeoutMs / 60_000} minutes (TEST_RUN_TIMEOUT_MINUTES); something hangs`);
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
}, runTimeoutMs);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killGroup(signal);
    setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
  });
}
child.on('exit', (code, signal) => {
  clearTimeout(guard);
  killGroup('SIGKILL'); // anything a test file left behind in the group
  if (guardFired) process.exit(124);
  process.exit(code ?? (signal ? 1 : 0));
});
