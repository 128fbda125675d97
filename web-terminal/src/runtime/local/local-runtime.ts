// The embedded default runtime: each session is a process tree in a bubblewrap sandbox on a pty.
// Sandboxes cannot outlive the service (--die-with-parent, and shutdown stops them all), nor their session
// (stop kills their cgroup, or every process carrying their marker, whenever it comes).
import { closeSync } from 'node:fs';
import { spawn } from '@lydell/node-pty';
import type { IPty } from '@lydell/node-pty';
import type { Logger } from 'pino';
import { SandboxError } from '../types.ts';
import type { SandboxRecord, SandboxSpec, SessionRuntime, Terminal } from '../types.ts';
import { buildBwrapArgs, sandboxEnv } from './bwrap-args.ts';
import { checkBwrap } from './bwrap-check.ts';
import type { BwrapStatus } from './bwrap-check.ts';
import { setUpCgroups } from './cgroups.ts';
import type { CgroupSupport, SandboxCgroup } from './cgroups.ts';
import { LAUNCHER_SHELL, launcherArgs } from './launcher.ts';
import { prepareHostFiles, systemLinks } from './host-files.ts';
import { childPids, isAlive, kill, pidsWithArguments } from './process-tree.ts';
import { ptyTerminal } from './pty-terminal.ts';
import { openSandboxHome, readNewestTranscript, writeResumeFile } from './sandbox-home.ts';
import { UidPool } from './uid-pool.ts';

/** The in-process API proxy's per-session unix sockets (each sandbox gets its own; see local-proxy.ts). */
export interface ProxySockets {
  /** Opens the socket of `sessionId` and returns its path, to be bind-mounted into that sandbox only. */
  open(sessionId: string): Promise<string>;
  release(sessionId: string): Promise<void>;
}

export interface LocalRuntimeOptions {
  logger: Logger;
  /** The API proxy's sockets, one bind-mounted into each sandbox; null: no network at all. */
  proxySockets: ProxySockets | null;
  allowUnsandboxed: boolean;
  /** Memory budget of a whole sandbox (its cgroup), and the address-space limit of each of its processes. */
  memoryMb: number;
  maxProcs: number;
  /** CPUs a sandbox may use (its cgroup's CPU quota). */
  cpus?: number;
  /** When the service runs as root, sandboxes run as host uids from this base (one per session). */
  uidBase?: number;
  /** Overrides bubblewrap detection (tests of the unsandboxed path). */
  bwrapStatus?: BwrapStatus;
  /** Overrides cgroup detection (tests of the path without cgroups). */
  cgroups?: CgroupSupport;
}

interface LocalSandbox {
  spec: SandboxSpec;
  pty: IPty;
  exited: Promise<void>;
  cgroup: SandboxCgroup | null;
  releaseUid: () => void;
  terminating?: Promise<void>;
}

/** What stays of a sandbox until `stop`: its open home (readable after the program exited) and resume file. */
interface SandboxLeftovers {
  homeFd: number | null;
  initPid: number | null;
  /** Stopped: the next transcript read is the last. */
  stopped: boolean;
  disposeResumeFile: () => void;
}

const UNSANDBOXED_BANNER = '\r\n\x1b[1;41;97m WARNING: this session is NOT sandboxed (ALLOW_UNSANDBOXED=true): it runs with the service\'s own rights. \x1b[0m\r\n\r\n';
const KILL_GRACE_MS = 500;
const SHM_SIZE_BYTES = 64 * 1024 * 1024;
const STOP_TIMEOUT_MS = 5000;
/** How long a stopped sandbox's home stays open for the last transcript read. */
const LAST_READ_WINDOW_MS = 30_000;

