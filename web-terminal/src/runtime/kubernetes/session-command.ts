// What runs in a session pod. The container itself only holds the pod open; the session program is
// started by the first exec under dtach, so that later execs (a reattach after our own restart)
// reach the same running program instead of starting a new one. See README.md in this folder.

/** Container command: wait until the pod is deleted, and exit at once on SIGTERM (PID 1 ignores it otherwise). */
export const HOLD_COMMAND: readonly string[] = ['/bin/sh', '-c', "trap 'exit 0' TERM INT; sleep infinity & wait"];

/**
 * The attach script, run by every exec. `$@` is the session program's argv.
 * - The program's exit status is written to `exit` so an attach can report it: dtach itself always exits 0.
 * - Once the program ended, an attach reports its status instead of starting it again.
 * - dtach -A attaches to the running program, or starts it on the first attach; -E: no detach key,
 *   -z: no suspend key, -r winch: the program redraws (SIGWINCH) when a viewer attaches.
 * - `${TMPDIR:-/tmp}`: /tmp in the pod; the fake apiserver points TMPDIR at the pod's own folder.
 */
export const ATTACH_SCRIPT = [
  'd="${TMPDIR:-/tmp}/claudecode-session"',
  'mkdir -p "$d" || exit 125',
  'if [ -e "$d/exit" ]; then exit "$(cat "$d/exit")"; fi',
  'dtach -A "$d/sock" -E -z -r winch /bin/sh -c \'"$@"; echo $? > "$0/exit"\' "$d" "$@"',
  'rc=$?',
  'if [ -e "$d/exit" ]; then exit "$(cat "$d/exit")"; fi',
  'exit "$rc"',
].join('\n');

/** argv of the exec that starts or re-attaches to the session program. */
export function execArgv(command: readonly string[], entrypoint: string): string[] {
  if (command.length === 0) throw new Error('empty session command');
  const program = entrypoint === '' ? [...command] : [entrypoint, ...command];
  return ['/bin/sh', '-c', ATTACH_SCRIPT, 'claudecode-session', ...program];
}

/** The program argv is stored on the pod so that an attach after a restart runs the same exec. */
export const COMMAND_ANNOTATION = 'claudecode.io/session-command';
