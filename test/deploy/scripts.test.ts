import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './render.ts';

const scriptsDir = join(repoRoot, 'scripts');

function findShellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findShellScripts(path);
    return name.endsWith('.sh') ? [path] : [];
  });
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-scripts-'));
  try { return fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

function writeExecutable(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  chmodSync(path, 0o755);
}

test('shellcheck passes on every script in scripts/', () => {
  const scripts = findShellScripts(scriptsDir);
  for (const expected of ['build-images.sh', 'setup-kubeconfig.sh', 'verify-node.sh']) {
    assert.ok(scripts.some((s) => s.endsWith(`/${expected}`)), `scripts/${expected} is missing`);
  }
  const result = spawnSync('shellcheck', ['-x', '--severity=style', ...scripts], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('my scripts are strict and executable', () => {
  for (const name of ['build-images.sh', 'setup-kubeconfig.sh', 'verify-node.sh']) {
    const path = join(scriptsDir, name);
    assert.match(readFileSync(path, 'utf8'), /^#!\/usr\/bin\/env bash\n[\s\S]*?^set -euo pipefail$/m, name);
    assert.ok(statSync(path).mode & 0o111, `${name} is not executable`);
  }
});

// ---- setup-kubeconfig.sh ---------------------------------------------------------------------

const k3sKubeconfig = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;

test('setup-kubeconfig.sh points the k3s kubeconfig at the server and renames its entries', () => withTempDir((dir) => {
  writeFileSync(join(dir, 'k3s.yaml'), k3sKubeconfig);
  const output = join(dir, 'kube', 'claudecode.yaml');
  const run = spawnSync(join(scriptsDir, 'setup-kubeconfig.sh'), ['--host', 'k3s.example.internal', '--from-file', join(dir, 'k3s.yaml'), '--output', output], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(statSync(output).mode & 0o777, 0o600);
  const config = parse(readFileSync(output, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(config['current-context'], 'claudecode');
  assert.deepEqual(config.clusters, [{ cluster: { 'certificate-authority-data': 'Q0E=', server: 'https://k3s.example.internal:6443' }, name: 'claudecode' }]);
  assert.deepEqual(config.contexts, [{ context: { cluster: 'claudecode', user: 'claudecode' }, name: 'claudecode' }]);
  assert.equal(config.users[0].name, 'claudecode');
  assert.equal(config.users[0].user['client-key-data'], 'S0VZ');

  const again = spawnSync(join(scriptsDir, 'setup-kubeconfig.sh'), ['--host', '10.0.0.5', '--from-file', join(dir, 'k3s.yaml'), '--output', output], { encoding: 'utf8' });
  assert.notEqual(again.status, 0, 'an existing file is not replaced without --force');
  assert.match(again.stderr, /--force/);
}));

test('setup-kubeconfig.sh refuses input that is not a kubeconfig and a host with odd characters', () => withTempDir((dir) => {
  writeFileSync(join(dir, 'bad.yaml'), 'hello: world\n');
  const bad = spawnSync(join(scriptsDir, 'setup-kubeconfig.sh'), ['--host', 'h', '--from-file', join(dir, 'bad.yaml'), '--output', join(dir, 'o')], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  const odd = spawnSync(join(scriptsDir, 'setup-kubeconfig.sh'), ['--host', 'h;rm -rf /', '--from-file', join(dir, 'bad.yaml'), '--output', join(dir, 'o')], { encoding: 'utf8' });
  assert.notEqual(odd.status, 0);
  assert.match(odd.stderr, /invalid host/);
}));

interface SshRun { status: number | null; stdout: string; stderr: string; sshArgs: string; dirAfter: string[] }

/** Runs setup-kubeconfig.sh over a stubbed ssh (the real kubectl checks the result). */
function runSetupOverSsh(dir: string, sshBody: string, extraArgs: string[] = []): SshRun {
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin, join(dir, 'kube')]);
  writeExecutable(join(bin, 'ssh'), `printf '%s\\n' "$*" >>"${join(dir, 'ssh-args')}"\n${sshBody}`);
  const output = join(dir, 'kube', 'claudecode.yaml');
  const run = spawnSync(join(scriptsDir, 'setup-kubeconfig.sh'), ['--host', '192.168.1.10', '--ssh-user', 'admin', '--output', output, ...extraArgs], {
    encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  let sshArgs = '';
  try { sshArgs = readFileSync(join(dir, 'ssh-args'), 'utf8'); } catch { /* ssh never ran */ }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, sshArgs, dirAfter: readdirSync(join(dir, 'kube')).sort() };
}

test('setup-kubeconfig.sh reads over ssh without a terminal, with sudo -n, and writes a checked kubeconfig', () => withTempDir((dir) => {
  writeFileSync(join(dir, 'k3s.yaml'), k3sKubeconfig.replace(/\n/g, '\r\n'));
  const run = runSetupOverSsh(dir, `cat '${join(dir, 'k3s.yaml')}'`);
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.sshArgs, /(^|\s)-t(\s|$)/, 'no terminal: a prompt would land in the file');
  assert.match(run.sshArgs, /admin@192\.168\.1\.10 sudo -n cat \/etc\/rancher\/k3s\/k3s\.yaml/);
  assert.deepEqual(run.dirAfter, ['claudecode.yaml'], 'no temp file left beside it');
  const output = join(dir, 'kube', 'claudecode.yaml');
  assert.equal(statSync(output).mode & 0o777, 0o600);
  const view = spawnSync('kubectl', ['config', 'view', '--kubeconfig', output, '-o', 'jsonpath={.current-context} {.clusters[0].cluster.server}'], { encoding: 'utf8' });
  assert.equal(view.stdout, 'claudecode https://192.168.1.10:6443', view.stderr);
}));

test('setup-kubeconfig.sh says what to do when sudo wants a password, and writes nothing', () => withTempDir((dir) => {
  const run = runSetupOverSsh(dir, 'echo "sudo: a password is required" >&2; exit 1');
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /sudo on 192\.168\.1\.10 wants a password/);
  assert.match(run.stderr, /--from-file/);
  assert.match(run.stderr, /NOPASSWD/);
  assert.deepEqual(run.dirAfter, [], 'nothing written, not even a temp file');
  assert.doesNotMatch(run.stdout, /wrote/);
}));

test('setup-kubeconfig.sh never replaces a good kubeconfig with a prompt or a truncated file', () => withTempDir((dir) => {
  spawnSync('mkdir', ['-p', join(dir, 'kube')]);
  const output = join(dir, 'kube', 'claudecode.yaml');
  writeFileSync(output, 'the previous, working kubeconfig\n');
  for (const body of [
    "printf '[sudo] password for admin: '",
    `head -c 200 <<'EOF'\n${k3sKubeconfig}EOF`,
    "echo 'Last login: Mon Nov 30 from 10.0.0.2'",
  ]) {
    const run = runSetupOverSsh(dir, body, ['--force']);
    assert.notEqual(run.status, 0, `${body}: ${run.stdout}`);
    assert.match(run.stderr, /nothing written/, run.stderr);
    assert.deepEqual(run.dirAfter, ['claudecode.yaml']);
    assert.equal(readFileSync(output, 'utf8'), 'the previous, working kubeconfig\n');
  }
}));

// ---- build-images.sh ---------------------------------------------------------------------------

test('build-images.sh builds from the repository root and imports into k3s containerd', () => {
  const run = spawnSync(join(scriptsDir, 'build-images.sh'), ['--dry-run', '--tag', '1.2.3', '--only', 'web-terminal'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes(`+ docker build --file ${repoRoot.replace(/\/$/, '')}/docker/web-terminal/Dockerfile --tag claudecode/web-terminal:1.2.3 ${repoRoot.replace(/\/$/, '')}`), run.stdout);
  assert.ok(run.stdout.includes('+ docker save claudecode/web-terminal:1.2.3 | sudo k3s ctr images import -') || run.stdout.includes('| k3s ctr images import -'), run.stdout);
});

test('build-images.sh refuses the latest tag and unknown images', () => {
  const latest = spawnSync(join(scriptsDir, 'build-images.sh'), ['--dry-run', '--tag', 'latest'], { encoding: 'utf8' });
  assert.notEqual(latest.status, 0);
  assert.match(latest.stderr, /latest/);
  const unknown = spawnSync(join(scriptsDir, 'build-images.sh'), ['--dry-run', '--tag', '1.0.0', '--only', 'nope'], { encoding: 'utf8' });
  assert.notEqual(unknown.status, 0);
});

test('build-images.sh defaults the tag to the version in package.json', () => {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const run = spawnSync(join(scriptsDir, 'build-images.sh'), ['--dry-run', '--no-import', '--only', 'web-terminal'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes(`claudecode/web-terminal:${version}`), run.stdout);
  assert.doesNotMatch(run.stdout, /ctr images import/);
});

