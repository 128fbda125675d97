// A fake Anthropic Messages API that the real Claude Code CLI and the api-proxy accept (see
// shared/design/claude-code-facts.md §2). It records every request, answers JSON or SSE, and is
// scripted by the prompt:
//   [[tool:NAME {json}]]  one tool_use step per request (only when the request has tools), counted by
//                         the tool_result turns after the latest user text turn; then
//                         "FINAL ANSWER.\ntool_result(is_error=…): <first 300 chars>"
//   [[text:...]]          the reply text (default "Hello from the fake Anthropic API!")
//   [[delay:MS]]          pause between SSE events (also `sseDelayMs`, for every stream)
// `output_config.format` json_schema gets JSON synthesised from the schema; a credential containing
// `fail-NNN` gets HTTP NNN in the Anthropic error envelope. Usage numbers are deterministic:
// input_tokens = ceil(body bytes / 4), output_tokens = ceil(reply chars / 4) (+ 10 per tool_use).
// Run alone: `node --import tsx web-terminal/test/fakes/fake-anthropic.ts` (PORT, HOST, FAKE_SSE_DELAY_MS,
// FAKE_RECORD=0) prints `LISTENING <port>`.
import { EventEmitter } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type FakeContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

/** What a script may answer instead of the prompt-driven default. */
export type FakeReply =
  /** A Message, sent as SSE when the request asked for `stream: true`, else as JSON. */
  | { kind: 'message'; content: FakeContentBlock[]; stopReason?: string; usage?: Partial<FakeUsage>; delayMs?: number }
  | { kind: 'error'; status: number; errorType?: string; message?: string; headers?: Record<string, string> }
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  /** Never answers; the request stays open until the client goes away. */
  | { kind: 'hang' }
  /**
   * Streams a Message's SSE bytes but stops after `at` (a byte count, or just after the first
   * occurrence of a text, e.g. inside an event's JSON), then resets the connection (`reset`) or goes
   * silent with the connection open (`stall`).
   */
  | { kind: 'cut'; at: number | string; how: 'reset' | 'stall' };

export interface RecordedRequest {
  n: number;
  t: number;
  method: string;
  path: string;
  query: Record<string, string>;
  rawUrl: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  rawBody: string;
  /** Parsed when the body is JSON. */
  body?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** What was sent back: status, kind, text, usage. */
  reply?: { status: number; kind: 'json' | 'sse' | 'error' | 'empty' | 'hang'; text?: string; usage?: FakeUsage };
  /** The connection closed before the reply was complete (a client or proxy abort). */
  aborted: boolean;
  completed: boolean;
}

export interface FakeAnthropicOptions {
  port?: number;
  host?: string;
  sseDelayMs?: number;
  /** Keep request records (default true); hits() counts either way. */
  record?: boolean;
  /** Oldest records are dropped past this many (default 1000). */
  maxRecorded?: number;
}

