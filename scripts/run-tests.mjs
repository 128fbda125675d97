#!/usr/bin/env node
// Runs every test file of the project with Node's own test runner (TypeScript through tsx).
// `--cluster` runs the opt-in suite against a real cluster instead (needs KUBECONFIG).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cluster = process.argv.includes('--cluster');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const testRoots = ['api-proxy/test', 'web-terminal/test', 'test'];

function findTests(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fakes') return [];
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

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
