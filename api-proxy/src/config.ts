// Environment -> typed, validated, frozen proxy configuration (zod). Every knob and default lives here;
// README.md documents the same table (a test keeps the two in step).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isValidModelPattern } from './models.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ProxyConfig {
  readonly port: number;
  /** When set, /metrics is served only on this port (one sandboxes cannot reach), not on `port`. */
  readonly metricsPort: number | undefined;
  readonly host: string;
  /** Fixed upstream base URL; never derived from a request. */
  readonly upstreamUrl: URL;
  /** The real Anthropic key; undefined means "start, but not ready". */
  readonly anthropicApiKey: string | undefined;
  /** HMAC secret shared with web-terminal; undefined means no session credential can verify. */
  readonly sharedSecret: string | undefined;
  /** Compatibility: one static key also accepted (off by default). */
  readonly legacyDummyKey: string | undefined;
  readonly allowedModels: readonly string[];
  readonly maxTokensCeiling: number;
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
  readonly maxConcurrentPerCredential: number;
  readonly tokenBudgetPerSession: number;
  readonly tokenBudgetPerUser: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly upstreamIdleTimeoutMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** name -> [default shown in docs, description]; the README table is checked against this. */
export const CONFIG_VARIABLES: Readonly<Record<string, readonly [string, string]>> = {
  PORT: ['8080', 'TCP port of the standalone server.'],
  METRICS_PORT: ['(none)', 'Serve /metrics (and health) on this port only, so callers of the API port (sandboxes) cannot read metrics. Unset: /metrics is on PORT.'],
  HOST: ['127.0.0.1', 'Bind address (the container image sets 0.0.0.0).'],
  UPSTREAM_URL: ['https://api.anthropic.com', 'Fixed upstream base URL (http or https, may carry a path prefix).'],
  ANTHROPIC_API_KEY: ['(none)', 'The real key. Without it the proxy starts but is not ready and answers API calls with 503.'],
  ANTHROPIC_API_KEY_FILE: ['(none)', 'File holding the real key (a mounted Secret); wins over ANTHROPIC_API_KEY.'],
  PROXY_SHARED_SECRET: ['(none)', 'HMAC secret shared with web-terminal for session credentials, at least 32 bytes.'],
  PROXY_SHARED_SECRET_FILE: ['(none)', 'File holding the shared secret; wins over PROXY_SHARED_SECRET.'],
  LEGACY_DUMMY_KEY: ['(off)', 'Compatibility only: this one static key is also accepted (at least 8 chars).'],
  ALLOWED_MODELS: ['claude-*', 'Comma list of model ids; a trailing `*` matches any suffix.'],
  MAX_TOKENS_CEILING: ['128000', 'Largest `max_tokens` a request may ask for.'],
  MAX_BODY_BYTES: ['33554432', 'Request body cap in bytes (32 MiB).'],
  RATE_LIMIT_PER_MINUTE: ['120', 'Requests per minute per credential (token bucket); 0 = off.'],
  MAX_CONCURRENT_PER_CREDENTIAL: ['8', 'Requests in flight per credential; 0 = off.'],
  TOKEN_BUDGET_PER_SESSION: ['0', 'Tokens (input + output + cache) per session; 0 = off.'],
  TOKEN_BUDGET_PER_USER: ['0', 'Tokens per user hash per UTC day; 0 = off.'],
  UPSTREAM_CONNECT_TIMEOUT_MS: ['10000', 'TCP (and TLS) connect timeout to the upstream.'],
  UPSTREAM_IDLE_TIMEOUT_MS: ['60000', 'Longest silence from the upstream (before the response headers, and between body chunks) before the request fails. The API sends keep-alive `ping` events during long streams, so 60 s of silence means a stalled stream; non-streaming requests whose whole answer takes longer need a higher value.'],
  LOG_LEVEL: ['info', 'pino level: fatal, error, warn, info, debug, trace, silent.'],
};

