// The session program: SESSION_COMMAND, else Claude Code when installed, else a login shell.
import { existsSync } from 'node:fs';
import type { RuntimeKind } from './runtime/types.ts';
import { findClaudeBinary } from './runtime/local/host-files.ts';

/**
 * Claude Code, continuing an earlier conversation when the session resumes one, with the course's tutor
 * brief added to its system prompt and the learner's first message when the session has them (env vars
 * keep them unquoted-safe).
 */
export const CLAUDE_COMMAND_LINE =
  'exec claude ${CLAUDECODE_RESUME_SESSION:+--resume "$CLAUDECODE_RESUME_SESSION"} ${CLAUDECODE_TUTOR_BRIEF:+--append-system-prompt "$CLAUDECODE_TUTOR_BRIEF"} ${CLAUDECODE_INITIAL_PROMPT:+"$CLAUDECODE_INITIAL_PROMPT"}';

export function resolveSessionCommand(configured: string | undefined, runtime: RuntimeKind): string[] {
  if (configured) return ['/bin/sh', '-c', configured];
  if (runtime === 'kubernetes' || findClaudeBinary()) return ['/bin/sh', '-c', CLAUDE_COMMAND_LINE];
  return existsSync('/bin/bash') ? ['/bin/bash', '-l'] : ['/bin/sh', '-l'];
}

/** Claude Code switches bracketed paste on once it reads keys; what is typed before then is held for it. */
export const BRACKETED_PASTE_ON = '\x1b[?2004h';

/** The output after which the session program takes input, or null when it takes it from the start. */
export function inputReadyMarker(command: readonly string[]): string | null {
  return command[2] === CLAUDE_COMMAND_LINE ? BRACKETED_PASTE_ON : null;
}