export async function createLocalRuntime(opts: LocalRuntimeOptions): Promise<SessionRuntime> {
  const bwrap = opts.bwrapStatus ?? (await checkBwrap());
  if (!bwrap.available) {
    if (opts.allowUnsandboxed) opts.logger.warn({ problem: bwrap.problem }, 'bubblewrap unavailable: sessions run UNSANDBOXED (ALLOW_UNSANDBOXED=true)');
    else opts.logger.error({ problem: bwrap.problem }, 'bubblewrap unavailable: local sessions are refused (set ALLOW_UNSANDBOXED=true to run them without a sandbox, at your own risk)');
  }
  const cgroups: CgroupSupport = !bwrap.available ? { available: false, problem: 'no sandbox' } : (opts.cgroups ?? setUpCgroups());
  const noBudget = cgroups.available ? null
    : `no per-sandbox memory, CPU and process budget (cgroups unavailable: ${cgroups.problem}); only per-process limits apply`;
  if (bwrap.available && noBudget) opts.logger.warn(noBudget);
  if (cgroups.available) opts.logger.info({ cgroups: cgroups.version }, 'each sandbox gets its own cgroup (memory, CPU and process budget)');
  const hostFiles = prepareHostFiles();
  const links = systemLinks();
  const runningAsRoot = process.getuid?.() === 0;
  const uids = new UidPool(opts.uidBase ?? 200_000, 10_000);
  const sandboxes = new Map<string, LocalSandbox>();
  const leftovers = new Map<string, SandboxLeftovers>();
  const releaseLeftovers = (sessionId: string) => {
    const left = leftovers.get(sessionId);
    leftovers.delete(sessionId);
    if (left?.homeFd != null) closeSync(left.homeFd);
    left?.disposeResumeFile();
  };
  /** The sandbox's home, opened once its init exists (bubblewrap has mounted it by the first output). */
  const homeOf = (sessionId: string): number | null => {
    const left = leftovers.get(sessionId);
    const pty = sandboxes.get(sessionId)?.pty;
    if (!left || !bwrap.available) return null;
    if (left.homeFd === null && pty) {
      left.initPid ??= childPids(pty.pid)[0] ?? null;
      if (left.initPid !== null) left.homeFd = openSandboxHome(left.initPid);
    }
    return left.homeFd;
  };

  const unavailableReason = (): string | null =>
    bwrap.available || opts.allowUnsandboxed ? null : `cannot start a sandbox: ${bwrap.problem ?? 'bubblewrap unavailable'}`;

  function argvFor(spec: SandboxSpec, launch: { procsFiles: string[]; uid: number | null; proxySocket: string | null; resumeFile: string | null }): { file: string; args: string[]; env: Record<string, string>; banner?: string } {
    const { proxySocket, resumeFile } = launch;
    // Unsandboxed, there is no forwarder: never point the CLI at whatever listens on the host's loopback.
    const env = sandboxEnv({ sessionId: spec.sessionId, credential: spec.credential, proxyAvailable: bwrap.available && proxySocket !== null, extra: spec.env });
    const rlimits = ['--as=' + opts.memoryMb * 1024 * 1024, '--core=0', '--nofile=4096'];
    // RLIMIT_NPROC counts every process of the host uid: only meaningful with a uid of its own.
    if (runningAsRoot) rlimits.push(`--nproc=${opts.maxProcs}`);
    if (!bwrap.available) {
      return { file: '/bin/sh', args: ['-c', 'exec "$@"', 'sh', ...spec.command], env: { ...process.env as Record<string, string>, ...env, HOME: process.env.HOME ?? '/tmp' }, banner: UNSANDBOXED_BANNER };
    }
    const args = buildBwrapArgs({
      systemLinks: links,
      files: { ...hostFiles.files, proxySocket },
      workspaceDir: spec.course?.contentDir ?? null,
      sessionId: spec.sessionId,
      resumeFile,
      command: spec.command,
      tmpSizeBytes: 512 * 1024 * 1024,
      homeSizeBytes: 512 * 1024 * 1024,
      shmSizeBytes: SHM_SIZE_BYTES,
    });
    // The launcher, prlimit and bwrap pass this environment, and nothing else, on to the sandbox.
    return { file: LAUNCHER_SHELL, args: launcherArgs({ procsFiles: launch.procsFiles, uid: launch.uid, command: ['/usr/bin/prlimit', ...rlimits, '--', bwrap.path!, ...args] }), env };
  }

  return {
    kind: 'local',

    async start(spec, { signal }): Promise<Terminal> {
      const unavailable = unavailableReason();
      if (unavailable) throw new SandboxError('sandbox_unavailable', unavailable);
      if (signal.aborted) throw new SandboxError('aborted', 'session start was cancelled');
      const proxySocket = bwrap.available && opts.proxySockets ? await opts.proxySockets.open(spec.sessionId) : null;
      const releaseSocket = () => void opts.proxySockets?.release(spec.sessionId);
      if (signal.aborted) {
        releaseSocket();
        throw new SandboxError('aborted', 'session start was cancelled');
      }
      let banner: string | undefined;
      const uid = runningAsRoot && bwrap.available ? uids.acquire() : null;
      let cgroup: SandboxCgroup | null = null;
      const resume = spec.resume && bwrap.available ? writeResumeFile(spec.resume.content, uid?.value ?? null) : null;
      let pty: IPty;
      try {
        cgroup = cgroups.available ? cgroups.create(`session-${spec.sessionId}`, { memoryBytes: opts.memoryMb * 1024 * 1024, maxProcs: opts.maxProcs, cpus: opts.cpus ?? 1 }) : null;
        const { file, args, env, banner: shown } = argvFor(spec, { procsFiles: cgroup?.procsFiles ?? [], uid: uid?.value ?? null, proxySocket, resumeFile: resume?.path ?? null });
        banner = shown;
        // Started as the service's own user: the launcher joins the cgroup, then drops to the sandbox's uid.
        pty = spawn(file, args, { name: 'xterm-256color', cols: spec.cols, rows: spec.rows, cwd: '/', env, encoding: null });
      } catch (err) {
        await cgroup?.destroy();
        uid?.release();
        releaseSocket();
        resume?.dispose();
        throw new SandboxError('spawn_failed', 'could not start the sandbox process', { cause: err });
      }
      const exited = new Promise<void>((resolveExit) => pty.onExit(() => resolveExit()));
      const sandbox: LocalSandbox = { spec, pty, exited, cgroup, releaseUid: () => uid?.release() };
      sandboxes.set(spec.sessionId, sandbox);
      // The program exiting ends the session, which stops the sandbox: the uid is free once all is gone.
      leftovers.set(spec.sessionId, { homeFd: null, initPid: null, stopped: false, disposeResumeFile: () => resume?.dispose() });
      const firstOutput = pty.onData(() => {
        firstOutput.dispose();
        homeOf(spec.sessionId);
      });
      void exited.then(() => {
        if (sandboxes.get(spec.sessionId) === sandbox) sandboxes.delete(spec.sessionId);
        void terminate(sandbox).finally(() => {
          sandbox.releaseUid();
          releaseSocket();
        });
      });
      opts.logger.debug({ sessionId: spec.sessionId, pid: pty.pid, uid: uid?.value }, 'local sandbox started');
      return ptyTerminal(pty, banner ? { banner } : {});
    },

    async attach(sessionId): Promise<Terminal> {
      // A local sandbox's pty lives in this process; after a restart there is nothing to re-attach to.
      throw new SandboxError('not_found', `no local sandbox for session ${sessionId}`);
    },

    async stop(sessionId): Promise<void> {
      const sandbox = sandboxes.get(sessionId);
      if (sandbox) await terminate(sandbox);
      // The home stays readable for one last read of what the program wrote as it was hung up.
      const left = leftovers.get(sessionId);
      if (left && !left.stopped) {
        left.stopped = true;
        setTimeout(() => {
          if (leftovers.get(sessionId) === left) releaseLeftovers(sessionId);
        }, LAST_READ_WINDOW_MS).unref();
      }
    },

    async readTranscript(sessionId, maxBytes) {
      const home = homeOf(sessionId);
      const transcript = home === null ? null : readNewestTranscript(home, maxBytes);
      if (leftovers.get(sessionId)?.stopped) releaseLeftovers(sessionId);
      return transcript;
    },

    async list(): Promise<SandboxRecord[]> {
      return [...sandboxes.values()].map(({ spec }) => ({
        sessionId: spec.sessionId,
        userHash: spec.userHash,
        createdAt: spec.createdAt,
        expiresAt: spec.expiresAt,
        courseId: spec.course?.id ?? null,
        alive: true,
      }));
    },

    unavailableReason,

    async health() {
      const reason = unavailableReason();
      if (reason) return { ok: false, message: reason };
      if (!bwrap.available) return { ok: true, message: 'running UNSANDBOXED' };
      return noBudget ? { ok: true, message: noBudget } : { ok: true };
    },

    async close() {
      await Promise.all([...sandboxes.values()].map(terminate));
      for (const sessionId of [...leftovers.keys()]) releaseLeftovers(sessionId);
      hostFiles.dispose();
    },
  };
}