const intVar = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((v) => v ?? def);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  PORT: intVar(8080, 0, 65535),
  METRICS_PORT: z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(1).max(65535)).optional(),
  HOST: z.string().trim().min(1).optional().transform((v) => v ?? '127.0.0.1'),
  UPSTREAM_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => v || 'https://api.anthropic.com')
    .pipe(z.url({ protocol: /^https?$/ }))
    .transform((v) => new URL(v))
    .refine((u) => !u.username && !u.password && !u.search && !u.hash, 'must not carry credentials, a query or a fragment'),
  ANTHROPIC_API_KEY: optionalText,
  PROXY_SHARED_SECRET: optionalText.refine(
    (v) => v === undefined || Buffer.byteLength(v) >= 32,
    'must be at least 32 bytes',
  ),
  LEGACY_DUMMY_KEY: optionalText.refine((v) => v === undefined || v.length >= 8, 'must be at least 8 characters'),
  ALLOWED_MODELS: z
    .string()
    .optional()
    .transform((v) => (v ?? 'claude-*').split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.length > 0, 'must name at least one model')
    .refine((list) => list.every(isValidModelPattern), 'each entry is a model id, optionally ending in `*`'),
  MAX_TOKENS_CEILING: intVar(128000, 1),
  MAX_BODY_BYTES: intVar(32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  RATE_LIMIT_PER_MINUTE: intVar(120, 0),
  MAX_CONCURRENT_PER_CREDENTIAL: intVar(8, 0),
  TOKEN_BUDGET_PER_SESSION: intVar(0, 0),
  TOKEN_BUDGET_PER_USER: intVar(0, 0),
  UPSTREAM_CONNECT_TIMEOUT_MS: intVar(10_000, 1),
  UPSTREAM_IDLE_TIMEOUT_MS: intVar(60_000, 1),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .transform((v) => v ?? 'info'),
});

/** A `*_FILE` variable wins over its plain twin; unreadable files are config errors, not silent fallbacks. */
function readSecretFile(env: NodeJS.ProcessEnv, name: string, problems: string[]): string | undefined {
  const path = env[`${name}_FILE`];
  if (path === undefined || path.trim() === '') return env[name];
  try {
    return readFileSync(path.trim(), 'utf8');
  } catch (err) {
    problems.push(`${name}_FILE: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

export function loadProxyConfig(env: NodeJS.ProcessEnv): ProxyConfig {
  const problems: string[] = [];
  const raw = {
    ...env,
    ANTHROPIC_API_KEY: readSecretFile(env, 'ANTHROPIC_API_KEY', problems),
    PROXY_SHARED_SECRET: readSecretFile(env, 'PROXY_SHARED_SECRET', problems),
  };
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    // Name the variable and the rule only: a value may be a secret.
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(`invalid api-proxy config: ${problems.join('; ')}`);
  const e = parsed.data;
  if (e.PROXY_SHARED_SECRET === undefined && e.LEGACY_DUMMY_KEY === undefined) {
    throw new ConfigError('invalid api-proxy config: PROXY_SHARED_SECRET: required (or set LEGACY_DUMMY_KEY)');
  }
  return Object.freeze({
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    host: e.HOST,
    upstreamUrl: e.UPSTREAM_URL,
    anthropicApiKey: e.ANTHROPIC_API_KEY,
    sharedSecret: e.PROXY_SHARED_SECRET,
    legacyDummyKey: e.LEGACY_DUMMY_KEY,
    allowedModels: Object.freeze(e.ALLOWED_MODELS),
    maxTokensCeiling: e.MAX_TOKENS_CEILING,
    maxBodyBytes: e.MAX_BODY_BYTES,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    maxConcurrentPerCredential: e.MAX_CONCURRENT_PER_CREDENTIAL,
    tokenBudgetPerSession: e.TOKEN_BUDGET_PER_SESSION,
    tokenBudgetPerUser: e.TOKEN_BUDGET_PER_USER,
    upstreamConnectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
    upstreamIdleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  });
}
