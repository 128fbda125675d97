// `npm run dev`, as a developer types it (at the root, and in web-terminal/ as the original README
// does): the real service from the repository root, restarted when a source file changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

interface Dev { child: ChildProcess; output(): string; exited: Promise<unknown> }

function startDev(cwd: string): Dev {
  const child = spawn('npm', ['run', '--silent', 'dev'], {
    cwd,
    detached: true, // its own process group: npm, the watcher and the service stop together
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, output: () => out, exited };
}

async function stopDev(dev: Dev): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => { try { process.kill(-dev.child.pid!, signal); } catch { /* gone */ } };
  signalGroup('SIGTERM');
  const killed = setTimeout(() => signalGroup('SIGKILL'), 25_000);
  await dev.exited;
  clearTimeout(killed);
  signalGroup('SIGKILL'); // nothing of the group may outlive the test
}

/** The n-th "ready at URL" line (1-based), waited for with a deadline. */
async function nthReadyUrl(dev: Dev, n: number, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const urls = [...dev.output().matchAll(/web-terminal ready at (http:\/\/\S+)/g)].map((m) => m[1]!);
    if (urls.length >= n) return urls[n - 1]!;
    if (Date.now() > deadline) throw new Error(`no start #${n} within ${timeoutMs} ms; output:\n${dev.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Marks a file as changed without changing its content. */
function touch(path: string): void {
  const now = new Date(Math.max(Date.now(), statSync(path).mtimeMs + 1000));
  utimesSync(path, now, now);
}

test('npm run dev serves from the repository root and restarts on changes in web-terminal/src and api-proxy/src', { timeout: 240_000 }, async () => {
  const dev = startDev(root);
  try {
    const first = await nthReadyUrl(dev, 1);
    assert.equal((await fetch(`${first}/healthz`)).status, 200);
    const courses = await (await fetch(`${first}/api/courses`)).text();
    assert.match(courses, /attention-is-all-you-need/, 'COURSES_DIR resolved from the repository root');

    touch(join(root, 'web-terminal/src/main.ts'));
    const second = await nthReadyUrl(dev, 2);
    assert.match(dev.output(), /\[dev\] web-terminal\/src\/main\.ts changed: restarting/);
    assert.notEqual(second, first, 'a new process on a new port');
    assert.equal((await fetch(`${second}/healthz`)).status, 200);
    await assert.rejects(fetch(`${first}/healthz`), 'the previous process is gone');

    touch(join(root, 'api-proxy/src/main.ts'));
    const third = await nthReadyUrl(dev, 3);
    assert.equal((await fetch(`${third}/healthz`)).status, 200);

    // Readable logs: pino's JSON lines come out as "hh:mm:ss LEVEL message key=value".
    assert.match(dev.output(), /^\d\d:\d\d:\d\d INFO {2}/m);
    assert.doesNotMatch(dev.output(), /^\{"level":/m);
  } finally {
    await stopDev(dev);
  }
});

test('npm run dev in web-terminal/ (the original README) runs the same service from the repository root', { timeout: 120_000 }, async () => {
  const dev = startDev(join(root, 'web-terminal'));
  try {
    const url = await nthReadyUrl(dev, 1);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.match(await (await fetch(`${url}/api/courses`)).text(), /attention-is-all-you-need/);
  } finally {
    await stopDev(dev);
  }
});
