// The bubblewrap command line of one local sandbox, as a pure function of its inputs.
// What the sandbox sees: a read-only system (/usr and a few safe /etc entries), a private writable
// home and /tmp in memory, a read-only /dev with only the usual devices and a small /dev/shm, the course read-only at /workspace, its own PID/IPC/UTS/user/network
// namespaces (no network but the proxy socket), a non-root user, and nothing of the service's files.
import { CLAUDE_CODE_QUIET_ENV, sandboxEnvironment } from '../../sandbox/contract.ts';

import { RESUME_FILE_NAME } from '../types.ts';

export const SANDBOX_HOME = '/home/sandbox';
export const SANDBOX_UID = 1000;
export const SANDBOX_TOOLS_DIR = '/opt/claudecode/lib';
export const SANDBOX_BIN_DIR = '/opt/claudecode/bin';
export const SANDBOX_PROXY_SOCKET = '/run/claudecode/proxy.sock';
export const MANAGED_SETTINGS_PATH = '/etc/claude-code/managed-settings.json';

/** /etc entries a shell and the CLI need that reveal nothing about the host. */
export const SAFE_ETC_ENTRIES = [
  'alternatives', 'ssl', 'ca-certificates', 'localtime', 'timezone', 'terminfo', 'nsswitch.conf',
  'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'bash.bashrc', 'profile', 'profile.d', 'inputrc', 'mime.types',
];

export interface BwrapInput {
  /** Top-level system paths and whether each is a symlink on the host (merged-/usr systems). */
  systemLinks: Record<string, string | null>;
  /** Host files prepared by the runtime: generated passwd/group/hosts, tools dir, binaries. */
  files: {
    passwd: string;
    group: string;
    hosts: string;
    toolsDir: string;
    claudeBinary: string | null;
    managedSettings: string;
    proxySocket: string | null;
  };
  workspaceDir: string | null;
  /** Named on the command line on purpose (it is no secret): operators and tests find a session's processes by it. */
  sessionId: string;
  /** Host file holding a conversation to resume, bound read-only at /tmp/RESUME_FILE_NAME (or null). */
  resumeFile?: string | null;
  command: string[];
  tmpSizeBytes: number;
  homeSizeBytes: number;
  /** Size of the sandbox's /dev/shm (POSIX shared memory), a small tmpfs of its own. */
  shmSizeBytes: number;
}

export function buildBwrapArgs(input: BwrapInput): string[] {
  const { files } = input;
  const args: string[] = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--uid', String(SANDBOX_UID),
    '--gid', String(SANDBOX_UID),
    '--hostname', 'sandbox',
    '--cap-drop', 'ALL',
    '--ro-bind', '/usr', '/usr',
  ];
  for (const [path, target] of Object.entries(input.systemLinks)) {
    if (target === null) args.push('--ro-bind-try', path, path);
    else args.push('--symlink', target, path);
  }
  for (const entry of SAFE_ETC_ENTRIES) args.push('--ro-bind-try', `/etc/${entry}`, `/etc/${entry}`);
  args.push(
    '--ro-bind', files.passwd, '/etc/passwd',
    '--ro-bind', files.group, '/etc/group',
    '--ro-bind', files.hosts, '/etc/hosts',
    '--ro-bind', files.managedSettings, MANAGED_SETTINGS_PATH,
    '--proc', '/proc',
    // bwrap's /dev is a tmpfs sized at half the host's RAM: it is made read-only below (device nodes still
    // work), and shared memory gets its own small tmpfs, counted in the sandbox's memory budget.
    '--dev', '/dev',
    '--perms', '1777', '--size', String(input.shmSizeBytes), '--tmpfs', '/dev/shm',
    '--size', String(input.tmpSizeBytes), '--tmpfs', '/tmp',
    '--perms', '0700', '--size', String(input.homeSizeBytes), '--tmpfs', SANDBOX_HOME,
    '--ro-bind', files.toolsDir, SANDBOX_TOOLS_DIR,
  );
  if (files.claudeBinary) args.push('--ro-bind', files.claudeBinary, `${SANDBOX_BIN_DIR}/claude`);
  if (files.proxySocket) args.push('--ro-bind', files.proxySocket, SANDBOX_PROXY_SOCKET);
  if (input.resumeFile) args.push('--ro-bind', input.resumeFile, `/tmp/${RESUME_FILE_NAME}`);
  if (input.workspaceDir) args.push('--ro-bind', input.workspaceDir, '/workspace');
  else args.push('--dir', '/workspace');
  // Everything outside home and /tmp is read-only, including the sandbox's own root.
  // The environment is not set here: arguments are visible to every host user in `ps`, and the
  // environment holds the session credential. bwrap is started with exactly `sandboxEnv()` instead.
  args.push('--remount-ro', '/dev', '--remount-ro', '/', '--chdir', '/workspace', '--setenv', 'CLAUDECODE_SESSION_ID', input.sessionId);
  args.push('--', '/bin/sh', `${SANDBOX_TOOLS_DIR}/entrypoint.sh`, ...input.command);
  return args;
}

/** The environment inside the sandbox: the sandbox contract, plus what a login on this system expects. */
export function sandboxEnv(opts: { sessionId: string; credential: string; proxyAvailable: boolean; extra: Record<string, string> }): Record<string, string> {
  return sandboxEnvironment({
    sessionId: opts.sessionId,
    credential: opts.credential,
    proxy: opts.proxyAvailable ? { kind: 'socket', path: SANDBOX_PROXY_SOCKET } : { kind: 'none' },
    home: SANDBOX_HOME,
    workdir: '/workspace',
    course: null,
    runtime: {
      USER: 'sandbox',
      LOGNAME: 'sandbox',
      SHELL: '/bin/bash',
      PATH: `${SANDBOX_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`,
      COLORTERM: 'truecolor',
      TMPDIR: '/tmp',
    },
    session: opts.extra,
  });
}

/** Switches that stop Claude Code from contacting anything but the API proxy (kept here for existing imports). */
export const claudeCodeQuietEnv = CLAUDE_CODE_QUIET_ENV;