export interface FakeAnthropic {
  url: string;
  port: number;
  requests: RecordedRequest[];
  hits(): number;
  /** Clears the records and the hit counter (not the script or delay). */
  reset(): void;
  close(): Promise<void>;
  /** Overrides the reply for requests where it returns something. */
  script?: (req: RecordedRequest) => FakeReply | undefined;
  sseDelayMs: number;
  /** 'request' (RecordedRequest) on arrival, 'closed' (RecordedRequest) when its response ends or aborts. */
  events: EventEmitter;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from the fake Anthropic API!';
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

export function errorEnvelope(status: number, message: string, errorType?: string): string {
  const type = errorType ?? ERROR_TYPES[status] ?? 'api_error';
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_fake_error' });
}

// ---- prompt scripting -------------------------------------------------------------------------

type Msg = { role?: string; content?: unknown };
type Block = { type?: string; text?: string; content?: unknown; is_error?: boolean };

const blocksOf = (m: Msg): Block[] => (Array.isArray(m.content) ? (m.content as Block[]) : []);
const textOf = (m: Msg): string =>
  typeof m.content === 'string' ? m.content : blocksOf(m).filter((b) => b.type === 'text').map((b) => b.text ?? '').join('\n');
const hasToolResult = (m: Msg): boolean => blocksOf(m).some((b) => b.type === 'tool_result');

/** Parses `[[tool:NAME {json}]]` directives in order; JSON may contain `]]` inside strings. */
export function parseToolDirectives(text: string): Array<{ name: string; input: unknown }> {
  const out: Array<{ name: string; input: unknown }> = [];
  const re = /\[\[tool:([A-Za-z0-9_.-]+)\s*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let i = re.lastIndex;
    let input: unknown = {};
    if (text[i] === '{') {
      let depth = 0;
      let inString = false;
      const start = i;
      for (; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) break;
      }
      try {
        input = JSON.parse(text.slice(start, i + 1));
      } catch {
        input = {};
      }
      i++;
    }
    const close = text.indexOf(']]', i);
    if (close === -1) break;
    out.push({ name: m[1]!, input });
    re.lastIndex = close + 2;
  }
  return out;
}

function toolResultText(block: Block): string {
  if (typeof block.content === 'string') return block.content;
  if (Array.isArray(block.content)) return (block.content as Block[]).map((b) => b.text ?? '').join('');
  return '';
}

/** Synthesises a value that satisfies a (simple) JSON schema, e.g. the title request's `{title}`. */
export function synthesizeFromSchema(schema: any, name = ''): unknown { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!schema || typeof schema !== 'object') return 'fake';
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants) && variants.length) return synthesizeFromSchema(variants[0], name);
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) out[key] = synthesizeFromSchema(sub, key);
      return out;
    }
    case 'array': return schema.items ? [synthesizeFromSchema(schema.items, name)] : [];
    case 'integer': case 'number': return 1;
    case 'boolean': return true;
    case 'null': return null;
    default: return name === 'title' ? 'Fake session title' : `fake ${name || 'text'}`;
  }
}

/** The prompt-driven reply for POST /v1/messages. */
export function scriptedReply(body: any, n: number): { content: FakeContentBlock[]; stopReason: string; delayMs?: number } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const messages: Msg[] = Array.isArray(body?.messages) ? body.messages : [];
  let turn = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user' && textOf(m).trim() && !hasToolResult(m)) {
      turn = i;
      break;
    }
  }
  const prompt = turn >= 0 ? textOf(messages[turn]!) : '';
  const delay = /\[\[delay:(\d+)\]\]/.exec(prompt);
  const delayMs = delay ? Number(delay[1]) : undefined;
  const later = messages.slice(turn + 1).filter((m) => m.role === 'user' && hasToolResult(m));
  const steps = parseToolDirectives(prompt);
  const hasTools = Array.isArray(body?.tools) && body.tools.length > 0;

  if (hasTools && later.length < steps.length) {
    const step = steps[later.length]!;
    return {
      content: [
        { type: 'text', text: `Calling tool ${step.name}.` },
        { type: 'tool_use', id: `toolu_fake_${n}_${later.length}`, name: step.name, input: step.input },
      ],
      stopReason: 'tool_use',
      delayMs,
    };
  }
  let text: string;
  const format = body?.output_config?.format;
  if (format?.type === 'json_schema') {
    text = JSON.stringify(synthesizeFromSchema(format.schema));
  } else if (later.length > 0) {
    const last = blocksOf(later[later.length - 1]!).filter((b) => b.type === 'tool_result').pop() ?? {};
    text = `FINAL ANSWER.\ntool_result(is_error=${last.is_error === true}): ${toolResultText(last).slice(0, 300)}`;
  } else {
    text = /\[\[text:([\s\S]*?)\]\]/.exec(prompt)?.[1] ?? DEFAULT_TEXT;
  }
  return { content: [{ type: 'text', text }], stopReason: 'end_turn', delayMs };
}

// ---- wire formats -----------------------------------------------------------------------------

