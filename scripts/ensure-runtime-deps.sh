#!/usr/bin/env bash
# Before `npm start`: the local runtime needs bubblewrap. As root, install it when missing;
# otherwise say how. Never fails: without bubblewrap the service starts and refuses sessions clearly.
set -uo pipefail
command -v bwrap >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing bubblewrap (sandbox for local sessions)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null \
    || echo "warning: could not install bubblewrap; local sessions will be refused" >&2
else
  echo "warning: bubblewrap is not installed; local sessions will be refused (install it: sudo apt-get install bubblewrap)" >&2
fi
exit 0
