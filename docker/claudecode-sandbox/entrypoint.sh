#!/bin/sh
# Sandbox entry point, shared by both runtimes (bubblewrap locally, the container image in Kubernetes).
# Prepares the sandbox user's home so Claude Code starts straight at its prompt (no onboarding, trust
# or key dialog, no outside traffic), opens the one network path to the API proxy when the runtime
# provides it as a unix socket, then runs the session program given as arguments.
set -eu

: "${HOME:?HOME must be set}"
workdir="${CLAUDECODE_WORKDIR:-/workspace}"
mkdir -p "$HOME"

# Claude Code asks once per API key unless the key's last 20 characters are pre-approved.
# The key here is the session's proxy credential (printable, no quotes), never the real key.
if [ ! -e "$HOME/.claude.json" ]; then
  approved=$(printf '%s' "${ANTHROPIC_API_KEY:-}" | tail -c 20)
  umask 077
  printf '{"hasCompletedOnboarding":true,"customApiKeyResponses":{"approved":["%s"],"rejected":[]},"projects":{"%s":{"hasTrustDialogAccepted":true}}}\n' \
    "$approved" "$workdir" >"$HOME/.claude.json"
  umask 022
fi

# Local runtime: the proxy is a unix socket bind-mounted into an otherwise empty network namespace;
# a tiny forwarder exposes it on 127.0.0.1 for ANTHROPIC_BASE_URL.
if [ -n "${CLAUDECODE_PROXY_SOCKET:-}" ]; then
  ready="${TMPDIR:-/tmp}/.claudecode-proxy-ready"
  "${CLAUDECODE_NODE:-node}" "$(dirname "$0")/proxy-forwarder.mjs" "$CLAUDECODE_PROXY_SOCKET" "${CLAUDECODE_PROXY_PORT:-8080}" "$ready" &
  tries=0
  while [ ! -e "$ready" ] && [ "$tries" -lt 200 ]; do
    sleep 0.01
    tries=$((tries + 1))
  done
fi

[ -d "$workdir" ] && cd "$workdir"
exec "$@"
