// Shared pieces of the auth tests: token minting, a runtime that records what it is asked to start,
// and a small client that speaks as a given user.
import { EventEmitter } from 'node:events';
import { SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import type { SandboxSpec, SessionRuntime, Terminal } from '../../src/runtime/types.ts';
import type { Service } from '../../src/server.ts';
import { api } from '../helpers/service.ts';

export const HS_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const ISSUER = 'https://learn.example.test';
export const AUDIENCE = 'claudecode-web-terminal';

export const jwtEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  AUTH_MODE: 'jwt',
  AUTH_JWT_SECRET: HS_SECRET,
  AUTH_JWT_ISSUER: ISSUER,
  AUTH_JWT_AUDIENCE: AUDIENCE,
  AUTH_JWT_ADMIN_CLAIM: 'roles=admin',
  ...extra,
});

export interface MintOptions {
  secret?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  alg?: string;
}

/** An HS256 token for `sub` with the given extra claims. */
export function mintToken(sub: string, claims: JWTPayload = {}, opts: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(opts.audience ?? AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (opts.expiresIn ?? 300))
    .sign(new TextEncoder().encode(opts.secret ?? HS_SECRET));
}

/** An unsigned token (`alg: none`), as an attacker would hand-craft it. */
export function unsignedToken(payload: JWTPayload): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A user's view of the API: every call carries the same headers. */
export function as(service: Service, headers: Record<string, string>) {
  return (method: string, path: string, body?: unknown) => api(service, method, path, body, headers);
}

/** A terminal that echoes its input, like `cat` on a pty. */
function echoTerminal(): Terminal {
  const events = new EventEmitter();
  return {
    onData: (listener) => void events.on('data', listener),
    onExit: (listener) => void events.on('exit', listener),
    write: (data) => {
      events.emit('data', Buffer.from(data));
      return true;
    },
    onDrain: () => undefined,
    resize: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    detach: () => events.removeAllListeners(),
  };
}

/** A runtime that starts echo terminals and keeps every SandboxSpec it was given. */
export function recordingRuntime(): { runtime: SessionRuntime; specs: SandboxSpec[] } {
  const specs: SandboxSpec[] = [];
  const runtime: SessionRuntime = {
    kind: 'local',
    start: async (spec) => {
      specs.push(spec);
      return echoTerminal();
    },
    attach: async () => {
      throw new Error('not supported by the recording runtime');
    },
    stop: async () => undefined,
    list: async () => [],
    health: async () => ({ ok: true }),
    close: async () => undefined,
  };
  return { runtime, specs };
}
