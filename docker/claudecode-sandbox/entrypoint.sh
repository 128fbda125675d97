#!/bin/sh
# Sandbox entry point, shared by both runtimes: bubblewrap runs it from /opt/claudecode/lib locally,
# the image installs it as /usr/local/bin/sandbox-entrypoint (run under dtach by the Kubernetes runtime).
# It prepares the sandbox user's home so Claude Code starts straight at its prompt (no onboarding,
# trust or key dialog, no outside traffic), then runs the session program given as arguments.
# Nothing else runs in the sandbox: Claude Code reaches the API proxy itself, through the unix socket
# named by ANTHROPIC_UNIX_SOCKET (local runtime) or ANTHROPIC_BASE_URL (a pod).
set -eu

if [ "$#" -eq 0 ]; then
  echo "sandbox-entrypoint: no session program given" >&2
  exit 64
fi
: "${HOME:?HOME must be set}"
# The working directory Claude Code trusts: set by both runtimes (web-terminal/src/sandbox/contract.ts);
# the fallbacks serve `docker run`.
workdir="${CLAUDECODE_WORKDIR:-${COURSE_DIR:-/workspace}}"
# Claude Code starts there when it exists, else where the sandbox started: the folder it trusts must be
# the one it starts in, or it stops at the trust dialog.
if [ -d "$workdir" ]; then cd "$workdir"; else workdir="$(pwd -P)"; fi

# The traffic switches are also in the managed settings, but the CLI reads some before it loads them.
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 \
  DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL=1

# The seed written below is JSON built by printf: refuse anything that would need escaping.
case "${ANTHROPIC_API_KEY:-}$workdir" in
  *[!A-Za-z0-9._/+=:@-]*)
    echo "sandbox-entrypoint: the credential or working directory holds characters it does not expect" >&2
    exit 65
    ;;
esac

mkdir -p "$HOME"
# Claude Code asks once per API key unless the key's last 20 characters are pre-approved, runs an
# onboarding that needs api.anthropic.com unless it was completed, and asks whether to trust the
# folder. The key here is the session's proxy credential, never the real key.
if [ ! -e "$HOME/.claude.json" ]; then
  approved=$(printf '%s' "${ANTHROPIC_API_KEY:-}" | tail -c 20)
  (
    umask 077
    printf '{"hasCompletedOnboarding":true,"customApiKeyResponses":{"approved":["%s"],"rejected":[]},"projects":{"%s":{"hasTrustDialogAccepted":true}}}\n' \
      "$approved" "$workdir" >"$HOME/.claude.json"
  )
fi

# Continuing an earlier conversation: the runtime left its transcript in the temp folder; Claude Code
# finds it under ~/.claude/projects/<its working directory, every other character as "-">/<uuid>.jsonl.
resume_file="${TMPDIR:-/tmp}/claudecode-resume.jsonl"
if [ -n "${CLAUDECODE_RESUME_SESSION:-}" ] && [ -f "$resume_file" ]; then
  case "$CLAUDECODE_RESUME_SESSION" in
    *[!0-9a-f-]*)
      echo "sandbox-entrypoint: CLAUDECODE_RESUME_SESSION is not a conversation id" >&2
      exit 65
      ;;
  esac
  project="$HOME/.claude/projects/$(printf '%s' "$(pwd -P)" | tr -c 'A-Za-z0-9' '-')"
  (umask 077 && mkdir -p "$project" && cp "$resume_file" "$project/$CLAUDECODE_RESUME_SESSION.jsonl")
fi

exec "$@"
