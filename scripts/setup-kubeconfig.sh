#!/usr/bin/env bash
# Makes a kubeconfig for a workstation from the k3s server's own one.
# k3s writes /etc/rancher/k3s/k3s.yaml (root-only) pointing at https://127.0.0.1:6443 with
# cluster, user and context all named "default". This copies it over SSH, points it at the
# server's address, renames the entries so it can sit beside other clusters, and writes it
# with mode 600.
#
#   scripts/setup-kubeconfig.sh --host k3s.example.internal [--ssh-user admin]
#                               [--name claudecode] [--output ~/.kube/claudecode.yaml]
#   scripts/setup-kubeconfig.sh --host 192.168.1.10 --from-file ./k3s.yaml   # already copied
#
# Then:  export KUBECONFIG=~/.kube/claudecode.yaml   (or merge it into ~/.kube/config)
#        kubectl get nodes
# The file holds cluster-admin credentials: keep it private, never commit it.
set -euo pipefail

host=""
ssh_user="${USER:-root}"
name="claudecode"
output="${HOME}/.kube/claudecode.yaml"
from_file=""
port="6443"
force=false

die() {
  echo "setup-kubeconfig: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --host) [ $# -ge 2 ] || die "--host needs a value"; host="$2"; shift 2 ;;
    --ssh-user) [ $# -ge 2 ] || die "--ssh-user needs a value"; ssh_user="$2"; shift 2 ;;
    --name) [ $# -ge 2 ] || die "--name needs a value"; name="$2"; shift 2 ;;
    --output) [ $# -ge 2 ] || die "--output needs a value"; output="$2"; shift 2 ;;
    --from-file) [ $# -ge 2 ] || die "--from-file needs a value"; from_file="$2"; shift 2 ;;
    --port) [ $# -ge 2 ] || die "--port needs a value"; port="$2"; shift 2 ;;
    --force) force=true; shift ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ -n "$host" ] || die "--host is required (the k3s server's address as this workstation reaches it)"
[[ "$host" =~ ^[A-Za-z0-9.:-]+$ ]] || die "invalid host: $host"
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "invalid name: $name"
[[ "$port" =~ ^[0-9]+$ ]] || die "invalid port: $port"
if [ -e "$output" ] && [ "$force" = false ]; then
  die "$output exists; pass --force to replace it"
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
chmod 600 "$tmp"

if [ -n "$from_file" ]; then
  cat -- "$from_file" >"$tmp"
else
  echo "reading /etc/rancher/k3s/k3s.yaml from $ssh_user@$host (sudo may ask for a password)"
  ssh -t "$ssh_user@$host" 'sudo cat /etc/rancher/k3s/k3s.yaml' | tr -d '\r' >"$tmp"
fi

grep -q '^kind: Config' "$tmp" || die "that is not a kubeconfig (no 'kind: Config')"
grep -q 'server: https://' "$tmp" || die "no 'server: https://' line in the kubeconfig"

# IPv6 addresses go in brackets inside a URL.
server_host="$host"
if [[ "$host" == *:* ]]; then server_host="[$host]"; fi

# k3s's file has exactly one cluster, user and context, all called "default".
sed -E \
  -e "s#^( *server: )https://[^ ]+#\\1https://${server_host}:${port}#" \
  -e "s#^( *)(name|cluster|user|current-context): default\$#\\1\\2: ${name}#" \
  -e "s#^( *- )name: default\$#\\1name: ${name}#" \
  "$tmp" >"$tmp.out"
mv "$tmp.out" "$tmp"

mkdir -p "$(dirname "$output")"
install -m 600 "$tmp" "$output"
echo "wrote $output (context: $name, server: https://${server_host}:${port})"
echo "next: export KUBECONFIG=$output && kubectl get nodes"
