// One source of truth for both runtimes: the image copies the same managed settings and entry script
// that the local runtime binds into bubblewrap, and agrees with the Kubernetes runtime's pod contract.
// No container engine runs here, so the Dockerfile is checked statically and the entry script is run directly.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { MANAGED_SETTINGS_PATH, SANDBOX_TOOLS_DIR, buildBwrapArgs } from '../../src/runtime/local/bwrap-args.ts';
import { managedSettingsFile, sandboxSourceDir } from '../../src/runtime/local/host-files.ts';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';
import { SANDBOX_UID as POD_UID } from '../../src/runtime/kubernetes/pod-spec.ts';
import { PINNED_VERSION } from './helpers.ts';

const repoRoot = join(sandboxSourceDir, '..', '..');
const dockerfile = readFileSync(join(sandboxSourceDir, 'Dockerfile'), 'utf8');
const entrypoint = join(sandboxSourceDir, 'entrypoint.sh');
const fromRoot = (path: string) => relative(repoRoot, path);

/** `COPY [--flags] <src> <dest>` lines of the final stage's sources from the build context. */
function contextCopies(): Map<string, string> {
  const copies = new Map<string, string>();
  for (const line of dockerfile.split('\n')) {
    const match = /^COPY\s+((?:--[a-z]+=\S+\s+)*)(\S+)\s+(\S+)\s*$/.exec(line.trim());
    if (match && !match[1]!.includes('--from=')) copies.set(match[2]!, match[3]!);
  }
  return copies;
}

