// Rejections the proxy answers itself, in the Anthropic error shape
// `{"type":"error","error":{"type","message"}}` so the CLI shows a sensible message.
// Each carries a short `reason` used as the metrics label (never user input).
import type { ServerResponse } from 'node:http';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface Rejection {
  status: number;
  type: AnthropicErrorType;
  /** Stable label for metrics and logs. */
  reason: string;
  /** Safe for the client: never contains a key, a credential or upstream internals. */
  message: string;
  retryAfterSeconds?: number;
  /** Force `connection: close` (e.g. an unread oversize body). */
  closeConnection?: boolean;
  /** For 405: the methods the path does accept. */
  allow?: string;
  /**
   * Whether a client may usefully retry. Refusals that cannot succeed on retry (bad request, bad or
   * ended credential, budget spent, no key) say `x-should-retry: false`, which the SDKs and the CLI
   * honour: they fail at once with the message instead of retrying for tens of seconds.
   */
  retryable?: boolean;
}

export function rejection(
  status: number,
  type: AnthropicErrorType,
  reason: string,
  message: string,
  extra: Pick<Rejection, 'retryAfterSeconds' | 'closeConnection' | 'allow' | 'retryable'> = {},
): Rejection {
  return { status, type, reason, message, ...extra };
}

export function anthropicErrorBody(type: AnthropicErrorType, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

export function sendRejection(res: ServerResponse, r: Rejection, method?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = anthropicErrorBody(r.type, r.message);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-proxy-rejection': r.reason,
  };
  if (r.retryAfterSeconds !== undefined) headers['retry-after'] = Math.max(1, Math.ceil(r.retryAfterSeconds));
  if (r.closeConnection) headers.connection = 'close';
  if (r.allow) headers.allow = r.allow;
  headers['x-should-retry'] = r.retryable ? 'true' : 'false';
  res.writeHead(r.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

/** An SSE error event, for failures after a stream's headers were sent (same shape the API streams). */
export function sseErrorEvent(type: AnthropicErrorType, message: string): string {
  return `event: error\ndata: ${anthropicErrorBody(type, message)}\n\n`;
}
