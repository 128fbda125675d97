// Environment -> typed, validated, frozen config. Every knob of the service is declared here, with its
// default and a description (the README's configuration table is checked against this schema).
import { z } from 'zod';
import { boolVar, describeIssues, intVar, listVar, optionalString } from './config/env.ts';
import { kubernetesConfigShape } from './runtime/kubernetes/config.ts';
import { authConfigShape } from './auth/config.ts';
import { warmConfigShape } from './sessions/warm-sandboxes.ts';

export const configShape = {
  HOST: z.string().min(1).default('127.0.0.1').describe('Address to listen on. Binding wider than loopback is an operator decision.'),
  PORT: intVar(3000, 0, 65535).describe('HTTP port (0 picks a free port).'),
  RUNTIME: z.enum(['local', 'kubernetes']).default('local').describe('Where sandboxes run: `local` (bubblewrap) or `kubernetes` (a Pod per session).'),
  MAX_SESSIONS: intVar(4, 1, 10_000).describe('Sessions that may exist at once, all users together.'),
  MAX_SESSIONS_PER_USER: intVar(2, 1, 10_000).describe('Sessions one user may have at once.'),
  SESSION_CREATES_PER_MINUTE: intVar(10, 1, 10_000).describe('Session creations one user may make per minute.'),
  SESSION_TIMEOUT_SECONDS: intVar(7200, 10, 7 * 24 * 3600).describe('Hard lifetime of a session.'),
  IDLE_TIMEOUT_SECONDS: intVar(1800, 1, 7 * 24 * 3600).describe('A session with no viewer and no input for this long is ended.'),
  RECONNECT_GRACE_SECONDS: intVar(120, 0, 24 * 3600).describe('A viewer whose socket dropped always gets at least this long to come back before the session is reaped as idle.'),
  SESSION_COMMAND: optionalString().describe('Program run in each sandbox (a shell command line). Default: `claude` when the Claude Code CLI is installed, else a login shell.'),
  ALLOWED_ORIGINS: listVar().describe('Extra origins (comma-separated, e.g. `https://learn.example.org`) allowed to open the WebSocket, call the API from a browser and frame the page, besides the page\'s own origin.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  DB_PATH: z.string().min(1).default('.data/progress.db').describe('SQLite file holding progress (relative paths are from the working directory; `npm start` runs from the repository root).'),
  COURSES_DIR: z.string().min(1).default('courses').describe('Folder of courses, one sub-folder per course (relative to the working directory).'),
  WS_MAX_MESSAGE_BYTES: intVar(1024 * 1024, 1024, 64 * 1024 * 1024).describe('Largest WebSocket message accepted from a browser; bigger closes the socket with 1009.'),
  SCROLLBACK_BYTES: intVar(64 * 1024, 1024, 16 * 1024 * 1024).describe('Output kept per session and replayed when a viewer (re)attaches.'),
  PROXY_SHARED_SECRET: optionalString().describe('HMAC secret shared with the api-proxy to sign per-session credentials. Local mode generates one when unset.'),
  PROXY_SHARED_SECRET_FILE: optionalString().describe('File holding PROXY_SHARED_SECRET (a mounted Secret).'),
  ALLOW_UNSANDBOXED: boolVar(false).describe('DANGEROUS. Local mode only: run sessions without bubblewrap when it is unavailable. Every session then runs as the service user with full access.'),
  LOCAL_SANDBOX_MEMORY_MB: intVar(4096, 64, 1024 * 1024).describe('Local mode: address-space limit per sandbox process (RLIMIT_AS, MiB).'),
  LOCAL_SANDBOX_MAX_PROCS: intVar(256, 8, 100_000).describe('Local mode: process limit inside one sandbox.'),
  ...authConfigShape,
  ...kubernetesConfigShape,
  ...warmConfigShape,
};

export const configSchema = z.object(configShape);
export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads the config from `env`; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked = Object.fromEntries(Object.keys(configShape).map((k) => [k, env[k]]));
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, env));
  if (parsed.data.MAX_SESSIONS_PER_USER > parsed.data.MAX_SESSIONS) {
    throw new ConfigError([`MAX_SESSIONS_PER_USER: must not exceed MAX_SESSIONS (${parsed.data.MAX_SESSIONS})`]);
  }
  if (parsed.data.WARM_SANDBOXES > 0 && parsed.data.RUNTIME !== 'local') {
    throw new ConfigError(['WARM_SANDBOXES: warm sandboxes are only available with RUNTIME=local so far']);
  }
  return Object.freeze(parsed.data);
}
