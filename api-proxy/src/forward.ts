// Forwards one validated request and streams the answer back chunk by chunk (SSE events go out as they
// arrive; nothing is buffered except small error bodies, which are scrubbed of the real key).
// A client that goes away aborts the upstream request.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { anthropicErrorBody, rejection, sendRejection, sseErrorEvent, type Rejection } from './errors.ts';
import { buildUpstreamHeaders, filterResponseHeaders } from './headers.ts';
import type { ApiRoute } from './request-target.ts';
import type { UpstreamClient, UpstreamFailure } from './upstream.ts';
import { JsonUsageTap, SseUsageTap, type Usage, type UsageTap } from './usage.ts';

export interface ForwardOptions {
  req: IncomingMessage;
  res: ServerResponse;
  route: ApiRoute;
  upstreamPath: string;
  body: Buffer;
  realKey: string;
  upstream: UpstreamClient;
  onUpstreamHeaders(seconds: number, status: number): void;
  /** Called at most once, when the response ends or is cut short, with the usage it reported. */
  onUsage(usage: Usage): void;
  onFailure(kind: UpstreamFailure): void;
}

const MAX_ERROR_BODY_BYTES = 1024 * 1024;

const FAILURES: Record<UpstreamFailure, Rejection> = {
  connect_timeout: rejection(504, 'api_error', 'upstream_connect_timeout', 'timed out connecting to the upstream API', { retryable: true }),
  idle_timeout: rejection(504, 'api_error', 'upstream_idle_timeout', 'the upstream API stopped responding', { retryable: true }),
  unreachable: rejection(502, 'api_error', 'upstream_unreachable', 'the upstream API is unreachable', { retryable: true }),
  reset: rejection(502, 'api_error', 'upstream_reset', 'the upstream connection failed', { retryable: true }),
};

export function forwardToUpstream(o: ForwardOptions): void {
  const { res, realKey } = o;
  const headers = buildUpstreamHeaders(o.req.headers, realKey, o.body.length);
  const started = performance.now();
  let tap: UsageTap | undefined;
  let isSse = false;
  /** Whether the last byte sent to the client ended a line (SSE framing: see `onFailure`). */
  let atLineStart = true;
  let accounted = false;
  const account = () => {
    if (accounted) return;
    accounted = true;
    const usage = tap?.result();
    if (usage) o.onUsage(usage);
  };
  /** Set for status >= 400: the (small) error body is collected and scrubbed instead of streamed. */
  let errorBody: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[]; size: number } | undefined;

  const call = o.upstream.send(o.upstreamPath, headers, o.body, {
    onHeaders(status, upstreamHeaders) {
      o.onUpstreamHeaders((performance.now() - started) / 1000, status);
      if (res.destroyed) return;
      if (status >= 400) {
        errorBody = { status, headers: upstreamHeaders, chunks: [], size: 0 };
        return;
      }
      isSse = String(upstreamHeaders['content-type'] ?? '').startsWith('text/event-stream');
      if (o.route === 'messages') tap = isSse ? new SseUsageTap() : new JsonUsageTap();
      res.writeHead(status, filterResponseHeaders(upstreamHeaders, realKey));
      if (isSse) res.flushHeaders();
    },
    onData(chunk) {
      if (errorBody) {
        errorBody.size += chunk.length;
        if (errorBody.size <= MAX_ERROR_BODY_BYTES) errorBody.chunks.push(chunk);
        return true;
      }
      tap?.push(chunk);
      if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === 0x0a;
      return res.destroyed || res.write(chunk);
    },
    onEnd() {
      account();
      if (res.destroyed) return;
      if (errorBody) sendScrubbedError(res, errorBody, realKey);
      else res.end();
    },
    onFailure(kind) {
      o.onFailure(kind);
      account();
      if (res.destroyed || res.writableEnded) return;
      const r = FAILURES[kind];
      if (!res.headersSent) sendRejection(res, r);
      // A cut can fall inside an event: finish its line first, so our `event:` line starts a line of
      // its own and names the event `error` (the last `event:` field wins). SDKs then raise an API
      // error instead of failing to parse half a JSON line as an `event: ...in`-prefixed mess.
      else if (isSse) res.end((atLineStart ? '' : '\n') + sseErrorEvent(r.type, r.message));
      else res.destroy();
    },
  });

  res.on('drain', () => call.resume());
  res.once('close', () => {
    if (!res.writableFinished) call.abort();
    account();
  });
}

/** Error bodies are small: read whole so the real key can never be echoed back. */
function sendScrubbedError(
  res: ServerResponse,
  e: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[]; size: number },
  realKey: string,
): void {
  const text =
    e.size <= MAX_ERROR_BODY_BYTES
      ? Buffer.concat(e.chunks).toString('utf8').split(realKey).join('[redacted]')
      : anthropicErrorBody('api_error', `upstream error ${e.status}`);
  const headers = filterResponseHeaders(e.headers, realKey);
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(e.status, headers);
  res.end(text);
}
