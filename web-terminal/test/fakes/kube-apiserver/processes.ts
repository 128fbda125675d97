// The fake "container" is a set of local processes. dtach detaches its master from the exec's pty
// (setsid), so killing the exec does not end it: every process carries POD_MARKER in its environment,
// and ending the pod kills each process that has it (found by pid through /proc, never by name).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const POD_MARKER = 'FAKE_KUBE_POD_DIR';

export function podProcessIds(podDir: string): number[] {
  const needle = Buffer.from(`${POD_MARKER}=${podDir}\0`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`).includes(needle)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

export function killPodProcesses(podDir: string): void {
  for (const pid of podProcessIds(podDir)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** The environment of a process in the pod's "container": the pod's env, its own home and temp folder, the image's PATH first. */
export function containerEnv(s: { env: Record<string, string>; podDir: string; imagePath: string[] }): Record<string, string> {
  // POD_MARKER tags every process of the "container" (dtach's detached master too) so the kubelet can end them all.
  return { ...s.env, PATH: [...s.imagePath, process.env.PATH ?? '/usr/bin:/bin'].join(':'), HOME: join(s.podDir, 'home'), TMPDIR: join(s.podDir, 'tmp'), [POD_MARKER]: s.podDir };
}
