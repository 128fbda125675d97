#!/usr/bin/env bash
# Before `npm start` and `npm run dev`: the local runtime needs bubblewrap (Linux only).
# On Debian/Ubuntu as root it installs bubblewrap when missing; anywhere else it says what to do.
# Never fails: without bubblewrap the service starts and refuses local sessions clearly, and the
# Kubernetes runtime (RUNTIME=kubernetes) needs no bubblewrap at all.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"

[ "${RUNTIME:-local}" = kubernetes ] && exit 0
command -v bwrap >/dev/null 2>&1 && exit 0

platform="$(current_host_platform)"
case "$platform" in
  macos | other)
    echo "note: this host is not Linux ($(uname -s))." >&2
    no_local_sandboxes_note >&2
    ;;
  debian)
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing bubblewrap (sandbox for local sessions)"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null \
        || echo "warning: could not install bubblewrap; local sessions will be refused" >&2
    else
      echo "warning: bubblewrap is not installed; local sessions will be refused (install it: sudo apt-get install bubblewrap)" >&2
    fi
    ;;
  *)
    echo "warning: bubblewrap is not installed; local sessions will be refused (install the bubblewrap package with your distribution's package manager, e.g. dnf, pacman, zypper or apk)" >&2
    ;;
esac
exit 0
