// What one local sandbox may take from the host: no writable /dev, a small /dev/shm, one memory, CPU and
// process budget for the whole sandbox (its cgroup), and no file descriptor of the service's.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../src/server.ts';
import { waitUntil } from '../helpers/processes.ts';
import { processesMentioning, spawnService } from '../helpers/service-process.ts';
import { api, startTestService } from '../helpers/service.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import type { TerminalClient } from '../helpers/terminal-client.ts';

/** Runs a command line in the session's shell and returns what it printed between two markers. */
async function run(term: TerminalClient, command: string, timeoutMs = 30_000): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 8);
  term.type(`echo "<${tag}"; ${command}; echo "${tag}>"\n`);
  const result = new RegExp(`<${tag}\\r?\\n([\\s\\S]*?)${tag}>`);
  return result.exec(await term.waitFor(result, timeoutMs))![1]!;
}

async function openSession(baseUrl: string): Promise<{ id: string; term: TerminalClient }> {
  const res = await fetch(`${baseUrl}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = await res.json() as { id: string; wsUrl: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  const term = await openTerminal(wsUrl(baseUrl, body.wsUrl));
  await term.waitForControl((m) => m.type === 'status' && m.state === 'running');
  return { id: body.id, term };
}

/** The cgroup directories of a live sandbox, by controller, read from its processes (via the session marker). */
function sandboxCgroups(sessionId: string): Map<string, string> {
  const pid = processesMentioning(sessionId)[0];
  assert.ok(pid, 'the sandbox is running');
  const groups = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line)!;
    for (const c of controllers!.split(',')) groups.set(c, path!);
  }
  return groups;
}

const MIB = 1024 * 1024;

describe('sandbox budget: /dev, memory, CPU, processes', () => {
  let service: Service;
  let a: { id: string; term: TerminalClient };
  let b: { id: string; term: TerminalClient };
  before(async () => {
    service = await startTestService({ LOCAL_SANDBOX_MEMORY_MB: '256', LOCAL_SANDBOX_MAX_PROCS: '64', LOCAL_SANDBOX_CPUS: '0.5', MAX_SESSIONS_PER_USER: '4' });
    a = await openSession(service.url);
    b = await openSession(service.url);
  });
  after(async () => {
    await a?.term.close();
    await b?.term.close();
    await service?.close();
  });

  it('refuses 700 MiB into /dev/shm and any file in /dev, while the usual devices work', async () => {
    const shm = await run(a.term, 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=700 2>&1 | tr "\\n" " "; rm -f /dev/shm/fill');
    assert.match(shm, /No space left on device/);
    assert.doesNotMatch(shm, /734003200 bytes/);
    const dev = await run(a.term, 'dd if=/dev/zero of=/dev/fill bs=1M count=700 2>&1 | tr "\\n" " "');
    assert.match(dev, /Read-only file system/);
    const devices = await run(a.term, 'echo x > /dev/null && head -c 3 /dev/zero | wc -c && head -c 5 /dev/urandom | wc -c && test -c /dev/tty && test -c /dev/pts/ptmx && echo shm-ok > /dev/shm/f && cat /dev/shm/f');
    assert.match(devices, /^3\r?\n5\r?\nshm-ok/);
  });

  it('gives the whole sandbox one memory budget: a memory bomb of three processes is killed, the other session keeps echoing', { timeout: 120_000 }, async () => {
    const health = await api(service, 'GET', '/readyz');
    const runtimeCheck = (health.body.checks as Array<{ name: string; message?: string }>).find((c) => c.name === 'runtime')!;
    if (runtimeCheck.message) {
      // Where cgroups cannot be made the service says so, and keeps per-process limits only.
      assert.match(runtimeCheck.message, /cgroups unavailable/);
      return;
    }
    // Each process stays under RLIMIT_AS (256 MiB); together they exceed the sandbox's 256 MiB budget.
    // The end marker is computed by the shell (bomb-42), so the echo of the typed line cannot match it.
    a.term.type('for i in 1 2 3; do (head -c 150M /dev/zero | tail > /dev/null; echo "bomb $i exit $?") & done; wait; echo "bomb-$((6*7))"\n');
    // The sandbox was killed together (cgroup v2 memory.oom.group: the session ends) or its biggest processes were (v1).
    let bombOver = false;
    const over = Promise.race([
      a.term.waitFor(/bomb-42/, 90_000),
      a.term.waitForControl((m) => m.type === 'status' && m.state !== 'running' && m.state !== 'starting', 90_000),
    ]).finally(() => (bombOver = true));
    over.catch(() => {}); // awaited below; a failing echo must not leave it unhandled
    // The other session keeps echoing for as long as the bomb runs.
    let echoes = 0;
    while (!bombOver || echoes < 3) {
      const out = await run(b.term, `echo echo-$((${echoes}+1000))`);
      assert.match(out, new RegExp(`echo-${echoes + 1000}`));
      echoes += 1;
    }
    await over;
    const output = a.term.output();
    const survived = (output.match(/bomb \d exit 0/g) ?? []).length;
    assert.ok(survived < 3, `all three allocations succeeded beyond the budget: ${output.slice(-400)}`);
    assert.equal((await api(service, 'GET', '/healthz')).status, 200, 'the service survived');
    assert.match(await run(b.term, 'echo still-here'), /still-here/);
  });

  it('puts the sandbox in a cgroup of its own with its memory, process and CPU limits', async () => {
    const groups = sandboxCgroups(b.id);
    const v2 = groups.get('') ?? '';
    if (groups.get('memory')?.includes(`session-${b.id}`)) {
      const dir = (c: string) => `/sys/fs/cgroup/${c}${groups.get(c)}`;
      assert.equal(Number(readFileSync(`${dir('memory')}/memory.limit_in_bytes`, 'utf8')), 256 * MIB);
      assert.equal(readFileSync(`${dir('pids')}/pids.max`, 'utf8').trim(), '64');
      assert.equal(readFileSync(`${dir('cpu')}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
    } else {
      assert.ok(v2.includes(`session-${b.id}`), `the sandbox is in no cgroup of its own: ${JSON.stringify([...groups])}`);
      const dir = `/sys/fs/cgroup${v2}`;
      assert.equal(Number(readFileSync(`${dir}/memory.max`, 'utf8')), 256 * MIB);
      assert.equal(readFileSync(`${dir}/memory.oom.group`, 'utf8').trim(), '1');
      assert.equal(readFileSync(`${dir}/pids.max`, 'utf8').trim(), '64');
      assert.equal(readFileSync(`${dir}/cpu.max`, 'utf8').trim(), '50000 100000');
    }
  });

  it('holds a busy sandbox to its CPU quota: the kernel throttles its cgroup', { timeout: 60_000 }, async () => {
    const health = await api(service, 'GET', '/readyz');
    if ((health.body.checks as Array<{ name: string; message?: string }>).find((c) => c.name === 'runtime')?.message) return; // no cgroups (said above)
    const groups = sandboxCgroups(b.id);
    const cpuDir = groups.get('cpu')?.includes(`session-${b.id}`) ? `/sys/fs/cgroup/cpu${groups.get('cpu')}` : `/sys/fs/cgroup${groups.get('') ?? ''}`;
    assert.match(cpuDir, new RegExp(`session-${b.id}`), 'the sandbox has a CPU cgroup of its own');
    const throttled = () => Number(/^nr_throttled (\d+)$/m.exec(readFileSync(`${cpuDir}/cpu.stat`, 'utf8'))?.[1]);
    const before = throttled();
    assert.ok(Number.isFinite(before), 'cpu.stat counts throttled periods');
    // Four busy loops want up to four CPUs; the quota (LOCAL_SANDBOX_CPUS=0.5) holds the whole sandbox to half of one.
    b.term.type('for i in 1 2 3 4; do (while :; do :; done) & done\n');
    try {
      await waitUntil(() => throttled() > before, 30_000, 'the sandbox throttled by its CPU quota');
    } finally {
      assert.match(await run(b.term, 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; echo "loops $((1+1)) stopped"'), /loops 2 stopped/);
    }
    assert.equal((await api(service, 'GET', '/healthz')).status, 200);
  });

  it('holds the whole sandbox to its process budget: forks past it fail, and the sandbox stays usable', { timeout: 60_000 }, async () => {
    // One process tries to fork 100 sleepers (perl: a failed fork is not retried, as bash would); the budget
    // is 64 processes for the whole sandbox (cgroup pids.max, else RLIMIT_NPROC of the sandbox's own uid).
    const forked = await run(b.term, `perl -e 'my @kids; for (1..100) { my $p = fork(); last unless defined $p; if (!$p) { sleep 20; exit 0 } push @kids, $p } print "forked ", scalar(@kids), " then: ", (@kids < 100 ? $! : "no refusal"), "\\n"; kill "TERM", @kids; 1 while wait() > 0'`);
    const match = /forked (\d+) then: (.*)/.exec(forked);
    assert.ok(match, forked);
    const count = Number(match[1]);
    assert.ok(count > 10 && count < 64, `forked ${count} of 100 with a budget of 64 processes: ${forked}`);
    assert.match(match[2]!, /Resource temporarily unavailable/);
    assert.match(await run(b.term, 'echo "after $((40+2))"'), /after 42/, 'the sandbox is usable again');
    // A session of its own is not held by this one's budget (session a may have ended with its memory bomb).
    const other = await openSession(service.url);
    try {
      assert.match(await run(other.term, 'perl -e \'my @k; for (1..40) { my $p = fork() // die "fork: $!"; if (!$p) { sleep 20; exit 0 } push @k, $p } print "forked ", scalar(@k), "\\n"; kill "TERM", @k; 1 while wait() > 0\''), /forked 40/);
    } finally {
      await other.term.close();
      await api(service, 'DELETE', `/api/sessions/${other.id}`);
    }
  });
});