function usageFor(bodyBytes: number, content: FakeContentBlock[], override?: Partial<FakeUsage>): FakeUsage {
  const chars = content.reduce((sum, b) => sum + (b.type === 'text' ? b.text.length : JSON.stringify(b.input).length), 0);
  const tools = content.filter((b) => b.type === 'tool_use').length;
  return {
    input_tokens: Math.max(1, Math.ceil(bodyBytes / 4)),
    output_tokens: Math.max(1, Math.ceil(chars / 4) + 10 * tools),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    ...override,
  };
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

/** The event sequence of a streamed Message, as the real API sends it. */
export function sseEvents(id: string, model: string, content: FakeContentBlock[], stopReason: string, usage: FakeUsage) {
  const events: Array<{ event: string; data: unknown }> = [];
  const { output_tokens, ...startUsage } = usage;
  events.push({
    event: 'message_start',
    data: { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...startUsage, output_tokens: 1 } } },
  });
  content.forEach((block, index) => {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } });
    if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
    const deltas = block.type === 'text'
      ? chunks(block.text, 16).map((text) => ({ type: 'text_delta', text }))
      : chunks(JSON.stringify(block.input), 16).map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    for (const delta of deltas) events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits between events, but no longer than the response lives (no timers left behind by aborts). */
function pause(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

async function writeSse(res: ServerResponse, events: Array<{ event: string; data: unknown }>, delayMs: number) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_fake_sse' });
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (res.destroyed) return;
    if (i > 0 && delayMs > 0) await pause(res, delayMs);
    if (res.destroyed) return;
    res.write(`event: ${events[i]!.event}\ndata: ${JSON.stringify(events[i]!.data)}\n\n`);
  }
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'request-id': 'req_fake', ...headers });
  res.end(body);
}

// ---- server -----------------------------------------------------------------------------------

