// Whether bubblewrap can actually build a sandbox here (installed, and user namespaces allowed).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface BwrapStatus {
  available: boolean;
  path: string | null;
  problem?: string;
}

/** Why local sandboxes cannot exist on this platform, or null on Linux. */
export function platformProblem(platform: NodeJS.Platform): string | null {
  if (platform === 'linux') return null;
  return `local sandboxes need Linux with bubblewrap, and this host is ${platform}: use the Kubernetes runtime (RUNTIME=kubernetes, see docs/development.md)`;
}

export async function checkBwrap(opts: { runAs?: { uid: number; gid: number }; platform?: NodeJS.Platform } = {}): Promise<BwrapStatus> {
  const notLinux = platformProblem(opts.platform ?? process.platform);
  if (notLinux) return { available: false, path: null, problem: notLinux };
  const path = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].find((p) => canExecute(p)) ?? null;
  if (!path) return { available: false, path: null, problem: 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap' };
  const args = ['--unshare-all', '--unshare-user', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--', '/bin/true'];
  return new Promise((resolvePromise) => {
    execFile(path, args, { timeout: 10_000, ...(opts.runAs ?? {}) }, (err, _stdout, stderr) => {
      if (!err) return resolvePromise({ available: true, path });
      const detail = String(stderr || err.message).trim().split('\n')[0];
      resolvePromise({ available: false, path, problem: `bubblewrap cannot create a sandbox here (${detail}); user namespaces may be disabled` });
    });
  });
}

function canExecute(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
