// prestart/predev/pretest on any host: the platform decision (pure), and what the scripts do on
// macOS, a non-Debian Linux and Debian, with uname, id and apt-get stubbed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './render.ts';

const hostLib = join(repoRoot, 'scripts', 'lib', 'host.sh');

function hostPlatform(unameS: string, osRelease: string): string {
  const run = spawnSync('bash', ['-c', `. "${hostLib}"; host_platform "$1" "$2"`, 'host', unameS, osRelease], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

test('host_platform: Debian and its derivatives use apt; other Linux does not; macOS and the rest have no local sandboxes', () => {
  const cases: [string, string, string][] = [
    ['Linux', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n', 'debian'],
    ['Linux', 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', 'debian'],
    ['Linux', 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n', 'debian'],
    ['Linux', 'NAME="Fedora Linux"\nID=fedora\n', 'linux'],
    ['Linux', 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n', 'linux'],
    ['Linux', 'NAME="Alpine Linux"\nID=alpine\n', 'linux'],
    ['Linux', 'ID=debianish\n', 'linux'],
    ['Linux', '', 'linux'],
    ['Darwin', '', 'macos'],
    ['Darwin', 'ID=debian\n', 'macos'],
    ['FreeBSD', '', 'other'],
    ['MINGW64_NT-10.0-19045', '', 'other'],
  ];
  for (const [uname, osRelease, expected] of cases) assert.equal(hostPlatform(uname, osRelease), expected, `${uname} ${JSON.stringify(osRelease)}`);
});

interface Host { uname: string; osRelease: string; root: boolean; has?: string[]; apt?: boolean; env?: Record<string, string> }
interface Run { status: number | null; stdout: string; stderr: string; aptCalls: string }

/** Runs one of the ensure-*.sh scripts on a stubbed host: only the named commands exist. */
function runOn(scriptName: string, host: Host): Run {
  const dir = mkdtempSync(join(tmpdir(), 'host-platform-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    for (const tool of ['bash', 'cat', 'dirname']) {
      const real = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      spawnSync('ln', ['-s', real, join(bin, tool)]);
    }
    stub('uname', `echo ${host.uname}`);
    stub('id', `[ "$1" = -u ] && echo ${host.root ? 0 : 1000}`);
    if (host.apt) stub('apt-get', `echo "$*" >>"${join(dir, 'apt-calls')}"`);
    for (const cmd of host.has ?? []) stub(cmd, 'exit 0');
    writeFileSync(join(dir, 'os-release'), host.osRelease);
    const run = spawnSync('bash', [join(repoRoot, 'scripts', scriptName)], {
      encoding: 'utf8', timeout: 30_000, env: { PATH: bin, OS_RELEASE_FILE: join(dir, 'os-release'), ...host.env },
    });
    const aptCalls = existsSync(join(dir, 'apt-calls')) ? readFileSync(join(dir, 'apt-calls'), 'utf8') : '';
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, aptCalls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const debian = 'ID=debian\n';
const fedora = 'ID=fedora\n';
const allTestTools = ['bwrap', 'chromium', 'shellcheck', 'tmux', 'kubectl', 'dtach', 'openssl'];

test('prestart on macOS says local sandboxes need Linux and how to use the Kubernetes runtime, and starts anyway', () => {
  const run = runOn('ensure-runtime-deps.sh', { uname: 'Darwin', osRelease: '', root: false, apt: true });
  assert.equal(run.status, 0);
  assert.match(run.stderr, /Local sandboxes need Linux with bubblewrap/);
  assert.match(run.stderr, /RUNTIME=kubernetes KUBECONFIG=/);
  assert.equal(run.aptCalls, '', 'never apt off Debian');
});

test('prestart never tries apt off Debian, even as root with an apt-get on PATH', () => {
  const run = runOn('ensure-runtime-deps.sh', { uname: 'Linux', osRelease: fedora, root: true, apt: true });
  assert.equal(run.status, 0);
  assert.equal(run.aptCalls, '');
  assert.match(run.stderr, /bubblewrap is not installed.*dnf/);
});

test('prestart on Debian as root installs bubblewrap; as a user it says the command', () => {
  const root = runOn('ensure-runtime-deps.sh', { uname: 'Linux', osRelease: debian, root: true, apt: true });
  assert.equal(root.status, 0);
  assert.match(root.aptCalls, /install -y -qq --no-install-recommends bubblewrap/);
  const user = runOn('ensure-runtime-deps.sh', { uname: 'Linux', osRelease: debian, root: false, apt: true });
  assert.equal(user.aptCalls, '');
  assert.match(user.stderr, /sudo apt-get install bubblewrap/);
});

test('prestart is silent when bubblewrap is there or the Kubernetes runtime is chosen', () => {
  for (const host of [
    { uname: 'Linux', osRelease: debian, root: true, apt: true, has: ['bwrap'] },
    { uname: 'Darwin', osRelease: '', root: false, env: { RUNTIME: 'kubernetes' } },
  ]) {
    const run = runOn('ensure-runtime-deps.sh', host);
    assert.equal(run.status, 0);
    assert.equal(run.stdout + run.stderr, '');
    assert.equal(run.aptCalls, '');
  }
});

test('pretest on macOS fails plainly, naming what runs there', () => {
  const run = runOn('ensure-test-deps.sh', { uname: 'Darwin', osRelease: '', root: false, apt: true });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /npm test runs on Linux only/);
  assert.match(run.stderr, /npm run lint/);
  assert.match(run.stderr, /run-tests\.mjs api-proxy\//);
  assert.equal(run.aptCalls, '');
});

test('pretest names missing packages off Debian without apt, and installs them on Debian as root', () => {
  const has = allTestTools.filter((t) => t !== 'dtach' && t !== 'tmux');
  const fedoraRun = runOn('ensure-test-deps.sh', { uname: 'Linux', osRelease: fedora, root: true, apt: true, has });
  assert.equal(fedoraRun.status, 1);
  assert.match(fedoraRun.stderr, /missing system packages: .*dtach/);
  assert.match(fedoraRun.stderr, /not Debian\/Ubuntu/);
  assert.equal(fedoraRun.aptCalls, '');
  const debianRun = runOn('ensure-test-deps.sh', { uname: 'Linux', osRelease: debian, root: true, apt: true, has });
  assert.equal(debianRun.status, 0, debianRun.stderr);
  assert.match(debianRun.aptCalls, /install .*(tmux.*dtach|dtach.*tmux)/);
  const ready = runOn('ensure-test-deps.sh', { uname: 'Linux', osRelease: fedora, root: false, has: allTestTools });
  assert.equal(ready.status, 0, ready.stderr);
});