describe('inherited file descriptors', () => {
  let dir: string;
  let fd: number;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fd-leak-'));
    const secret = join(dir, 'root-only');
    writeFileSync(secret, 'TOP-SECRET-CONTENT\n', { mode: 0o600 });
    fd = openSync(secret, 'r');
  });
  after(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a file the service inherited as fd 200 is not readable in a sandbox', { timeout: 90_000 }, async () => {
    const service = await spawnService({ SESSION_COMMAND: '/bin/bash --norc --noprofile -i' }, { extraFds: { 200: fd } });
    let term: TerminalClient | undefined;
    try {
      assert.ok(readFileSync(`/proc/${service.child.pid}/fdinfo/200`, 'utf8').length > 0, 'the service holds fd 200');
      const session = await openSession(service.url);
      term = session.term;
      const read = await run(term, '{ cat <&200; } 2>&1; echo "status $?"');
      assert.doesNotMatch(read, /TOP-SECRET-CONTENT/);
      assert.match(read, /Bad file descriptor[\s\S]*status 1/);
      assert.equal((await run(term, 'ls /proc/self/fd | sort -n | tr "\\n" " "')).trim(), '0 1 2 3', 'only stdio (and ls\'s own directory)');
      assert.match(await run(term, 'echo via-stderr >&2'), /via-stderr/, 'stderr is still the terminal');
      const everyFd = await run(term, 'for p in /proc/[0-9]*; do ls $p/fd 2>/dev/null; done | sort -un | tr "\\n" " "');
      assert.ok(!everyFd.trim().split(' ').includes('200'), `a sandbox process holds fd 200: ${everyFd}`);
    } finally {
      await term?.close();
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
