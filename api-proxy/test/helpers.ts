// Shared test rig: the fake Anthropic API, a proxy on 127.0.0.1:0 in front of it, a log buffer, and
// small HTTP helpers (including raw sockets for request targets a normal client cannot send).
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { startFakeAnthropic, type FakeAnthropic } from '../../web-terminal/test/fakes/fake-anthropic.ts';
import { loadProxyConfig } from '../src/config.ts';
import { issueSessionCredential } from '../src/credentials.ts';
import { createLogger } from '../src/logger.ts';
import { createProxy, type Proxy, type ProxyDeps } from '../src/proxy.ts';
import { createProxyServer } from '../src/server.ts';

export const REAL_KEY = 'sk-ant-real-KEY-0123456789-abcdefghijklmnop';
export const SECRET = 'test-shared-secret-0123456789-abcdefghijklmnop';

export interface Rig {
  fake: FakeAnthropic;
  proxy: Proxy;
  url: string;
  port: number;
  registry: Registry;
  logs: () => string;
  credential(claims?: Partial<{ sessionId: string; userHash: string; expiresAt: Date }>): string;
  close(): Promise<void>;
}

export async function startRig(env: Record<string, string | undefined> = {}, deps: Omit<ProxyDeps, 'logger' | 'registry'> = {}): Promise<Rig> {
  const fake = await startFakeAnthropic();
  const config = loadProxyConfig({
    UPSTREAM_URL: fake.url,
    ANTHROPIC_API_KEY: REAL_KEY,
    PROXY_SHARED_SECRET: SECRET,
    LOG_LEVEL: 'debug',
    ...env,
  });
  let logText = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      logText += String(chunk);
      done();
    },
  });
  const registry = new Registry();
  const proxy = createProxy(config, { logger: createLogger('debug', sink), registry, ...deps });
  const server = createProxyServer(proxy.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    fake,
    proxy,
    url: `http://127.0.0.1:${port}`,
    port,
    registry,
    logs: () => logText,
    credential: (claims = {}) =>
      issueSessionCredential(
        {
          sessionId: claims.sessionId ?? 'sess-1',
          userHash: claims.userHash ?? 'user-a',
          expiresAt: claims.expiresAt ?? new Date(Date.now() + 3600_000),
        },
        SECRET,
      ),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await proxy.close();
      await fake.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function request(
  url: string,
  opts: { method?: string; path?: string; headers?: Record<string, string | number>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    // An options object, not a URL string: the path goes on the wire exactly as written (no normalising).
    const req = http.request(
      { hostname, port, path: opts.path ?? '/v1/messages?beta=true', method: opts.method ?? 'POST', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function messagesBody(overrides: Record<string, unknown> = {}, prompt = 'say hello'): string {
  return JSON.stringify({
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 1024,
    messages: [{ role: 'user', content: prompt }],
    ...overrides,
  });
}

export function apiHeaders(credential: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    'x-api-key': credential,
    ...extra,
  };
}

/** Sends bytes as they are and returns the raw response (status line first). */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', (err) => (out ? resolve(out) : reject(err)));
    socket.write(text);
    // The server closes after answering (connection: close); don't wait forever if it keeps the socket.
    setTimeout(() => socket.end(), 2000).unref();
  });
}

export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
