// The auth configuration's rules (part of the config's one validation, and checked again by createAuth):
// what each mode needs, and refusing an unauthenticated service on a network address unless asked for.
import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { ConfigError } from '../config/errors.ts';
import { isLoopbackHost } from './cidr.ts';
import { MIN_SECRET_BYTES } from './jwt.ts';

type AuthConfig = Pick<Config,
  | 'HOST' | 'AUTH_MODE' | 'AUTH_ALLOW_UNAUTHENTICATED_NETWORK' | 'AUTH_TRUSTED_PROXIES'
  | 'AUTH_JWT_SECRET' | 'AUTH_JWT_SECRET_FILE' | 'AUTH_JWKS_FILE' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE'>;

/** Every problem with the auth configuration, one sentence each; empty when it is fine. */
export function authConfigProblems(config: AuthConfig): string[] {
  const problems: string[] = [];
  if (config.AUTH_MODE === 'none' && !isLoopbackHost(config.HOST) && !config.AUTH_ALLOW_UNAUTHENTICATED_NETWORK) {
    problems.push(
      `AUTH_MODE: "none" on HOST=${config.HOST} would give anyone who can reach the port a sandbox. ` +
      'Listen on loopback (HOST=127.0.0.1), use AUTH_MODE=trusted-header or jwt, ' +
      'or set AUTH_ALLOW_UNAUTHENTICATED_NETWORK=true if that is really intended',
    );
  }
  if (config.AUTH_MODE === 'trusted-header' && config.AUTH_TRUSTED_PROXIES.length === 0) {
    problems.push('AUTH_TRUSTED_PROXIES: required with AUTH_MODE=trusted-header (the addresses of the authenticating proxy, e.g. 10.42.0.0/16)');
  }
  if (config.AUTH_MODE === 'jwt') {
    const sources = [config.AUTH_JWT_SECRET, config.AUTH_JWT_SECRET_FILE, config.AUTH_JWKS_FILE, config.AUTH_JWKS_URL].filter((v) => v !== undefined);
    if (sources.length !== 1) {
      problems.push('AUTH_JWT_SECRET, AUTH_JWT_SECRET_FILE, AUTH_JWKS_FILE, AUTH_JWKS_URL: exactly one is required with AUTH_MODE=jwt');
    }
    if (config.AUTH_JWT_SECRET !== undefined && Buffer.byteLength(config.AUTH_JWT_SECRET) < MIN_SECRET_BYTES) {
      problems.push(`AUTH_JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    if (!config.AUTH_JWT_ISSUER) problems.push('AUTH_JWT_ISSUER: required with AUTH_MODE=jwt');
    if (!config.AUTH_JWT_AUDIENCE) problems.push('AUTH_JWT_AUDIENCE: required with AUTH_MODE=jwt');
  }
  return problems;
}

/** Throws a ConfigError naming every problem; called by createAuth before anything listens. */
export function assertAuthConfigSafe(config: AuthConfig): void {
  const problems = authConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** What is wrong with a secret file (unreadable, too short); empty when it is usable. */
function secretFileProblems(path: string, name: string): string[] {
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch (err) {
    return [`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`];
  }
  return Buffer.byteLength(secret) < MIN_SECRET_BYTES ? [`${name}: the secret in ${path} must be at least ${MIN_SECRET_BYTES} bytes`] : [];
}

/** Reads a secret file, trimmed; a missing or short file is a configuration error. */
export function readSecretFile(path: string, name: string): string {
  const problems = secretFileProblems(path, name);
  if (problems.length > 0) throw new ConfigError(problems);
  return readFileSync(path, 'utf8').trim();
}