export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const record = opts.record ?? true;
  const maxRecorded = opts.maxRecorded ?? 1000;
  let hitCount = 0;
  let n = 0;
  const events = new EventEmitter();
  const server = http.createServer({ noDelay: true }, (req, res) => void serve(req, res));

  const fake: FakeAnthropic = {
    url: '',
    port: 0,
    requests: [],
    hits: () => hitCount,
    reset: () => {
      fake.requests.length = 0;
      hitCount = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    sseDelayMs: opts.sseDelayMs ?? 0,
    events,
    waitFor: async (predicate, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error('fake-anthropic: condition not met in time');
        await sleep(10);
      }
    },
  };

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const chunksIn: Buffer[] = [];
    for await (const chunk of req) chunksIn.push(chunk as Buffer);
    const raw = Buffer.concat(chunksIn);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/__requests') {
      if (req.method === 'DELETE') fake.reset();
      return sendJson(res, 200, req.method === 'DELETE' ? '{}' : JSON.stringify(fake.requests));
    }
    hitCount++;
    const rec: RecordedRequest = {
      n: ++n, t: Date.now(), method: req.method ?? '', path, query: Object.fromEntries(url.searchParams), rawUrl: req.url ?? '',
      headers: req.headers, bodyBytes: raw.length, rawBody: raw.toString('utf8'), aborted: false, completed: false,
    };
    if (/json/.test(String(req.headers['content-type'] ?? '')) && raw.length) {
      try { rec.body = JSON.parse(rec.rawBody); } catch { /* recorded raw only */ }
    }
    if (record) {
      fake.requests.push(rec);
      if (fake.requests.length > maxRecorded) fake.requests.shift();
    }
    res.once('close', () => {
      rec.aborted = !res.writableFinished;
      rec.completed = res.writableFinished;
      events.emit('closed', rec);
    });
    events.emit('request', rec);
    await answer(req, res, rec);
  }

  async function answer(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest) {
    const credential = `${req.headers['x-api-key'] ?? ''} ${req.headers.authorization ?? ''}`;
    const failure = /fail-(\d{3})/.exec(credential);
    if (rec.path.startsWith('/v1/') && failure) {
      const status = Number(failure[1]);
      rec.reply = { status, kind: 'error' };
      return sendJson(res, status, errorEnvelope(status, `injected ${status}`), status === 429 ? { 'retry-after': '1' } : {});
    }
    const override = fake.script?.(rec);
    const route = `${rec.method} ${rec.path}`;
    if (!override && (route === 'HEAD /' || route === 'GET /' || route === 'HEAD /api/hello' || route === 'GET /api/hello')) {
      rec.reply = { status: 200, kind: 'empty' };
      return sendJson(res, 200, rec.method === 'HEAD' ? '' : '{"status":"ok"}');
    }
    if (!override && route === 'GET /v1/models') {
      rec.reply = { status: 200, kind: 'json' };
      return sendJson(res, 200, JSON.stringify({ data: [{ type: 'model', id: 'claude-fake-1', display_name: 'Claude Fake' }], has_more: false, first_id: 'claude-fake-1', last_id: 'claude-fake-1' }));
    }
    if (!override && route === 'POST /v1/messages/count_tokens') {
      rec.reply = { status: 200, kind: 'json' };
      return sendJson(res, 200, JSON.stringify({ input_tokens: Math.max(1, Math.ceil(rec.bodyBytes / 4)) }));
    }
    if (!override && route !== 'POST /v1/messages') {
      rec.reply = { status: 404, kind: 'error' };
      return sendJson(res, 404, errorEnvelope(404, `Not found: ${rec.method} ${rec.path}`));
    }
    if (!override && !rec.body) {
      rec.reply = { status: 400, kind: 'error' };
      return sendJson(res, 400, errorEnvelope(400, 'request body must be JSON'));
    }
    const reply: FakeReply = override ?? { kind: 'message', ...scriptedReply(rec.body, rec.n) };
    switch (reply.kind) {
      case 'cut': {
        const { content, stopReason } = scriptedReply(rec.body, rec.n);
        const events = sseEvents(`msg_fake_${rec.n}`, String(rec.body?.model ?? 'claude-fake-1'), content, stopReason, usageFor(rec.bodyBytes, content));
        const bytes = events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join('');
        rec.reply = { status: 200, kind: 'sse' };
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        const end = typeof reply.at === 'number' ? reply.at : bytes.indexOf(reply.at) + reply.at.length;
        res.write(bytes.slice(0, end));
        if (reply.how === 'reset') setTimeout(() => res.destroy(), 20).unref();
        return;
      }
      case 'hang':
        rec.reply = { status: 0, kind: 'hang' };
        return;
      case 'error':
        rec.reply = { status: reply.status, kind: 'error' };
        return sendJson(res, reply.status, errorEnvelope(reply.status, reply.message ?? `scripted ${reply.status}`, reply.errorType), reply.headers);
      case 'json':
        rec.reply = { status: reply.status ?? 200, kind: 'json' };
        return sendJson(res, reply.status ?? 200, JSON.stringify(reply.body), reply.headers);
      case 'message': {
        const usage = usageFor(rec.bodyBytes, reply.content, reply.usage);
        const id = `msg_fake_${rec.n}`;
        const model = String(rec.body?.model ?? 'claude-fake-1');
        const stopReason = reply.stopReason ?? 'end_turn';
        const text = reply.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
        if (rec.body?.stream === true) {
          rec.reply = { status: 200, kind: 'sse', text, usage };
          return writeSse(res, sseEvents(id, model, reply.content, stopReason, usage), reply.delayMs ?? fake.sseDelayMs);
        }
        rec.reply = { status: 200, kind: 'json', text, usage };
        return sendJson(res, 200, JSON.stringify({ id, type: 'message', role: 'assistant', model, content: reply.content, stop_reason: stopReason, stop_sequence: null, usage }));
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  fake.port = address.port;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  fake.url = `http://${host}:${address.port}`;
  return fake;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fake = await startFakeAnthropic({
    port: Number(process.env.PORT ?? 0),
    host: process.env.HOST ?? '127.0.0.1',
    sseDelayMs: Number(process.env.FAKE_SSE_DELAY_MS ?? 0),
    record: process.env.FAKE_RECORD !== '0',
  });
  console.log(`LISTENING ${fake.port}`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
