// One memory, CPU and process budget per local sandbox: a cgroup of its own, which the sandbox's first
// process joins before it execs anything, so everything it ever starts is counted and can be killed at once.
// cgroup v2 first (memory.max, no swap, memory.oom.group: the whole sandbox is killed together); where the
// memory and pids controllers are only on v1 hierarchies (hybrid hosts), the same budget through v1.
// Where neither can be written (no root, no delegation), sandboxes keep per-process rlimits only.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kill } from './process-tree.ts';

export interface SandboxBudget {
  memoryBytes: number;
  maxProcs: number;
  cpus: number;
}

export interface SandboxCgroup {
  /** cgroup.procs files the sandbox's first process writes its own pid to before it execs. */
  readonly procsFiles: string[];
  /** Processes in the sandbox's cgroup now. */
  pids(): number[];
  /** Kills every process in it, waits (bounded) until it is empty and removes it. True when it is gone. */
  destroy(): Promise<boolean>;
}

export type CgroupSupport =
  | { available: true; version: 'v2' | 'v1'; create(name: string, budget: SandboxBudget): SandboxCgroup }
  | { available: false; problem: string };

/** Where this process's cgroups are: one v2 directory, and v1 directories by controller. */
export interface CgroupLayout {
  v2: { dir: string; controllers: string[] } | null;
  v1: Partial<Record<'memory' | 'pids' | 'cpu', string>>;
}

const BASE = 'claudecode-sandboxes';
const CPU_PERIOD_US = 100_000;
const DESTROY_TIMEOUT_MS = 5000;

/** Reads the layout from /proc/self/cgroup and /proc/self/mountinfo (pure: the texts are its inputs). */
export function parseCgroupLayout(procCgroup: string, mountinfo: string, readControllers: (dir: string) => string | null): CgroupLayout {
  const mounts = mountinfo.split('\n').filter(Boolean).map((line) => {
    const [left, right = ''] = line.split(' - ');
    const fields = left!.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    return { root: fields[3] ?? '/', mountPoint: fields[4] ?? '', fstype, options: superOptions.split(',') };
  });
  const under = (mount: { root: string; mountPoint: string }, path: string) =>
    join(mount.mountPoint, mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path);
  const layout: CgroupLayout = { v2: null, v1: {} };
  for (const line of procCgroup.split('\n').filter(Boolean)) {
    const [, , controllers = '', path = '/'] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === '') {
      const mount = mounts.find((m) => m.fstype === 'cgroup2');
      if (!mount) continue;
      const dir = under(mount, path);
      layout.v2 = { dir, controllers: (readControllers(dir) ?? '').split(/\s+/).filter(Boolean) };
      continue;
    }
    for (const name of ['memory', 'pids', 'cpu'] as const) {
      if (!controllers.split(',').includes(name)) continue;
      const mount = mounts.find((m) => m.fstype === 'cgroup' && m.options.includes(name));
      if (mount) layout.v1[name] = under(mount, path);
    }
  }
  return layout;
}

