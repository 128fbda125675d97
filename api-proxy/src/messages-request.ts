// Request bodies: read with a cap, parse, and check that they are Messages requests within policy
// (allowed model, max_tokens ceiling). What is checked is exactly what is sent: the original bytes go
// upstream only when no policy key can appear twice; otherwise the parsed value is re-serialised.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { rejection, type Rejection } from './errors.ts';
import { isModelAllowed } from './models.ts';
import type { ApiRoute } from './request-target.ts';

const contentBlock = z.looseObject({ type: z.string().min(1).max(100) });
// Claude Code 2.1.3xx also sends mid-conversation `system` turns (beta mid-conversation-system).
const message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(contentBlock)]),
});
const base = {
  model: z.string().min(1).max(200),
  messages: z.array(message),
  system: z.union([z.string(), z.array(contentBlock)]).optional(),
  tools: z.array(z.looseObject({})).optional(),
};
const messagesSchema = z.looseObject({
  ...base,
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
});
const countTokensSchema = z.looseObject(base);

/**
 * Top-level fields a request may carry: the Messages parameters the CLI and the SDKs use for a
 * conversation. Anything else is refused, including `mcp_servers` and `container`, which make the
 * upstream run things (MCP connectors, code execution) on the sandbox's behalf.
 */
const ALLOWED_FIELDS: ReadonlySet<string> = new Set([
  'model', 'messages', 'system', 'tools', 'tool_choice', 'metadata', 'max_tokens', 'stream', 'thinking',
  'context_management', 'output_config', 'output_format', 'safeguards', 'temperature', 'top_p', 'top_k',
  'stop_sequences', 'service_tier',
]);
const SERVER_FEATURES: ReadonlySet<string> = new Set(['mcp_servers', 'container']);

/** Refuses fields outside the allowlist and tools the upstream would execute (web search/fetch, code execution, ...). */
function checkServerFeatures(body: Record<string, unknown>): Rejection | null {
  for (const field of Object.keys(body)) {
    if (SERVER_FEATURES.has(field)) {
      return rejection(400, 'invalid_request_error', 'server_feature_not_allowed', `\`${field}\` is not allowed by the proxy`);
    }
    if (!ALLOWED_FIELDS.has(field)) return rejection(400, 'invalid_request_error', 'field_not_allowed', 'a request field is not allowed by the proxy');
  }
  const tools = (body.tools ?? []) as Array<{ type?: unknown }>;
  // Custom (client-executed) tools have no `type`, or `type: "custom"`; every other type runs upstream.
  if (tools.some((t) => t.type !== undefined && t.type !== 'custom')) {
    return rejection(400, 'invalid_request_error', 'server_tool_not_allowed', 'server-executed tools are not allowed by the proxy');
  }
  return null;
}

export interface ValidatedBody {
  bytes: Buffer;
  model: string;
  stream: boolean;
}

export interface BodyPolicy {
  maxBodyBytes: number;
  allowedModels: readonly string[];
  maxTokensCeiling: number;
}

const tooLarge = (max: number) =>
  rejection(413, 'request_too_large', 'body_too_large', `request body exceeds ${max} bytes`, { closeConnection: true });

/** Reads the whole request body, refusing as soon as it passes the cap (Content-Length is checked first). */
export function readCappedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | Rejection> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.resolve(tooLarge(maxBytes));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | Rejection) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', () => finish(rejection(400, 'invalid_request_error', 'client_aborted', 'request aborted')));
    req.once('close', () => finish(rejection(400, 'invalid_request_error', 'client_aborted', 'request aborted')));
  });
}

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const mediaType = value.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/json';
}

export function validateBody(
  route: ApiRoute,
  contentType: string | undefined,
  raw: Buffer,
  policy: BodyPolicy,
): ValidatedBody | Rejection {
  if (!isJsonContentType(contentType)) {
    return rejection(415, 'invalid_request_error', 'bad_content_type', 'content-type must be application/json');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return rejection(400, 'invalid_request_error', 'bad_json', 'request body is not valid JSON');
  }
  const parsed = (route === 'messages' ? messagesSchema : countTokensSchema).safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? first.path.join('.') || 'body' : 'body';
    return rejection(400, 'invalid_request_error', 'bad_body', `invalid Messages request at ${where}`);
  }
  const body = parsed.data as { model: string; max_tokens?: unknown; stream?: boolean };
  const serverFeature = checkServerFeatures(parsed.data);
  if (serverFeature) return serverFeature;
  if (!isModelAllowed(body.model, policy.allowedModels)) {
    return rejection(403, 'permission_error', 'model_not_allowed', 'this model is not allowed by the proxy');
  }
  if (body.max_tokens !== undefined) {
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      return rejection(400, 'invalid_request_error', 'bad_body', 'invalid Messages request at max_tokens');
    }
    if (body.max_tokens > policy.maxTokensCeiling) {
      return rejection(
        400,
        'invalid_request_error',
        'max_tokens_too_large',
        `max_tokens exceeds the proxy ceiling of ${policy.maxTokensCeiling}`,
      );
    }
  }
  const bytes = policyKeysAreUnambiguous(raw) ? raw : Buffer.from(JSON.stringify(json));
  return { bytes, model: body.model, stream: body.stream === true };
}

/**
 * True when no policy key can occur twice, so every JSON parser reads the value that was checked
 * (parsers disagree on duplicate keys: first wins in some, last in others). Without any `\u` escape a
 * key can only be spelled literally, so counting the literal spellings is exact. Re-serialising instead
 * costs more than parsing on large bodies, hence this fast path.
 */
export function policyKeysAreUnambiguous(raw: Buffer): boolean {
  return (
    raw.indexOf('\\u') === -1 &&
    occursAtMostOnce(raw, '"model"') &&
    occursAtMostOnce(raw, '"max_tokens"') &&
    // A tool's `type` decides whether the upstream executes it, and tool objects are many: with tools
    // present the checked value is always re-serialised rather than counting every `"type"`.
    raw.indexOf('"tools"') === -1
  );
}

function occursAtMostOnce(raw: Buffer, needle: string): boolean {
  const first = raw.indexOf(needle);
  return first === -1 || raw.indexOf(needle, first + 1) === -1;
}
