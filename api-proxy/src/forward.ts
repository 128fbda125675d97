// Forwards one validated request and streams the answer back chunk by chunk (SSE events go out as they
// arrive; nothing is buffered except small error bodies, which are scrubbed of the real key).
// A client that goes away aborts the upstream request.
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  onUpstreamHeaders(seconds: number): void;
  /** Called at most once, when the response ends or is cut short, with the usage it reported. */
  onUsage(usage: Usage): void;
  onFailure(kind: UpstreamFailure): void;
}

const MAX_ERROR_BODY_BYTES = 1024 * 1024;

const FAILURES: Record<UpstreamFailure, Rejection> = {
  connect_timeout: rejection(504, 'api_error', 'upstream_connect_timeout', 'timed out connecting to the upstream API'),
  idle_timeout: rejection(504, 'api_error', 'upstream_idle_timeout', 'the upstream API stopped responding'),
  unreachable: rejection(502, 'api_error', 'upstream_unreachable', 'the upstream API is unreachable'),
  reset: rejection(502, 'api_error', 'upstream_reset', 'the upstream connection failed'),
};

export function forwardToUpstream(o: ForwardOptions): void {
  const { res } = o;
  const headers = buildUpstreamHeaders(o.req.headers, o.realKey, o.body.length);
  const started = performance.now();
  let tap: UsageTap | undefined;
  let isSse = false;
  let accounted = false;
  const account = () => {
    if (accounted) return;
    accounted = true;
    const usage = tap?.result();
    if (usage) o.onUsage(usage);
  };

  const call = o.upstream.send(o.upstreamPath, headers, o.body, {
    onResponse(upstreamRes) {
      o.onUpstreamHeaders((performance.now() - started) / 1000);
      const status = upstreamRes.statusCode ?? 502;
      if (status >= 400) {
        relayErrorResponse(upstreamRes, res, status, o.realKey);
        return;
      }
      isSse = String(upstreamRes.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (o.route === 'messages') tap = isSse ? new SseUsageTap() : new JsonUsageTap();
      res.writeHead(status, filterResponseHeaders(upstreamRes.headers, o.realKey));
      if (isSse) res.flushHeaders();
      upstreamRes.on('data', (chunk: Buffer) => {
        tap?.push(chunk);
        if (!res.write(chunk)) upstreamRes.pause();
      });
      res.on('drain', () => upstreamRes.resume());
      upstreamRes.on('end', () => {
        account();
        res.end();
      });
    },
    onFailure(kind) {
      o.onFailure(kind);
      account();
      if (res.destroyed || res.writableEnded) return;
      const r = FAILURES[kind];
      if (!res.headersSent) sendRejection(res, r);
      else if (isSse) res.end(sseErrorEvent(r.type, r.message));
      else res.destroy();
    },
  });

  res.once('close', () => {
    if (!res.writableFinished) call.abort();
    account();
  });
}

/** Error bodies are small: read them whole so the real key can never be echoed back. */
function relayErrorResponse(upstreamRes: IncomingMessage, res: ServerResponse, status: number, realKey: string): void {
  const chunks: Buffer[] = [];
  let size = 0;
  upstreamRes.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
  });
  upstreamRes.on('end', () => {
    if (res.destroyed) return;
    const text =
      size <= MAX_ERROR_BODY_BYTES
        ? Buffer.concat(chunks).toString('utf8').split(realKey).join('[redacted]')
        : anthropicErrorBody('api_error', `upstream error ${status}`);
    const headers = filterResponseHeaders(upstreamRes.headers, realKey);
    delete headers['content-length'];
    headers['content-length'] = Buffer.byteLength(text);
    res.writeHead(status, headers);
    res.end(text);
  });
}