/** The files to write for a budget, in order, per controller directory (pure). */
export function budgetWrites(version: 'v2' | 'v1', budget: SandboxBudget): Array<{ controller: 'memory' | 'pids' | 'cpu'; file: string; value: string; optional?: boolean }> {
  const quota = String(Math.max(1000, Math.round(budget.cpus * CPU_PERIOD_US)));
  if (version === 'v2') {
    return [
      { controller: 'memory', file: 'memory.max', value: String(budget.memoryBytes) },
      { controller: 'memory', file: 'memory.swap.max', value: '0', optional: true },
      // An out-of-memory kill takes the whole sandbox, never half of it (and never anything outside it).
      { controller: 'memory', file: 'memory.oom.group', value: '1', optional: true },
      { controller: 'pids', file: 'pids.max', value: String(budget.maxProcs) },
      { controller: 'cpu', file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}`, optional: true },
    ];
  }
  return [
    { controller: 'memory', file: 'memory.limit_in_bytes', value: String(budget.memoryBytes) },
    // Memory plus swap: equal to the memory limit means no swap (the file exists only with swap accounting).
    { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(budget.memoryBytes), optional: true },
    { controller: 'pids', file: 'pids.max', value: String(budget.maxProcs) },
    { controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US), optional: true },
    { controller: 'cpu', file: 'cpu.cfs_quota_us', value: quota, optional: true },
  ];
}

function readPids(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function errorText(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}

/** Sets up this service's sub-tree of cgroups, or says why it cannot. */
export function setUpCgroups(layout: CgroupLayout = readLayout()): CgroupSupport {
  const problems: string[] = [];
  if (layout.v2 && ['memory', 'pids'].every((c) => layout.v2!.controllers.includes(c))) {
    try {
      return v2Support(layout.v2.dir, layout.v2.controllers);
    } catch (err) {
      problems.push(`cgroup v2 at ${layout.v2.dir}: ${errorText(err)}`);
    }
  } else if (layout.v2) {
    problems.push(`cgroup v2 at ${layout.v2.dir} offers no memory and pids controllers`);
  }
  if (layout.v1.memory && layout.v1.pids) {
    try {
      return v1Support(layout.v1);
    } catch (err) {
      problems.push(`cgroup v1: ${errorText(err)}`);
    }
  }
  if (problems.length === 0) problems.push('no cgroup hierarchy with the memory and pids controllers is mounted');
  return { available: false, problem: problems.join('; ') };
}

function readLayout(): CgroupLayout {
  let procCgroup = '';
  let mountinfo = '';
  try {
    procCgroup = readFileSync('/proc/self/cgroup', 'utf8');
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    // not Linux: no cgroups
  }
  return parseCgroupLayout(procCgroup, mountinfo, (dir) => {
    try {
      return readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
    } catch {
      return null;
    }
  });
}

function enable(dir: string, controllers: string[]): void {
  writeFileSync(join(dir, 'cgroup.subtree_control'), controllers.map((c) => `+${c}`).join(' '));
}

function v2Support(dir: string, available: string[]): CgroupSupport {
  const controllers = ['memory', 'pids', 'cpu'].filter((c) => available.includes(c));
  const base = join(dir, BASE);
  try {
    enable(dir, controllers);
  } catch (err) {
    // "No internal processes": a cgroup with processes cannot hand controllers down. Move this cgroup's
    // processes (the service, and whatever shares its cgroup) to a leaf of their own, then enable them.
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    const leaf = join(dir, 'claudecode-service');
    mkdirSync(leaf, { recursive: true });
    for (const pid of readPids(join(dir, 'cgroup.procs'))) {
      try {
        writeFileSync(join(leaf, 'cgroup.procs'), String(pid));
      } catch {
        // a kernel thread or a process that just exited
      }
    }
    enable(dir, controllers);
  }
  mkdirSync(base, { recursive: true });
  enable(base, controllers);
  return {
    available: true,
    version: 'v2',
    create(name, budget) {
      const cg = join(base, name);
      mkdirSync(cg);
      applyBudget('v2', budget, () => cg);
      const procs = join(cg, 'cgroup.procs');
      return {
        procsFiles: [procs],
        pids: () => readPids(procs),
        destroy: () => destroyGroups([cg], procs, () => {
          // cgroup.kill (Linux 5.14+) kills every member atomically, including ones forking right now.
          if (existsSync(join(cg, 'cgroup.kill'))) writeFileSync(join(cg, 'cgroup.kill'), '1');
        }),
      };
    },
  };
}

function v1Support(dirs: CgroupLayout['v1']): CgroupSupport {
  const controllers = (['memory', 'pids', 'cpu'] as const).filter((c) => dirs[c] !== undefined);
  for (const c of controllers) mkdirSync(join(dirs[c]!, BASE), { recursive: true });
  return {
    available: true,
    version: 'v1',
    create(name, budget) {
      const groups = controllers.map((c) => ({ controller: c, dir: join(dirs[c]!, BASE, name) }));
      for (const g of groups) mkdirSync(g.dir);
      try {
        applyBudget('v1', budget, (c) => groups.find((g) => g.controller === c)?.dir ?? null);
      } catch (err) {
        for (const g of groups) rmdirSync(g.dir);
        throw err;
      }
      const procs = join(groups.find((g) => g.controller === 'pids')!.dir, 'cgroup.procs');
      return {
        procsFiles: groups.map((g) => join(g.dir, 'cgroup.procs')),
        pids: () => readPids(procs),
        destroy: () => destroyGroups(groups.map((g) => g.dir), procs, () => {}),
      };
    },
  };
}

function applyBudget(version: 'v2' | 'v1', budget: SandboxBudget, dirOf: (controller: 'memory' | 'pids' | 'cpu') => string | null): void {
  for (const write of budgetWrites(version, budget)) {
    const dir = dirOf(write.controller);
    try {
      if (dir === null) throw Object.assign(new Error(`no ${write.controller} controller`), { code: 'ENOENT' });
      writeFileSync(join(dir, write.file), write.value);
    } catch (err) {
      if (!write.optional) throw err;
    }
  }
}

/** Kills until the cgroup is empty (a process forking meanwhile is caught on the next round), then removes it. */
async function destroyGroups(dirs: string[], procsFile: string, killAll: () => void): Promise<boolean> {
  const deadline = Date.now() + DESTROY_TIMEOUT_MS;
  try {
    killAll();
  } catch {
    // fall back to killing one by one
  }
  for (;;) {
    const pids = readPids(procsFile);
    for (const pid of pids) kill(pid, 'SIGKILL');
    if (pids.length === 0 && removeAll(dirs)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function removeAll(dirs: string[]): boolean {
  let removed = true;
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') removed = false;
    }
  }
  return removed;
}
