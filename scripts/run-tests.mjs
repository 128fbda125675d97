#!/usr/bin/env node
// Runs every test file of the project with Node's own test runner (TypeScript through tsx).
// `--cluster` runs the opt-in suite against a real cluster instead (needs KUBECONFIG).
//
// It cannot hang, and it cannot lose a result:
// - each file runs in its own process (two at a time), which exits once its tests are done even if
//   something it started is still open (`--test-force-exit`);
// - each file has a time limit (TEST_TIMEOUT_SECONDS, default 300): past it, the file and every process
//   it started are stopped and the file fails;
// - the whole run is stopped after TEST_RUN_TIMEOUT_MINUTES (default 60), with status 124;
// - a file counts as passed only when it exits 0 after printing its own totals. (`node --test` with
//   several files and --test-force-exit can drop the last results of a file on their way to the parent
//   and still exit 0, nodejs/node#64833; here each file reports straight to this script.)
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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

const all = testRoots.flatMap((dir) => findTests(resolve(root, dir))).sort();
const isClusterTest = (f) => f.endsWith('.cluster.test.ts');
let files = all.filter((f) => isClusterTest(f) === cluster);
if (filters.length) files = files.filter((f) => filters.some((x) => relative(root, f).includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
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
// A real cluster pulls images and schedules pods: its files get longer (their own tests allow 10 minutes).
const fileTimeoutMs = Math.round(positiveNumber('TEST_TIMEOUT_SECONDS', cluster ? 1800 : 300) * 1000);
const runTimeoutMs = Math.round(positiveNumber('TEST_RUN_TIMEOUT_MINUTES', 60) * 60_000);
const concurrency = Math.round(positiveNumber('TEST_CONCURRENCY', 2));

// The whole suite starts with the static checks: a lint or type error fails it like a failing test.
if (!cluster && filters.length === 0) {
  const lint = spawnSync('npm', ['run', '--silent', 'lint'], { cwd: root, stdio: 'inherit' });
  if (lint.status !== 0) {
    console.error('lint or type-check failed (npm run lint)');
    process.exit(lint.status ?? 1);
  }
}

const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];
/** A file's output is printed when it ends; past this much, only its end is kept (its totals are there). */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** The totals a file's TAP output ends with, or null when it never printed them. */
function parseTotals(output) {
  const totals = {};
  for (const name of COUNTS) {
    const all = [...output.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))];
    if (all.length === 0) return null;
    totals[name] = Number(all.at(-1)[1]);
  }
  return totals;
}

const running = new Set();
const killGroup = (child, signal) => {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
};
const stopAll = (signal) => {
  for (const child of running) killGroup(child, signal);
  setTimeout(() => { for (const child of running) killGroup(child, 'SIGKILL'); }, 10_000).unref();
};

/** Runs one file in its own process group; resolves with what it printed and how it ended. */
function runFile(file) {
  return new Promise((done) => {
    const started = Date.now();
    const env = { ...process.env, NODE_ENV: 'test' };
    delete env.NODE_TEST_CONTEXT; // the file reports to this script as TAP, not to a `node --test` parent
    const child = spawn(process.execPath, ['--import', 'tsx', '--test-force-exit', '--test-reporter=tap', relative(root, file)], {
      cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    running.add(child);
    let chunks = [];
    let bytes = 0;
    let truncated = false;
    const keep = (chunk) => {
      chunks.push(chunk);
      bytes += chunk.length;
      while (bytes > MAX_OUTPUT_BYTES && chunks.length > 1) {
        bytes -= chunks.shift().length;
        truncated = true;
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 5_000).unref();
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      running.delete(child);
      killGroup(child, 'SIGKILL'); // anything the file left behind in its group
      const output = (truncated ? '# (earlier output of this file left out)\n' : '') + Buffer.concat(chunks).toString('utf8');
      chunks = [];
      done({ file, code, signal, timedOut, output, ms: Date.now() - started });
    });
  });
}

/** Why a finished file counts as failed, or null when it passed. */
function failureOf(result, totals) {
  if (result.timedOut) return `timed out after ${fileTimeoutMs / 1000} s (TEST_TIMEOUT_SECONDS): the file and its processes were stopped`;
  if (!totals) return `ended (${result.signal ?? `exit code ${result.code}`}) without reporting its totals: its results may be lost`;
  if (totals.fail > 0 || totals.cancelled > 0) return `${totals.fail} failed, ${totals.cancelled} cancelled`;
  if (result.code !== 0) return `exit code ${result.code ?? result.signal} after reporting no failure`;
  return null;
}

/** Set when the run is stopped (its time limit, or a signal): no new file starts, and this is the exit status. */
let stoppedWith = null;
const stop = (status, signal) => {
  stoppedWith = status;
  queue.length = 0;
  stopAll(signal);
};
const guard = setTimeout(() => {
  console.error(`test run: stopped after ${runTimeoutMs / 60_000} minutes (TEST_RUN_TIMEOUT_MINUTES); something hangs`);
  stop(124, 'SIGTERM');
}, runTimeoutMs);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(130, signal));

const sum = Object.fromEntries(COUNTS.map((name) => [name, 0]));
const failed = [];
const queue = [...files];
const runStarted = Date.now();
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const result = await runFile(file);
    const totals = parseTotals(result.output);
    const failure = failureOf(result, totals);
    if (totals) for (const name of COUNTS) sum[name] += totals[name];
    if (failure) failed.push({ file: relative(root, file), failure });
    process.stdout.write(`# file: ${relative(root, file)} (${(result.ms / 1000).toFixed(1)} s)\n${result.output}`);
    if (failure) process.stdout.write(`# FAILED ${relative(root, file)}: ${failure}\n`);
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
clearTimeout(guard);

console.log(`\n# files ${files.length}`);
for (const name of COUNTS) console.log(`# ${name} ${sum[name]}`);
console.log(`# duration_ms ${Date.now() - runStarted}`);
for (const { file, failure } of failed) console.log(`# FAILED ${file}: ${failure}`);
if (stoppedWith !== null) process.exit(stoppedWith);
process.exit(failed.length > 0 ? 1 : 0);
