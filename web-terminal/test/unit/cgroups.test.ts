// Where the sandboxes' cgroups go (v2, or v1 on hybrid hosts), what each budget writes, and what the
// service says when it cannot make cgroups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { budgetWrites, parseCgroupLayout } from '../../src/runtime/local/cgroups.ts';
import { createLocalRuntime } from '../../src/runtime/local/local-runtime.ts';
import { api, startTestService } from '../helpers/service.ts';

const HYBRID_MOUNTS = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('cgroup layout', () => {
  it('finds this process\'s cgroup v2 directory and its controllers', () => {
    const layout = parseCgroupLayout('0::/system.slice/web-terminal.service\n', '30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n', (dir) => {
      assert.equal(dir, '/sys/fs/cgroup/system.slice/web-terminal.service');
      return 'cpuset cpu io memory pids\n';
    });
    assert.deepEqual(layout, { v2: { dir: '/sys/fs/cgroup/system.slice/web-terminal.service', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }, v1: {} });
  });

  it('finds the v1 directories of a hybrid host, by controller', () => {
    const layout = parseCgroupLayout('4:memory:/process_api/abc\n8:pids:/\n1:cpu,cpuacct:/x\n0::/\n', HYBRID_MOUNTS, () => 'hugetlb');
    assert.deepEqual(layout.v1, { memory: '/sys/fs/cgroup/memory/process_api/abc', pids: '/sys/fs/cgroup/pids/', cpu: '/sys/fs/cgroup/cpu,cpuacct/x' });
    assert.deepEqual(layout.v2?.controllers, ['hugetlb']);
  });

  it('maps a cgroup namespace\'s mount root onto the path', () => {
    const layout = parseCgroupLayout('0::/kubepods/pod1/c1\n', '30 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', () => 'memory pids');
    assert.equal(layout.v2?.dir, '/sys/fs/cgroup/c1');
  });
});

describe('budget writes', () => {
  const budget = { memoryBytes: 256 * 1024 * 1024, maxProcs: 64, cpus: 1.5 };
  it('v2: memory without swap, killed as a group, processes and CPU quota', () => {
    const writes = Object.fromEntries(budgetWrites('v2', budget).map((w) => [w.file, w.value]));
    assert.deepEqual(writes, { 'memory.max': String(256 * 1024 * 1024), 'memory.swap.max': '0', 'memory.oom.group': '1', 'pids.max': '64', 'cpu.max': '150000 100000' });
  });
  it('v1: the same budget in v1 files', () => {
    const writes = Object.fromEntries(budgetWrites('v1', budget).map((w) => [w.file, w.value]));
    assert.deepEqual(writes, { 'memory.limit_in_bytes': String(256 * 1024 * 1024), 'memory.memsw.limit_in_bytes': String(256 * 1024 * 1024), 'pids.max': '64', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '150000' });
  });
});

describe('without cgroups', () => {
  it('says so at start-up and in /readyz, and keeps serving', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const runtime = await createLocalRuntime({ logger, proxySockets: null, allowUnsandboxed: false, memoryMb: 512, maxProcs: 64, cgroups: { available: false, problem: 'read-only cgroup file system' } });
    const service = await startTestService({}, { runtime });
    try {
      assert.ok(lines.some((l) => /cgroups unavailable: read-only cgroup file system/.test(l)), lines.join('\n'));
      const ready = await api(service, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      const check = (ready.body.checks as Array<{ name: string; ok: boolean; message?: string }>).find((c) => c.name === 'runtime');
      assert.equal(check?.ok, true);
      assert.match(check?.message ?? '', /no per-sandbox memory, CPU and process budget \(cgroups unavailable: read-only cgroup file system\)/);
    } finally {
      await service.close();
    }
  });
});
