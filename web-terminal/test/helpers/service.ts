// Starts the real service on an ephemeral port for tests, with quiet logs.
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/server.ts';
import type { Service, ServiceOverrides } from '../../src/server.ts';

export async function startTestService(env: Record<string, string> = {}, overrides: ServiceOverrides = {}): Promise<Service> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DB_PATH: ':memory:',
    LOG_LEVEL: 'silent',
    SESSION_COMMAND: '/bin/bash --norc --noprofile -i',
    ...env,
  });
  return startService(config, { logger: pino({ level: env.LOG_LEVEL ?? 'silent' }), proxyEnv: {}, ...overrides });
}

export async function api(service: Service, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json as Record<string, unknown> & { error?: { code: string; message: string } } };
}
