// The error catalog of the REST API: every error a client can see has a code, a status and a message.
import type { ErrorRequestHandler, Response } from 'express';

export const errorCatalog = {
  bad_request: 400,
  invalid_json: 400,
  unauthenticated: 401,
  forbidden_origin: 403,
  not_found: 404,
  payload_too_large: 413,
  conflict: 409,
  session_limit: 429,
  user_session_limit: 429,
  rate_limited: 429,
  wrong_answer: 422,
  not_ready: 503,
  runtime_unavailable: 503,
  shutting_down: 503,
  internal: 500,
  host_not_allowed: 421,
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, opts: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = errorCatalog[code];
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export function sendError(res: Response, err: ApiError): void {
  if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
  res.status(err.status).json({ error: { code: err.code, message: err.message } });
}

/** Last express error handler: known errors keep their code, everything else becomes a bare 500. */
export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof ApiError) return sendError(res, err);
    const status = typeof err?.status === 'number' ? err.status : 500;
    if (err?.type === 'entity.too.large') return sendError(res, new ApiError('payload_too_large', 'request body is too large'));
    if (err?.type === 'entity.parse.failed') return sendError(res, new ApiError('invalid_json', 'request body is not valid JSON'));
    if (status >= 400 && status < 500) return sendError(res, new ApiError('bad_request', 'bad request'));
    log.error({ err }, 'unhandled request error');
    sendError(res, new ApiError('internal', 'internal error'));
  };
}
