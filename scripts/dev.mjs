#!/usr/bin/env node
// `npm run dev`: the service exactly as `npm start` runs it (same command, environment and working
// directory: the repository root, so COURSES_DIR and DB_PATH resolve the same), restarted when a
// file under web-terminal/src or api-proxy/src changes, with readable logs (DEV_LOG_FORMAT=json
// keeps pino's JSON lines).
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from './dev-log.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const watched = ['web-terminal/src', 'api-proxy/src'];
const SOURCE = /\.(ts|mts|js|mjs|json)$/;
const STOP_GRACE_MS = 20_000; // main.ts itself gives up after 20 s; after that, SIGKILL
const pretty = process.env.DEV_LOG_FORMAT !== 'json';

const say = (text) => process.stderr.write(`[dev] ${text}\n`);

function pipeLines(stream, out) {
  if (!pretty) return stream.pipe(out, { end: false });
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${formatLogLine(line)}\n`));
}

let child = null;
let stopping = false;

function start() {
  child = spawn(process.execPath, ['--import', 'tsx', 'web-terminal/src/main.ts'], {
    cwd: root,
    env: { MALLOC_ARENA_MAX: '2', ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  say(`started the service (pid ${child.pid})`);
  pipeLines(child.stdout, process.stdout);
  pipeLines(child.stderr, process.stderr);
  const self = child;
  self.exited = new Promise((resolve) => self.once('exit', (code, signal) => resolve({ code, signal })));
  void self.exited.then(({ code, signal }) => {
    if (child === self && !stopping) say(`the service exited (${signal ?? `code ${code}`}); waiting for a change to restart it`);
    if (child === self) child = null;
  });
}

/** SIGTERM (the service closes its sessions cleanly), SIGKILL if it is still there after the grace. */
async function stopChild() {
  const current = child;
  if (!current) return;
  current.kill('SIGTERM');
  const timer = setTimeout(() => current.kill('SIGKILL'), STOP_GRACE_MS);
  await current.exited;
  clearTimeout(timer);
}

let pending = null;
let restarting = Promise.resolve();
function changed(path) {
  if (stopping) return;
  clearTimeout(pending);
  // Editors write a file in several steps: one restart per burst.
  pending = setTimeout(() => {
    restarting = restarting.then(async () => {
      say(`${path} changed: restarting`);
      await stopChild();
      if (!stopping) start();
    });
  }, 150);
}

for (const dir of watched) {
  watch(join(root, dir), { recursive: true }, (_event, name) => {
    if (name && SOURCE.test(name)) changed(relative(root, join(root, dir, name)));
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(pending);
    void restarting.then(stopChild).then(() => process.exit(0));
  });
}

say(`watching ${watched.join(' and ')} for changes (Ctrl-C stops)`);
start();
