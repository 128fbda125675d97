// Host-side files every local sandbox binds read-only: generated passwd/group/hosts, the entry
// script, the managed settings, and the binaries the sandbox runs.
import { existsSync, lstatSync, mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BwrapInput } from './bwrap-args.ts';
import { SANDBOX_HOME, SANDBOX_UID } from './bwrap-args.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The sandbox's files in the repository: one source of truth for both runtimes. */
export const sandboxSourceDir = join(repoRoot, 'docker', 'claudecode-sandbox');
export const managedSettingsFile = join(sandboxSourceDir, 'managed-settings.json');

/** Path of the pinned Claude Code CLI's native binary, or null when it is not installed. */
export function findClaudeBinary(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@anthropic-ai/claude-code/package.json');
    const binary = join(dirname(pkg), 'bin', 'claude.exe');
    if (!existsSync(binary) || lstatSync(binary).size < 1_000_000) return null; // a stub when the install script did not run
    return realpathSync(binary);
  } catch {
    return null;
  }
}

export function systemLinks(): Record<string, string | null> {
  const links: Record<string, string | null> = {};
  for (const path of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(path)) continue;
    links[path] = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  }
  return links;
}

export interface HostFiles {
  files: Omit<BwrapInput['files'], 'proxySocket'>;
  dispose(): void;
}

export function prepareHostFiles(): HostFiles {
  const dir = mkdtempSync(join(tmpdir(), 'claudecode-sandbox-'));
  chmodSync(dir, 0o755);
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o644 });
    return path;
  };
  const files = {
    passwd: write('passwd', `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${SANDBOX_UID}:${SANDBOX_UID}:sandbox:${SANDBOX_HOME}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`),
    group: write('group', `root:x:0:\nsandbox:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`),
    hosts: write('hosts', '127.0.0.1 localhost sandbox\n::1 localhost\n'),
    toolsDir: sandboxSourceDir,
    claudeBinary: findClaudeBinary(),
    managedSettings: managedSettingsFile,
  };
  return { files, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