describe('the sandbox image', () => {
  it('copies the managed settings the local runtime binds, to the path the CLI reads', () => {
    assert.equal(contextCopies().get(fromRoot(managedSettingsFile)), MANAGED_SETTINGS_PATH);
    const bwrap = buildBwrapArgs({
      systemLinks: {},
      files: { passwd: 'p', group: 'g', hosts: 'h', toolsDir: sandboxSourceDir, claudeBinary: null, managedSettings: managedSettingsFile, proxySocket: null },
      workspaceDir: null, sessionId: 'image-test', command: ['true'], tmpSizeBytes: 1, homeSizeBytes: 1, shmSizeBytes: 1,
    });
    const bind = bwrap.findIndex((arg, i) => arg === '--ro-bind' && bwrap[i + 1] === managedSettingsFile);
    assert.equal(bwrap[bind + 2], MANAGED_SETTINGS_PATH);
    // The local runtime runs the very entry script the image installs.
    assert.ok(bwrap.includes(`${SANDBOX_TOOLS_DIR}/entrypoint.sh`));
    assert.equal(bwrap[bwrap.indexOf(sandboxSourceDir) + 1], SANDBOX_TOOLS_DIR);
  });

  it('installs the entry script where the Kubernetes runtime execs it', () => {
    assert.equal(contextCopies().get(fromRoot(entrypoint)), loadKubernetesConfig({}).SANDBOX_ENTRYPOINT);
    assert.match(dockerfile, /^ENTRYPOINT \["\/usr\/local\/bin\/sandbox-entrypoint"\]$/m);
  });

  it('pins the same Claude Code version as the project, and installs the native binary without Node', () => {
    assert.equal(/^ARG CLAUDE_CODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1], PINNED_VERSION);
    const require = createRequire(import.meta.url);
    const installed = require('@anthropic-ai/claude-code/package.json') as { version: string };
    assert.equal(installed.version, PINNED_VERSION);
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    assert.equal(lock.packages['node_modules/@anthropic-ai/claude-code']?.version, PINNED_VERSION);
    const spec = (JSON.parse(readFileSync(join(repoRoot, 'web-terminal', 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
      .dependencies['@anthropic-ai/claude-code'];
    assert.equal(spec, PINNED_VERSION);
    // Node only appears in the stage that fetches the binary.
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.doesNotMatch(finalStage, /nodejs|npm |node:/);
    assert.match(finalStage, /COPY --from=cli \/build\/claude \/usr\/local\/bin\/claude/);
  });

  it('is Ubuntu LTS, runs as the numeric non-root uid of the pod, has dtach, no sudo and no setuid binaries', () => {
    assert.match(dockerfile, /^ARG UBUNTU_IMAGE=ubuntu:(2[02468])\.04$/m);
    assert.match(dockerfile, /^USER 10001:10001$/m);
    assert.equal(POD_UID, 10001);
    assert.match(dockerfile, /apt-get install[^\n]*\bdtach\b/);
    assert.doesNotMatch(dockerfile, /apt-get install[^\n]*\bsudo\b/);
    assert.match(dockerfile, /find \/ -xdev -perm \/6000 -type f -exec chmod a-s \{\} \+/);
    assert.match(dockerfile, /mkdir -p [^\n]*\/workspace/);
  });

  it('lets exactly the copied files into the build context', () => {
    const ignore = readFileSync(join(sandboxSourceDir, 'Dockerfile.dockerignore'), 'utf8');
    for (const source of contextCopies().keys()) {
      assert.ok(ignore.includes(`!${source}`) || ignore.includes(`!${source.split('/')[0]}/**`), `${source} is ignored by the build context`);
    }
  });
});

function runEntrypoint(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', [entrypoint, ...args], { env: { PATH: '/usr/bin:/bin', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('the entry script', () => {
  it('passes shellcheck', async () => {
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile('shellcheck', [entrypoint], (err, stdout) => resolve({ code: err ? 1 : 0, out: stdout }));
    });
    assert.equal(result.code, 0, result.out);
  });

  it('writes the seed once (onboarding done, the credential approved, the working directory trusted), then runs the program', async () => {
    const home = mkdtempSync(join(tmpdir(), 'entrypoint-home-'));
    try {
      const credential = 'ccp1.eyJzaWQiOiJhYmMifQ.c2lnbmF0dXJlLW9mLXRoZS1jcmVkZW50aWFs';
      const run = await runEntrypoint({ HOME: home, ANTHROPIC_API_KEY: credential, CLAUDECODE_WORKDIR: home }, ['/bin/sh', '-c', 'pwd; echo "$CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${home}\n1\n`);
      const seed = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'));
      assert.deepEqual(seed, {
        hasCompletedOnboarding: true,
        customApiKeyResponses: { approved: [credential.slice(-20)], rejected: [] },
        projects: { [home]: { hasTrustDialogAccepted: true } },
      });
      // A second start (a re-attach) keeps what the CLI wrote since.
      const again = await runEntrypoint({ HOME: home, ANTHROPIC_API_KEY: 'other-credential', CLAUDECODE_WORKDIR: home }, ['true']);
      assert.equal(again.code, 0);
      assert.deepEqual(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')), seed);
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it('uses the course folder of a pod (COURSE_DIR) as the trusted working directory', async () => {
    const home = mkdtempSync(join(tmpdir(), 'entrypoint-home-'));
    try {
      const run = await runEntrypoint({ HOME: home, ANTHROPIC_API_KEY: 'k', COURSE_DIR: home }, ['/bin/pwd']);
      assert.equal(run.stdout, `${home}\n`);
      assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')).projects), [home]);
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it('trusts the folder it starts the program in when the working directory does not exist', async () => {
    const home = mkdtempSync(join(tmpdir(), 'entrypoint-home-'));
    try {
      const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile('/bin/sh', [entrypoint, '/bin/pwd'], { cwd: home, env: { PATH: '/usr/bin:/bin', HOME: home, ANTHROPIC_API_KEY: 'k', CLAUDECODE_WORKDIR: join(home, 'missing') }, timeout: 30_000 },
          (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
      });
      assert.equal(run.code, 0);
      const started = run.stdout.trim();
      assert.equal(started, realpathSync(home));
      assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')).projects), [started]);
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it('refuses values it would have to escape into the seed, and a missing program', async () => {
    const home = mkdtempSync(join(tmpdir(), 'entrypoint-home-'));
    try {
      const quoted = await runEntrypoint({ HOME: home, ANTHROPIC_API_KEY: 'abc"},"x":{"', CLAUDECODE_WORKDIR: home }, ['true']);
      assert.equal(quoted.code, 65);
      const none = await runEntrypoint({ HOME: home, ANTHROPIC_API_KEY: 'k' }, []);
      assert.equal(none.code, 64);
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
});
