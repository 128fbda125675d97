// The one list of `anthropic-beta` values the proxy forwards: exactly what the pinned Claude Code CLI
// (2.1.332) sends, captured through the proxy (api-proxy/test/cli.test.ts runs the real CLI, in print mode
// and in its full-screen mode, and fails if it sent anything not listed here). Betas that switch on
// server-executed features (MCP connectors, web search/fetch, code execution, files, skills, agents)
// are left out on purpose: they would let a sandbox with "no network" reach the internet through the
// upstream, and bill work the token budgets do not see.
import { rejection, type Rejection } from './errors.ts';

export const ALLOWED_BETAS: ReadonlySet<string> = new Set([
  // Sent on every conversation request (print mode and full-screen mode, opus/sonnet/haiku).
  'claude-code-20250219',
  'interleaved-thinking-2025-05-14',
  'context-management-2025-06-27',
  'per-turn-control-2026-07-01',
  'mid-conversation-tool-changes-2026-07-01',
  'thinking-token-count-2026-05-13',
  'advanced-tool-use-2025-11-20',
  'effort-2025-11-24',
  // Added by the full-screen mode.
  'dangerous-tool-use-2026-09-03',
  'thinking-display-updates-2026-08-18',
  'afk-mode-2026-01-31',
  'fallback-credit-2026-06-01',
  // Conversation-only betas the CLI adds for 1M-context models, the session-title request
  // (structured output) and system turns mid-conversation; none runs anything on the server.
  'context-1m-2025-08-07',
  'structured-outputs-2025-12-15',
  'mid-conversation-system-2026-04-07',
  'prompt-caching-scope-2026-01-05',
]);

const MAX_BETAS = 32;

/** `anthropic-beta` is a comma list (possibly repeated as several headers, which Node joins). */
export function checkBetas(header: string | string[] | undefined): Rejection | null {
  if (header === undefined) return null;
  const values = (Array.isArray(header) ? header.join(',') : header).split(',').map((v) => v.trim()).filter(Boolean);
  if (values.length > MAX_BETAS) return refuse('too many anthropic-beta values');
  for (const value of values) {
    // The value is not echoed back: it is client input.
    if (!ALLOWED_BETAS.has(value)) return refuse('an anthropic-beta value is not allowed by the proxy');
  }
  return null;
}

function refuse(message: string): Rejection {
  return rejection(400, 'invalid_request_error', 'beta_not_allowed', message);
}
