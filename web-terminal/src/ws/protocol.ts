// Server side of the terminal protocol: validation of what the browser sends, builders for what we send.
import { z } from 'zod';
import { ClientMessage, MAX_COLS, MAX_ROWS } from '../../public/protocol.js';
import type { SessionEvent, SessionState } from '../types.ts';

export { CloseCode } from '../../public/protocol.js';

const controlMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal(ClientMessage.RESIZE), cols: z.number().int().min(1).max(MAX_COLS), rows: z.number().int().min(1).max(MAX_ROWS) }).strict(),
  z.object({ type: z.literal(ClientMessage.PING) }).strict(),
  z.object({ type: z.literal(ClientMessage.PAUSE) }).strict(),
  z.object({ type: z.literal(ClientMessage.RESUME) }).strict(),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;

/** Control messages are tiny; anything longer is refused before JSON parsing. */
export const MAX_CONTROL_MESSAGE_CHARS = 512;

export type ParseResult = { ok: true; message: ControlMessage } | { ok: false; error: string };

/** Parses one text frame from the browser. Never throws. */
export function parseControlMessage(text: string): ParseResult {
  if (text.length > MAX_CONTROL_MESSAGE_CHARS) return { ok: false, error: 'control message too long' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'control message is not valid JSON' };
  }
  const parsed = controlMessageSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? ` at ${first.path.join('.')}` : '';
    return { ok: false, error: `invalid control message${where}: ${first?.message ?? 'unknown'}` };
  }
  return { ok: true, message: parsed.data };
}

export type ServerMessageBody =
  | { type: 'status'; state: SessionState; message?: string; phase?: string; reason?: string }
  | { type: 'exit'; code: number | null; reason?: string }
  | ({ type: 'event' } & SessionEvent)
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' }
  | { type: 'watchers'; names: string[] }
  | { type: 'size'; cols: number; rows: number };

export const encodeServerMessage = (message: ServerMessageBody): string => JSON.stringify(message);
