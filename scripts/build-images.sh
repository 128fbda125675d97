#!/usr/bin/env bash
# Builds the three images of the service and imports them into k3s's containerd, where the
# kubelet finds them without a registry (the manifests use imagePullPolicy: IfNotPresent).
#
#   scripts/build-images.sh                 # tag = version in package.json, build + import
#   scripts/build-images.sh --tag dev       # the tag the dev overlay uses
#   scripts/build-images.sh --no-import     # build only (e.g. on a workstation)
#   scripts/build-images.sh --only sandbox  # one image: web-terminal | api-proxy | sandbox
#   scripts/build-images.sh --dry-run       # print the commands instead of running them
#
# Images: claudecode/web-terminal, claudecode/api-proxy, claudecode/sandbox, all with the same
# tag. `latest` is refused: production pins a version, and a `latest` tag would make Kubernetes
# pull from a registry that does not exist (ErrImagePull).
# Importing runs `docker save | sudo k3s ctr images import -` on this machine, so run it on the
# k3s server (or copy the tarball from --save-dir and import it there).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
builder="${BUILDER:-docker}"
tag=""
only=""
do_import=true
dry_run=false
save_dir=""
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "build-images: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || die "--tag needs a value"; tag="$2"; shift 2 ;;
    --only) [ $# -ge 2 ] || die "--only needs a value"; only="$2"; shift 2 ;;
    --no-import) do_import=false; shift ;;
    --save-dir) [ $# -ge 2 ] || die "--save-dir needs a value"; save_dir="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

if [ -z "$tag" ]; then
  tag="$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$repo_root/package.json" | head -n 1)"
  [ -n "$tag" ] || die "could not read the version from package.json; pass --tag"
fi
[ "$tag" != "latest" ] || die "refusing the tag 'latest': use a version (e.g. 0.1.0) or 'dev'"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "invalid image tag: $tag"

# name|Dockerfile (all built from the repository root)
images=(
  "web-terminal|docker/web-terminal/Dockerfile"
  "api-proxy|api-proxy/Dockerfile"
  "sandbox|docker/claudecode-sandbox/Dockerfile"
)

run() {
  echo "+ $*"
  if [ "$dry_run" = false ]; then "$@"; fi
}

import_image() {
  local ref="$1"
  if [ -n "$save_dir" ]; then
    mkdir -p "$save_dir"
    local file="$save_dir/${ref//[\/:]/_}.tar"
    run "$builder" save -o "$file" "$ref"
  fi
  if [ "$do_import" = true ]; then
    echo "+ $builder save $ref | sudo k3s ctr images import -"
    if [ "$dry_run" = false ]; then
      "$builder" save "$ref" | "${sudo_cmd[@]}" k3s ctr images import -
    fi
  fi
}

if [ "$dry_run" = false ]; then
  command -v "$builder" >/dev/null 2>&1 || die "$builder not found (set BUILDER=podman or nerdctl to use another builder)"
  if [ "$do_import" = true ]; then
    command -v k3s >/dev/null 2>&1 || die "k3s not found: run this on the k3s server, or use --no-import / --save-dir"
  fi
fi

built=0
for entry in "${images[@]}"; do
  name="${entry%%|*}"
  dockerfile="${entry#*|}"
  if [ -n "$only" ] && [ "$only" != "$name" ]; then continue; fi
  [ -f "$repo_root/$dockerfile" ] || die "missing $dockerfile"
  ref="claudecode/$name:$tag"
  run "$builder" build --file "$repo_root/$dockerfile" --tag "$ref" "$repo_root"
  import_image "$ref"
  built=$((built + 1))
done
[ "$built" -gt 0 ] || die "unknown image for --only: $only (web-terminal, api-proxy or sandbox)"

if [ "$do_import" = true ] && [ "$dry_run" = false ]; then
  echo "images in k3s containerd:"
  "${sudo_cmd[@]}" k3s ctr images list -q | grep "^docker.io/claudecode/.*:$tag\$" || true
fi
echo "built $built image(s) with tag $tag"
