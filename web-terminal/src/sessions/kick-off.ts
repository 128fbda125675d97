// The course's first prompt for a session that got a warm sandbox: Claude Code is already at its prompt,
// so the prompt is typed in, as a paste (its newlines stay in the text), then sent with Enter once the
// CLI has taken the paste in.
import type { HeldTerminal } from './held-terminal.ts';

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

export interface KickOffTiming {
  /** Output quiet this long means the CLI is waiting for input. */
  quietMs: number;
  timeoutMs: number;
}

/** Types `prompt` and Enter. Resolves false when the program never got quiet (it is then left alone). */
export async function typeKickOffPrompt(held: HeldTerminal, prompt: string, timing: KickOffTiming, now: () => number = Date.now): Promise<boolean> {
  if (!(await held.whenQuiet(timing.quietMs, timing.timeoutMs))) return false;
  const pastedAt = now();
  // Control characters (an escape could end the paste early) are dropped; newlines and tabs stay.
  const text = prompt.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ''); // eslint-disable-line no-control-regex
  held.terminal.write(Buffer.from(`${PASTE_START}${text}${PASTE_END}`));
  if (!(await held.whenQuiet(timing.quietMs, timing.timeoutMs, pastedAt))) return false;
  held.terminal.write(Buffer.from('\r'));
  return true;
}
