// The one outgoing connection pool, to the fixed UPSTREAM_URL (undici: measurably less CPU per request
// than node:http's client, see README). Adds connect and idle timeouts and turns transport failures into
// a small set of kinds the proxy maps to Anthropic-shaped errors.
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

export type UpstreamFailure = 'connect_timeout' | 'idle_timeout' | 'unreachable' | 'reset';

export interface UpstreamHandlers {
  onHeaders(status: number, headers: IncomingHttpHeaders): void;
  /** Return false to pause the upstream until `resume()` is called. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  /** May come after onHeaders (idle timeout or reset mid-body). Called at most once, never after onEnd. */
  onFailure(kind: UpstreamFailure): void;
}

export interface UpstreamCall {
  abort(): void;
  resume(): void;
}

export interface UpstreamOptions {
  baseUrl: URL;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function classify(err: Error & { code?: string }): UpstreamFailure {
  switch (err.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'idle_timeout';
    default:
      return UNREACHABLE.has(err.code ?? '') ? 'unreachable' : 'reset';
  }
}

class ClientGone extends Error {
  override name = 'ClientGone';
}

export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(options: UpstreamOptions) {
    this.pool = new Pool(options.baseUrl.origin, {
      connections: null,
      pipelining: 1,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
    });
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, '');
  }

  send(path: string, headers: Record<string, string>, body: Buffer, handlers: UpstreamHandlers): UpstreamCall {
    let controller: Dispatcher.DispatchController | undefined;
    let done = false;
    let abortRequested = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      fn();
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (abortRequested) c.abort(new ClientGone('client gone'));
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        if (!done) handlers.onHeaders(statusCode, responseHeaders);
      },
      onResponseData(c, chunk) {
        if (!done && !handlers.onData(chunk)) c.pause();
      },
      onResponseEnd() {
        finish(() => handlers.onEnd());
      },
      onResponseError(_c, err) {
        if (err instanceof ClientGone || abortRequested) {
          done = true;
          return;
        }
        finish(() => handlers.onFailure(classify(err)));
      },
    };
    this.pool.dispatch({ path: this.basePath + path, method: 'POST', headers, body }, handler);
    return {
      abort: () => {
        if (done) return;
        abortRequested = true;
        controller?.abort(new ClientGone('client gone'));
      },
      resume: () => controller?.resume(),
    };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
