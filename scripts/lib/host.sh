# shellcheck shell=bash
# What kind of host this is, for the npm lifecycle scripts (prestart, predev, pretest).
# Sourced, not run. host_platform is pure: it decides from its arguments only, so it is tested
# with any platform and /etc/os-release text.

# host_platform UNAME_S OS_RELEASE_TEXT -> prints one of:
#   debian  Linux whose os-release names Debian or Ubuntu (ID or ID_LIKE): apt-get is the installer
#   linux   any other Linux: local sandboxes work, but packages are the operator's to install
#   macos   Darwin: no bubblewrap; the Kubernetes runtime works, local sandboxes do not
#   other   anything else (BSDs, Windows shells): as macos
host_platform() {
  local uname_s="$1" os_release="$2" id="" id_like="" line
  case "$uname_s" in
    Linux) ;;
    Darwin) echo macos; return ;;
    *) echo other; return ;;
  esac
  while IFS= read -r line; do
    case "$line" in
      ID=*) id="${line#ID=}" ;;
      ID_LIKE=*) id_like="${line#ID_LIKE=}" ;;
    esac
  done <<<"$os_release"
  id="${id//\"/}"
  id_like="${id_like//\"/}"
  case " $id $id_like " in
    *" debian "* | *" ubuntu "*) echo debian ;;
    *) echo linux ;;
  esac
}

# This host's platform (OS_RELEASE_FILE exists for the scripts' tests).
current_host_platform() {
  local text=""
  text="$(cat "${OS_RELEASE_FILE:-/etc/os-release}" 2>/dev/null || true)"
  host_platform "$(uname -s)" "$text"
}

# One plain paragraph for hosts that cannot run local sandboxes.
no_local_sandboxes_note() {
  cat <<'NOTE'
Local sandboxes need Linux with bubblewrap, so on this host sessions with RUNTIME=local (the
default) are refused. What works here: the Kubernetes runtime against a cluster, e.g.
  RUNTIME=kubernetes KUBECONFIG=~/.kube/claudecode.yaml K8S_SCOPE=dev-$USER npm run dev
(README: "Developing against a cluster from a laptop"; docs/development.md).
NOTE
}
