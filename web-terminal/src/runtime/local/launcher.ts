// The first program of every local sandbox, run on its pty before prlimit and bubblewrap: it closes every
// file descriptor but stdin/stdout/stderr (whatever the service inherited must not reach a sandbox), joins
// the sandbox's cgroups while it is still the only process, and only then drops to the sandbox's own uid.
// What it execs is the rest of its argument list.

export const LAUNCHER_SHELL = '/bin/bash';
export const SETPRIV = '/usr/bin/setpriv';

// $1: how many cgroup.procs files follow; then the files; then the uid ('' keeps the service's); then the command.
const SCRIPT = [
  // No redirection on the loop itself: bash would park stderr on a spare fd, which the loop would then close.
  // The listing's own directory fd is gone by the time it is reached: skip what no longer exists.
  'for fd in /proc/$$/fd/*; do fd=${fd##*/}; case $fd in 0|1|2) ;; *) if [ -e "/proc/$$/fd/$fd" ]; then eval "exec $fd>&-"; fi ;; esac; done',
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  '  printf "%s\\n" "$$" > "$1" || { echo "sandbox: cannot join its cgroup $1" >&2; exit 125; }',
  '  shift; n=$((n - 1))',
  'done',
  'uid=$1; shift',
  `if [ -n "$uid" ]; then exec ${SETPRIV} --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all -- "$@"; fi`,
  'exec "$@"',
].join('\n');

export interface LaunchInput {
  /** cgroup.procs files to join (empty without cgroups). */
  procsFiles: string[];
  /** Host uid (and gid) to run the sandbox as; null keeps the service's own (it is not root). */
  uid: number | null;
  command: string[];
}

/** The launcher's argument list (for LAUNCHER_SHELL). */
export function launcherArgs(input: LaunchInput): string[] {
  return ['-c', SCRIPT, 'sandbox-launch', String(input.procsFiles.length), ...input.procsFiles, input.uid === null ? '' : String(input.uid), ...input.command];
}
