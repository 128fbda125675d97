// Runs the pinned Claude Code CLI (the real native binary from node_modules) against a base URL,
// with an empty home and the switches that keep it from contacting anything else.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
export const CLAUDE_BIN = join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'bin', 'claude.exe');

export const QUIET_ENV = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
};

export interface CliRun {
  code: number | null;
  output: string;
  ms: number;
}

/** `claude -p PROMPT ...args` with stdin closed; resolves when it exits (or is killed at `timeoutMs`). */
export function runPrint(baseUrl: string, apiKey: string, prompt: string, opts: { args?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  const home = mkdtempSync(join(tmpdir(), 'cli-home-'));
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(CLAUDE_BIN, ['-p', prompt, ...(opts.args ?? [])], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: apiKey, ...QUIET_ENV, ...opts.env },
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
      maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      removeHome(home);
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, output: `${stdout}${stderr}`, ms: Date.now() - started });
    });
    child.stdin?.end();
  });
}

/** Removes a CLI home; retried, as a CLI process that was just killed may still be finishing a write in it. */
export function removeHome(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/** A home with the onboarding done and `apiKey` approved, so the full-screen mode starts offline. */
export function seededHome(apiKey: string, workDir: string): { home: string; dispose(): void } {
  const home = mkdtempSync(join(tmpdir(), 'cli-tui-home-'));
  writeFileSync(join(home, '.claude.json'), JSON.stringify({
    hasCompletedOnboarding: true,
    customApiKeyResponses: { approved: [apiKey.slice(-20)], rejected: [] },
    projects: { [workDir]: { hasTrustDialogAccepted: true } },
  }));
  return { home, dispose: () => removeHome(home) };
}
