#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing.
# As root it installs them with apt-get; otherwise it names what is missing and fails.
set -euo pipefail

declare -A wanted=(
  [bwrap]=bubblewrap        # local runtime sandbox
  [chromium]=chromium       # browser end-to-end tests
  [shellcheck]=shellcheck   # scripts/ lint
  [tmux]=tmux               # Claude Code TUI checks
  [kubectl]=kubectl         # kubectl kustomize for the manifests tests
  [dtach]=dtach             # detachable session program in the Kubernetes runtime (fake apiserver tests)
  [openssl]=openssl         # test CA for the in-cluster HTTPS fake apiserver
)

missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]} (install them with: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
