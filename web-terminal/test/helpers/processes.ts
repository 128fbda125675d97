// The process table, for tests that must prove no sandbox process is left behind.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  pidNamespace: string | null;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return null;
    let pidNamespace: string | null = null;
    try {
      pidNamespace = readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      pidNamespace = null;
    }
    return { pid, ppid: Number(fields[1]), comm, pidNamespace };
  } catch {
    return null;
  }
}

/** Live descendants of `root` (default: this process). */
export function descendants(root = process.pid): ProcInfo[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))).filter((p): p is ProcInfo => p !== null);
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: ProcInfo[] = [];
  const stack = [root];
  while (stack.length) {
    for (const child of children.get(stack.pop()!) ?? []) {
      found.push(child);
      stack.push(child.pid);
    }
  }
  return found;
}

/** Processes of local sandboxes started by this process: bubblewrap itself, or anything in another PID namespace. */
export function sandboxProcesses(): ProcInfo[] {
  const own = readlinkSync('/proc/self/ns/pid');
  return descendants().filter((p) => p.comm === 'bwrap' || p.comm === 'prlimit' || (p.pidNamespace !== null && p.pidNamespace !== own));
}

export async function waitUntil(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
