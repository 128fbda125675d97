// The HMAC secret shared with the api-proxy: required with Kubernetes (the api-proxy is another Deployment),
// generated per start in local mode, and never shorter than the api-proxy accepts.
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

export const MIN_SHARED_SECRET_BYTES = 32;

interface SecretSettings {
  RUNTIME: 'local' | 'kubernetes';
  PROXY_SHARED_SECRET?: string | undefined;
  PROXY_SHARED_SECRET_FILE?: string | undefined;
}

/** Every problem with the shared-secret settings, one sentence each (part of the config's one validation). */
export function sharedSecretProblems(config: SecretSettings): string[] {
  if (config.PROXY_SHARED_SECRET !== undefined) {
    return Buffer.byteLength(config.PROXY_SHARED_SECRET) < MIN_SHARED_SECRET_BYTES ? [`PROXY_SHARED_SECRET: ${tooShort}`] : [];
  }
  if (config.PROXY_SHARED_SECRET_FILE === undefined && config.RUNTIME === 'kubernetes') {
    return ['PROXY_SHARED_SECRET, PROXY_SHARED_SECRET_FILE: one is required with RUNTIME=kubernetes (the api-proxy checks credentials signed with it)'];
  }
  return [];
}

const tooShort = `must be at least ${MIN_SHARED_SECRET_BYTES} bytes (the api-proxy refuses shorter ones)`;

/**
 * The configured secret (the variable, else the file's trimmed content, checked like the variable when
 * the service starts: the file is mounted at run time); undefined when none is configured.
 */
export function readSharedSecret(config: SecretSettings): string | undefined {
  if (config.PROXY_SHARED_SECRET) return config.PROXY_SHARED_SECRET;
  if (!config.PROXY_SHARED_SECRET_FILE) return undefined;
  let secret: string;
  try {
    secret = readFileSync(config.PROXY_SHARED_SECRET_FILE, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([`PROXY_SHARED_SECRET_FILE: cannot read ${config.PROXY_SHARED_SECRET_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  if (Buffer.byteLength(secret) < MIN_SHARED_SECRET_BYTES) throw new ConfigError([`PROXY_SHARED_SECRET_FILE: the secret in ${config.PROXY_SHARED_SECRET_FILE} ${tooShort}`]);
  return secret;
}
