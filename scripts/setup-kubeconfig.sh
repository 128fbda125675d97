#!/usr/bin/env bash
# Makes a kubeconfig for a workstation from the k3s server's own one.
# k3s writes /etc/rancher/k3s/k3s.yaml (root-only) pointing at https://127.0.0.1:6443 with
# cluster, user and context all named "default". This copies it over SSH, points it at the
# server's address, renames the entries so it can sit beside other clusters, checks the result
# with kubectl, and only then moves it into place (mode 600). It never prompts: when sudo on the
# server wants a password, it stops and says what to do instead.
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
kubectl_cmd="${KUBECTL:-kubectl}"

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
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

command -v "$kubectl_cmd" >/dev/null 2>&1 || die "kubectl is needed to check the file before it is written (install kubectl, or set KUBECTL)"

# Everything happens in a private temp file beside the output; the output is replaced in one
# atomic rename, and only by a file kubectl has read back as a complete kubeconfig.
output_dir="$(dirname -- "$output")"
mkdir -p -- "$output_dir"
tmp="$(mktemp "$output_dir/.setup-kubeconfig.XXXXXX")"
err="$(mktemp)"
trap 'rm -f -- "$tmp" "$tmp.out" "$err"' EXIT
chmod 600 "$tmp"

if [ -n "$from_file" ]; then
  [ -r "$from_file" ] || die "cannot read $from_file"
  cat -- "$from_file" >"$tmp"
else
  echo "reading /etc/rancher/k3s/k3s.yaml from $ssh_user@$host"
  # No terminal (-t): a prompt could otherwise end up inside the file. sudo -n never prompts;
  # ssh itself may still ask for a passphrase on the terminal, which never reaches stdout.
  if ! ssh -- "$ssh_user@$host" 'sudo -n cat /etc/rancher/k3s/k3s.yaml' >"$tmp" 2>"$err"; then
    if grep -qi 'password is required\|a terminal is required\|no tty present' "$err"; then
      die "sudo on $host wants a password, and this script never prompts for one (nothing written). Either copy the file yourself:
  ssh -t $ssh_user@$host 'sudo install -m 600 -o \$(id -u) /etc/rancher/k3s/k3s.yaml ~/k3s.yaml'
  scp $ssh_user@$host:k3s.yaml ./k3s.yaml && ssh $ssh_user@$host 'rm ~/k3s.yaml'
  scripts/setup-kubeconfig.sh --host $host --from-file ./k3s.yaml
or let $ssh_user run 'sudo cat /etc/rancher/k3s/k3s.yaml' without a password (a sudoers NOPASSWD rule)."
    fi
    die "could not read the kubeconfig over ssh from $ssh_user@$host: $(head -c 300 "$err" | tr '\n' ' ')"
  fi
  tr -d '\r' <"$tmp" >"$tmp.out" && mv -- "$tmp.out" "$tmp"
fi

# One line "clusters|users|contexts|current-context|servers", or nothing if kubectl cannot read it.
describe() {
  "$kubectl_cmd" config view --raw --kubeconfig "$1" \
    -o jsonpath='{.clusters[*].name}|{.users[*].name}|{.contexts[*].name}|{.current-context}|{.clusters[*].cluster.server}' 2>/dev/null
}

before="$(describe "$tmp")" || die "that is not a kubeconfig: kubectl cannot parse it (nothing written)"
IFS='|' read -r clusters users contexts current servers <<<"$before"
if [ "$clusters" != default ] || [ "$users" != default ] || [ "$contexts" != default ] || [ "$current" != default ]; then
  die "that is not k3s's kubeconfig: expected one cluster, user and context named 'default' (got clusters='$clusters' users='$users' contexts='$contexts'; nothing written)"
fi
[[ "$servers" == https://* ]] || die "the kubeconfig's server is not an https:// address (nothing written)"

# IPv6 addresses go in brackets inside a URL.
server_host="$host"
if [[ "$host" == *:* ]]; then server_host="[$host]"; fi
server="https://${server_host}:${port}"

# k3s's file has exactly one cluster, user and context, all called "default".
sed -E \
  -e "s#^( *server: )https://[^ ]+#\\1${server}#" \
  -e "s#^( *)(name|cluster|user|current-context): default\$#\\1\\2: ${name}#" \
  -e "s#^( *- )name: default\$#\\1name: ${name}#" \
  "$tmp" >"$tmp.out"
mv -- "$tmp.out" "$tmp"
chmod 600 "$tmp"

after="$(describe "$tmp")" || die "the rewritten kubeconfig does not parse (nothing written)"
[ "$after" = "$name|$name|$name|$name|$server" ] \
  || die "the rewritten kubeconfig is not what was expected (got '$after'; nothing written)"

mv -f -- "$tmp" "$output"
echo "wrote $output (context: $name, server: $server)"
echo "next: export KUBECONFIG=$output && kubectl get nodes"
