// Environment -> typed, validated, frozen config. Every knob of the service is declared here, with its
// default and a description (the README's configuration table is checked against this schema).
import { z } from 'zod';
import { boolVar, describeIssue, intVar, listVar, optionalString } from './config/env.ts';
import { parseHost } from './http/host-allowlist.ts';
import { kubernetesConfigShape } from './runtime/kubernetes/config.ts';
import { authConfigShape } from './auth/config.ts';
import { authConfigProblems } from './auth/safety.ts';
import { ConfigError } from './config/errors.ts';
import { sharedSecretProblems } from './config/shared-secret.ts';
import { historyConfigShape } from './history/config.ts';
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
  ALLOWED_HOSTS: listVar().refine((list) => list.every((h) => parseHost(h) !== null), 'must be a comma-separated list of host names or addresses, each optionally with `:port`')
    .describe('Extra host names (comma-separated, e.g. `192.168.49.2:30080`) the service answers besides loopback names and the hosts of ALLOWED_ORIGINS. A request for any other Host is refused with 421 (DNS rebinding); /healthz and /readyz answer any Host.'),
  METRICS_PORT: optionalString()
    .refine((v) => v === undefined || (/^\d{1,5}$/.test(v) && Number(v) <= 65535), 'must be a port number (0 picks a free port)')
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .describe('Port of a separate listener serving only /metrics (Prometheus). Unset: no metrics are served. Never on the public port.'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('Address the metrics listener binds to (`0.0.0.0` in a Pod, where a NetworkPolicy admits only Prometheus).'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  DB_PATH: z.string().min(1).default('.data/progress.db').describe('SQLite file holding progress (relative paths are from the working directory; `npm start` runs from the repository root).'),
  COURSES_DIR: z.string().min(1).default('courses').describe('Folder of courses, one sub-folder per course (relative to the working directory).'),
  WS_MAX_MESSAGE_BYTES: intVar(1024 * 1024, 1024, 64 * 1024 * 1024).describe('Largest WebSocket message accepted from a browser; bigger closes the socket with 1009.'),
  SCROLLBACK_BYTES: intVar(64 * 1024, 1024, 16 * 1024 * 1024).describe('With SCREEN_RESTORE=false: raw output kept per session and replayed when a viewer (re)attaches.'),
  SCREEN_RESTORE: boolVar(true).describe('Keep each session\'s screen in a headless terminal and send a (re)attaching viewer that exact screen (colours, cursor, alternate screen) plus SCROLLBACK_LINES of scrollback. `false`: replay the last SCROLLBACK_BYTES of raw output instead (cheaper, but a replay can start mid-redraw).'),
  SCROLLBACK_LINES: intVar(1000, 0, 100_000).describe('With SCREEN_RESTORE: lines of scrollback kept per session above its screen and sent on (re)attach (memory: about lines x columns x 12 bytes).'),
  PROXY_SHARED_SECRET: optionalString().describe('HMAC secret shared with the api-proxy to sign per-session credentials. Local mode generates one when unset.'),
  PROXY_SHARED_SECRET_FILE: optionalString().describe('File holding PROXY_SHARED_SECRET (a mounted Secret).'),
  ALLOW_UNSANDBOXED: boolVar(false).describe('DANGEROUS. Local mode only: run sessions without bubblewrap when it is unavailable. Every session then runs as the service user with full access.'),
  LOCAL_SANDBOX_MEMORY_MB: intVar(4096, 64, 1024 * 1024).describe('Local mode: memory budget of one whole sandbox in MiB (cgroup `memory.max`, its in-memory /tmp, home and /dev/shm included; no swap). Also the address-space limit of each of its processes (RLIMIT_AS), the only memory limit where cgroups are unavailable.'),
  LOCAL_SANDBOX_MAX_PROCS: intVar(256, 8, 100_000).describe('Local mode: processes one sandbox may have (cgroup `pids.max`; else RLIMIT_NPROC of its own uid when the service runs as root).'),
  LOCAL_SANDBOX_CPUS: z.coerce.number().min(0.05).max(1024).default(1).describe('Local mode: CPUs one sandbox may use (cgroup `cpu.max`, e.g. `0.5`). Not enforced where cgroups are unavailable.'),
  MAX_TOKENS_CEILING: intVar(128000, 1, 10_000_000).describe('Largest `max_tokens` one API request may ask for. The API proxy refuses more, and every sandbox\'s Claude Code gets the same value as `CLAUDE_CODE_MAX_OUTPUT_TOKENS`, so the two never disagree. Local mode: the embedded proxy uses this value. Kubernetes: the api-proxy Deployment reads the same ConfigMap key.'),
  API_PROXY_CONTROL_URL: optionalString().pipe(z.url({ protocol: /^https?$/ }).optional()).describe('Kubernetes: the api-proxy\'s internal port (its METRICS_PORT), e.g. `http://api-proxy-internal.claudecode-system.svc.cluster.local:9090`. The service pushes its live sessions there every second, signed with the shared secret; the api-proxy refuses the credential of any session no fresh push lists. Unset: no push, so the api-proxy refuses every session credential.'),
  ...authConfigShape,
  ...kubernetesConfigShape,
  ...historyConfigShape,
  ...warmConfigShape,
};

export const configSchema = z.object(configShape);
export type Config = Readonly<z.infer<typeof configSchema>>;

export { ConfigError };

/** Rules spanning several variables, checked once every variable parsed on its own. */
function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.MAX_SESSIONS_PER_USER > config.MAX_SESSIONS) problems.push(`MAX_SESSIONS_PER_USER: must not exceed MAX_SESSIONS (${config.MAX_SESSIONS})`);
  problems.push(...sharedSecretProblems(config), ...authConfigProblems(config));
  return problems;
}

/**
 * Reads the config from `env`; throws a ConfigError naming every problem at once: each bad variable, and
 * each broken rule between variables (auth modes, the proxy shared secret) among those that parsed.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(configShape)) {
    const parsed = (schema as z.ZodType).safeParse(env[name]);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => describeIssue(name, issue, env[name])));
  }
  const failed = new Set(problems.map((p) => p.slice(0, p.indexOf(':'))));
  // A rule about a variable that did not parse would only repeat its problem.
  const crossProblems = crossFieldProblems(values as Config).filter((p) => !p.split(':')[0]!.split(', ').some((n) => failed.has(n)));
  problems.push(...crossProblems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values as Config);
}
