// Memory of process trees from /proc: proportional set size (PSS) counts shared pages once across
// everyone who maps them, so summing it over many sandboxes gives what they really cost together.
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return { pid, ppid, comm };
  } catch {
    return null;
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map((n) => readProc(Number(n))).filter((p): p is Proc => p !== null);
}

/** PSS of one process in bytes (0 when it is gone or unreadable). */
export function pssBytes(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * The trees under those of `rootPid`'s direct children named in `rootComms` (one per sandbox), summed without the processes
 * whose command name is in `exclude` (the session program itself; what it started still counts: a helper
 * started by the entry script before it exec'd the program hangs below the program).
 */
export function childTreesPss(rootPid: number, opts: { rootComms: readonly string[]; exclude: readonly string[] }): { trees: number; pssBytes: number; excludedPssBytes: number } {
  const { exclude } = opts;
  const procs = allProcs();
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  let pss = 0;
  let excludedPss = 0;
  const walk = (p: Proc) => {
    const bytes = pssBytes(p.pid);
    if (exclude.includes(p.comm)) excludedPss += bytes;
    else pss += bytes;
    for (const child of children.get(p.pid) ?? []) walk(child);
  };
  const roots = (children.get(rootPid) ?? []).filter((p) => opts.rootComms.includes(p.comm));
  for (const root of roots) walk(root);
  return { trees: roots.length, pssBytes: pss, excludedPssBytes: excludedPss };
}
