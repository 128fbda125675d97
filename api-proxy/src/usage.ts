// Usage accounting from response bytes as they stream past (the bytes are forwarded untouched; these
// taps only read them). SSE: `message_start.message.usage`, then `message_delta.usage` whose counts are
// cumulative and replace earlier ones. JSON: the top-level `usage` of a Message.
import { StringDecoder } from 'node:string_decoder';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export const USAGE_KINDS = [
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

export function totalTokens(u: Usage): number {
  return u.input_tokens + u.output_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
}

export interface UsageTap {
  push(chunk: Buffer): void;
  /** Usage seen so far (a stream cut short still reports what it consumed), or undefined if none. */
  result(): Usage | undefined;
}

function mergeUsage(into: Usage | undefined, raw: unknown): Usage | undefined {
  if (!raw || typeof raw !== 'object') return into;
  const next: Usage = into ? { ...into } : { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const record = raw as Record<string, unknown>;
  for (const kind of USAGE_KINDS) {
    const v = record[kind];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) next[kind] = Math.floor(v);
  }
  return next;
}

/** One event's data lines can be large (tool input deltas); past this the tap stops reading. */
const MAX_PENDING_CHARS = 8 * 1024 * 1024;

export class SseUsageTap implements UsageTap {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private event = '';
  private data = '';
  private usage: Usage | undefined;
  private broken = false;

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.pending += this.decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = this.pending.indexOf('\n', start);
      if (nl === -1) break;
      const end = nl > start && this.pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(this.pending.slice(start, end));
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
    if (this.pending.length + this.data.length > MAX_PENDING_CHARS) {
      this.broken = true;
      this.pending = '';
      this.data = '';
    }
  }

  result(): Usage | undefined {
    return this.usage;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith('event:')) this.event = line.slice(6).trim();
    else if (line.startsWith('data:')) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      this.data = this.data ? `${this.data}\n${value}` : value;
    }
  }

  private dispatch(): void {
    const { event, data } = this;
    this.event = '';
    this.data = '';
    // Only two event kinds carry usage; skip parsing the (many) deltas.
    if (event !== 'message_start' && event !== 'message_delta') return;
    try {
      const parsed = JSON.parse(data) as { message?: { usage?: unknown }; usage?: unknown };
      this.usage = mergeUsage(this.usage, event === 'message_start' ? parsed.message?.usage : parsed.usage);
    } catch {
      // A malformed event is the upstream's problem; the bytes were forwarded as they were.
    }
  }
}

/** Keeps a copy of a JSON response (capped) to read its `usage` at the end. */
export class JsonUsageTap implements UsageTap {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  push(chunk: Buffer): void {
    if (this.size > this.maxBytes) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) this.chunks.length = 0;
    else this.chunks.push(chunk);
  }

  result(): Usage | undefined {
    if (this.size > this.maxBytes || this.size === 0) return undefined;
    try {
      const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const parsed = JSON.parse(bytes.toString('utf8')) as { usage?: unknown };
      return mergeUsage(undefined, parsed.usage);
    } catch {
      return undefined;
    }
  }
}
