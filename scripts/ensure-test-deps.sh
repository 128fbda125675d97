#!/usr/bin/env bash
# Before `npm test`: the system packages the suite needs. The suite runs on Linux (CI is Debian).
# On Debian/Ubuntu as root it installs what is missing with apt-get; otherwise it names what is
# missing and fails. On macOS and other non-Linux hosts it says plainly what runs there.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"

platform="$(current_host_platform)"
if [ "$platform" = macos ] || [ "$platform" = other ]; then
  cat >&2 <<EOF_NOTE
npm test runs on Linux only: the suite starts real bubblewrap sandboxes, which exist only there.
On this host ($(uname -s)):
  npm run lint                                   types and lint
  node scripts/run-tests.mjs api-proxy/          the API proxy's tests
and the whole suite in a Linux VM or container (Debian or Ubuntu: npm test installs what it needs).
EOF_NOTE
  exit 1
fi

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

if [ "$platform" != debian ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]} (this is not Debian/Ubuntu: install them with your package manager; kubectl from https://kubernetes.io/docs/tasks/tools/)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]} (install them with: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
