// The one outgoing connection pool, to the fixed UPSTREAM_URL. Adds connect and idle timeouts and
// turns transport failures into a small set of kinds the proxy maps to Anthropic-shaped errors.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export type UpstreamFailure = 'connect_timeout' | 'idle_timeout' | 'unreachable' | 'reset';

export interface UpstreamHandlers {
  onResponse(res: IncomingMessage): void;
  /** May come after onResponse (idle timeout or reset mid-body). Called at most once. */
  onFailure(kind: UpstreamFailure): void;
}

export interface UpstreamCall {
  abort(): void;
}

export interface UpstreamOptions {
  baseUrl: URL;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class UpstreamClient {
  private readonly isHttps: boolean;
  private readonly agent: http.Agent;
  private readonly basePath: string;

  constructor(private readonly options: UpstreamOptions) {
    this.isHttps = options.baseUrl.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo' as const, noDelay: true };
    this.agent = this.isHttps ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, '');
  }

  send(path: string, headers: OutgoingHttpHeaders, body: Buffer, handlers: UpstreamHandlers): UpstreamCall {
    const { baseUrl, connectTimeoutMs, idleTimeoutMs } = this.options;
    const transport = this.isHttps ? https : http;
    const req = transport.request({
      protocol: baseUrl.protocol,
      hostname: baseUrl.hostname.replace(/^\[|\]$/g, ''),
      port: baseUrl.port || undefined,
      method: 'POST',
      path: this.basePath + path,
      headers,
      agent: this.agent,
    });
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (kind: UpstreamFailure) => {
      clearTimeout(connectTimer);
      if (settled) return;
      settled = true;
      req.destroy();
      handlers.onFailure(kind);
    };

    req.on('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => fail('connect_timeout'), connectTimeoutMs);
      socket.once(this.isHttps ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.setTimeout(idleTimeoutMs, () => fail('idle_timeout'));
    req.on('error', (err: NodeJS.ErrnoException) => fail(UNREACHABLE.has(err.code ?? '') ? 'unreachable' : 'reset'));
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      res.on('error', () => fail('reset'));
      res.on('close', () => {
        if (!res.complete) fail('reset');
        else settled = true;
      });
      handlers.onResponse(res);
    });
    req.end(body);

    return {
      abort: () => {
        clearTimeout(connectTimer);
        settled = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