/**
 * Hangs up the terminal, then kills the sandbox for sure: the process group, and the sandbox's own init
 * (PID 1 of its namespace, whose death takes every process inside with it). Resolves once all are gone.
 */
function terminate(sandbox: LocalSandbox): Promise<void> {
  sandbox.terminating ??= killSandbox(sandbox);
  return sandbox.terminating;
}

async function killSandbox(sandbox: LocalSandbox): Promise<void> {
  const { pty, exited } = sandbox;
  // Found before any signal: once bubblewrap's outer process exits, its init is reparented away.
  const inits = childPids(pty.pid);
  kill(-pty.pid, 'SIGHUP');
  kill(pty.pid, 'SIGHUP');
  const hungUp = await settlesWithin(exited, KILL_GRACE_MS);
  for (const init of inits) kill(init, 'SIGKILL');
  if (!hungUp) {
    kill(-pty.pid, 'SIGKILL');
    kill(pty.pid, 'SIGKILL');
    await settlesWithin(exited, STOP_TIMEOUT_MS);
  }
  // A stop racing the start finds no init above (bubblewrap had not made it yet): the cgroup holds
  // everything the sandbox ever started; without one, its processes carry the session's marker.
  if (sandbox.cgroup) await sandbox.cgroup.destroy();
  const marker = ['CLAUDECODE_SESSION_ID', sandbox.spec.sessionId];
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const left = [...inits.filter(isAlive), ...pidsWithArguments(marker)];
    if (left.length === 0 || Date.now() > deadline) return;
    for (const pid of left) kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolveSettled) => {
    const timer = setTimeout(() => resolveSettled(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolveSettled(true);
    });
  });
}
