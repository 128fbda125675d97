// The control endpoint of the standalone proxy, on its internal port only (METRICS_PORT: sandboxes
// can reach the API port alone). `POST /control/sessions` takes a web-terminal's snapshot of its
// live sessions, signed with the shared secret (control-signature.ts), and answers with what the
// upstream recently did to those sessions, so the web-terminal can tell the learners' pages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CONTROL_SIGNATURE_HEADER, verifyControlSignature } from './control-signature.ts';
import { anthropicErrorBody } from './errors.ts';
import type { SnapshotStore } from './live-sessions.ts';
import type { OutcomeBook } from './upstream-outcomes.ts';

export const CONTROL_PATH = '/control/sessions';
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const ID = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/);

const snapshotSchema = z.strictObject({
  source: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:-]+$/),
  sessions: z.array(z.strictObject({ id: ID, userHash: ID })).max(20_000),
  ttlMs: z.number().int().min(1000).max(60_000),
});

/** What a push is answered with. */
export interface ControlReply {
  /** Whether the proxy holds an upstream key (the web-terminal shows this to operators and pages). */
  apiKeyConfigured: boolean;
  /** Latest known outcome per session of the snapshot: a reason code, or null (requests succeed). */
  outcomes: Record<string, string | null>;
}

export interface ControlDeps {
  secret: string;
  store: SnapshotStore;
  outcomes: OutcomeBook;
  apiKeyConfigured: () => boolean;
  logger: Logger;
}

export function isControlRequest(req: IncomingMessage): boolean {
  return req.url === CONTROL_PATH;
}

export function createControlHandler(deps: ControlDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST') return send(res, 405, 'method_not_allowed', 'use POST', { allow: 'POST' });
    void readBody(req).then((body) => {
      if (body === null) return send(res, 413, 'body_too_large', 'snapshot too large', { connection: 'close' });
      const verdict = verifyControlSignature(deps.secret, header(req), body);
      if (!verdict.ok) return send(res, 401, verdict.reason, 'bad or stale signature');
      let parsed;
      try {
        parsed = snapshotSchema.safeParse(JSON.parse(body.toString('utf8')));
      } catch {
        return send(res, 400, 'bad_json', 'snapshot is not JSON');
      }
      if (!parsed.success) return send(res, 400, 'bad_snapshot', 'snapshot does not match the schema');
      const accepted = deps.store.accept(parsed.data, verdict.stamp);
      if (accepted !== 'ok') return send(res, 409, accepted, accepted === 'replayed' ? 'a newer snapshot was already accepted' : 'too many sources');
      const reply: ControlReply = {
        apiKeyConfigured: deps.apiKeyConfigured(),
        outcomes: deps.outcomes.for(parsed.data.sessions.map((s) => s.id)),
      };
      const text = JSON.stringify(reply);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }).catch((err: unknown) => {
      deps.logger.warn({ err: { message: (err as Error)?.message } }, 'control request failed');
      if (!res.headersSent) send(res, 500, 'internal', 'internal error');
    });
  };
}

function header(req: IncomingMessage): string | undefined {
  const value = req.headers[CONTROL_SIGNATURE_HEADER];
  return typeof value === 'string' ? value : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

function send(res: ServerResponse, status: number, reason: string, message: string, headers: Record<string, string> = {}): void {
  const type = status === 401 ? 'authentication_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  const body = anthropicErrorBody(type, message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-proxy-rejection': reason, 'x-should-retry': 'false', ...headers });
  res.end(body);
}
