// Runs one command in a local sandbox built by the production bubblewrap argv, with a managed
// settings file of the test's choosing (the service always binds the real one). The sandbox's only
// way out is a unix socket piped straight to the fake API, as the proxy socket is in production.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBwrapArgs, sandboxEnv } from '../../src/runtime/local/bwrap-args.ts';
import { checkBwrap } from '../../src/runtime/local/bwrap-check.ts';
import { prepareHostFiles, systemLinks } from '../../src/runtime/local/host-files.ts';
import type { FakeAnthropic } from '../fakes/fake-anthropic.ts';

export interface DirectSandbox {
  /** Runs `command` (a shell command line) with the given managed settings (JSON text), or the real file. */
  run(command: string, opts?: { managedSettings?: string; workspaceDir?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startDirectSandbox(fake: FakeAnthropic): Promise<DirectSandbox> {
  const bwrap = await checkBwrap();
  if (!bwrap.available || !bwrap.path) throw new Error(`these tests need bubblewrap: ${bwrap.problem}`);
  const dir = mkdtempSync(join(tmpdir(), 'direct-sandbox-'));
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'upstream.sock');
  const open = new Set<net.Socket>();
  const pipe = net.createServer((client) => {
    const upstream = net.connect(fake.port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => pipe.listen(socketPath, () => resolve()));
  chmodSync(socketPath, 0o666);
  const host = prepareHostFiles();
  let runs = 0;

  return {
    async run(command, opts = {}) {
      let managedSettings = host.files.managedSettings;
      if (opts.managedSettings !== undefined) {
        managedSettings = join(dir, `managed-settings-${(runs += 1)}.json`);
        writeFileSync(managedSettings, opts.managedSettings, { mode: 0o644 });
      }
      const args = buildBwrapArgs({
        systemLinks: systemLinks(),
        files: { ...host.files, managedSettings, proxySocket: socketPath },
        workspaceDir: opts.workspaceDir ?? null,
        sessionId: 'direct',
        command: ['/bin/sh', '-c', command],
        tmpSizeBytes: 256 * 1024 * 1024,
        homeSizeBytes: 256 * 1024 * 1024,
        shmSizeBytes: 64 * 1024 * 1024,
      });
      return new Promise((resolve) => {
        const env = sandboxEnv({ sessionId: 'direct', credential: 'session-credential-for-direct-runs', proxyAvailable: true, extra: {} });
        execFile(bwrap.path!, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => pipe.close(() => resolve()));
      host.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
