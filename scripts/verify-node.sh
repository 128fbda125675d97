#!/usr/bin/env bash
# Checks that a k3s node is ready to run the service, one PASS/FAIL/SKIP line per check:
# node Ready, CoreDNS, the network policy controller, storage and ingress, the service's
# namespaces and Secret, its images in k3s containerd, its Deployments, and GPUs if any.
#
#   scripts/verify-node.sh                # uses the current kubectl context
#   scripts/verify-node.sh --tag 0.1.0    # the image tag to look for (default: package.json version)
#
# Run it on the k3s server for the node-local checks (images, iptables); from a workstation
# those are skipped. Exit status: 0 when nothing failed, 1 otherwise.
# Secret values are never printed: only the names of the Secret's keys are read.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kubectl_cmd="${KUBECTL:-kubectl}"
tag=""
system_ns="claudecode-system"
sandbox_ns="claudecode-sandboxes"

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || { echo "--tag needs a value" >&2; exit 2; }; tag="$2"; shift 2 ;;
    -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$tag" ]; then
  tag="$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$repo_root/package.json" | head -n 1)"
fi

passed=0
failed=0
skipped=0
pass() { echo "PASS  $1: $2"; passed=$((passed + 1)); }
fail() { echo "FAIL  $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP  $1: $2"; skipped=$((skipped + 1)); }

kc() { "$kubectl_cmd" "$@" 2>/dev/null; }

on_node=false
if command -v k3s >/dev/null 2>&1; then on_node=true; fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)

# --- the cluster answers -----------------------------------------------------------------------
if ! kc version >/dev/null; then
  fail "api-server" "kubectl cannot reach the cluster (KUBECONFIG? scripts/setup-kubeconfig.sh)"
  echo "verify-node: 0 checks passed, 1 failed (stopped: no cluster)"
  exit 1
fi
pass "api-server" "kubectl reaches the cluster"

# --- nodes Ready -------------------------------------------------------------------------------
nodes="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' || true)"
if [ -z "$nodes" ]; then
  fail "node-ready" "no nodes listed"
else
  not_ready="$(echo "$nodes" | grep -v '=True$' || true)"
  if [ -z "$not_ready" ]; then
    pass "node-ready" "$(echo "$nodes" | wc -l | tr -d ' ') node(s) Ready"
  else
    fail "node-ready" "not Ready: $(echo "$not_ready" | tr '\n' ' ')"
  fi
fi

# --- CoreDNS -----------------------------------------------------------------------------------
dns_ready="$(kc -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}' || true)"
if [ "${dns_ready:-0}" -ge 1 ] 2>/dev/null; then
  pass "coredns" "$dns_ready replica(s) ready"
else
  fail "coredns" "deployment kube-system/coredns has no ready replica"
fi

# --- network policy controller -----------------------------------------------------------------
node_args="$(kc get nodes -o jsonpath='{.items[*].metadata.annotations.k3s\.io/node-args}' || true)"
if echo "$node_args" | grep -q 'disable-network-policy'; then
  fail "network-policy" "k3s runs with --disable-network-policy: NetworkPolicies are NOT enforced"
elif [ "$on_node" = true ] && command -v iptables >/dev/null 2>&1; then
  if "${sudo_cmd[@]}" iptables -S 2>/dev/null | grep -q 'KUBE-ROUTER-'; then
    pass "network-policy" "k3s's embedded controller is active (KUBE-ROUTER chains present)"
  else
    fail "network-policy" "no KUBE-ROUTER iptables chains: the policy controller is not running (ipset support? k3s logs)"
  fi
elif [ -n "$node_args" ]; then
  pass "network-policy" "k3s's embedded controller is enabled (not disabled in the node args)"
else
  skip "network-policy" "not a k3s node annotation and not on the node: check enforcement by hand"
fi

# --- storage and ingress -----------------------------------------------------------------------
if kc get storageclass local-path >/dev/null; then
  pass "storage" "StorageClass local-path exists"
else
  fail "storage" "StorageClass local-path is missing (k3s started with --disable=local-storage?)"
fi
if kc get ingressclass traefik >/dev/null; then
  pass "ingress" "IngressClass traefik exists"
else
  fail "ingress" "IngressClass traefik is missing (k3s started with --disable=traefik?)"
fi

# --- the service's namespaces and Secret -------------------------------------------------------
if kc get namespace "$system_ns" >/dev/null; then
  pass "namespace-system" "$system_ns exists"
else
  fail "namespace-system" "$system_ns is missing (kubectl apply -k k8s-manifests/overlays/production)"
fi
enforce="$(kc get namespace "$sandbox_ns" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}' || true)"
if [ "$enforce" = "restricted" ]; then
  pass "namespace-sandboxes" "$sandbox_ns exists and enforces Pod Security restricted"
elif kc get namespace "$sandbox_ns" >/dev/null; then
  fail "namespace-sandboxes" "$sandbox_ns does not enforce Pod Security restricted"
else
  fail "namespace-sandboxes" "$sandbox_ns is missing"
fi
# shellcheck disable=SC2016 # a Go template, not a shell expansion
secret_keys="$(kc -n "$system_ns" get secret claudecode-secrets -o go-template='{{range $k, $v := .data}}{{$k}} {{end}}' || true)"
missing_keys=""
for key in anthropic-api-key proxy-shared-secret; do
  case " $secret_keys " in *" $key "*) ;; *) missing_keys="$missing_keys $key" ;; esac
done
if [ -z "$missing_keys" ]; then
  pass "secret" "claudecode-secrets holds anthropic-api-key and proxy-shared-secret"
else
  fail "secret" "claudecode-secrets lacks:$missing_keys (docs/deploy.md, step 'Secrets')"
fi

# --- images in k3s containerd -------------------------------------------------------------------
if [ "$on_node" = true ]; then
  images="$("${sudo_cmd[@]}" k3s ctr images list -q 2>/dev/null || true)"
  for name in web-terminal api-proxy sandbox; do
    ref="docker.io/claudecode/$name:$tag"
    if echo "$images" | grep -qxF "$ref"; then
      pass "image-$name" "$ref is in k3s containerd"
    else
      fail "image-$name" "$ref is not imported (scripts/build-images.sh --tag $tag)"
    fi
  done
else
  skip "images" "not on the k3s server: run this script there to check imported images"
fi

# --- the service's Deployments -----------------------------------------------------------------
for deployment in web-terminal api-proxy; do
  ready="$(kc -n "$system_ns" get deployment "$deployment" -o jsonpath='{.status.readyReplicas}' || true)"
  if [ "${ready:-0}" -ge 1 ] 2>/dev/null; then
    pass "deployment-$deployment" "$ready replica(s) ready"
  elif kc -n "$system_ns" get deployment "$deployment" >/dev/null; then
    fail "deployment-$deployment" "no ready replica (kubectl -n $system_ns describe deployment $deployment)"
  else
    skip "deployment-$deployment" "not deployed yet"
  fi
done

# --- GPUs --------------------------------------------------------------------------------------
gpus="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.allocatable.nvidia\.com/gpu}{"\n"}{end}' | grep -v '=$' || true)"
has_local_gpu=false
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then has_local_gpu=true; fi
if [ -z "$gpus" ] && [ "$has_local_gpu" = false ]; then
  skip "gpu" "no GPU on this node and no node advertises nvidia.com/gpu"
else
  if kc get runtimeclass nvidia >/dev/null; then
    pass "gpu-runtimeclass" "RuntimeClass nvidia exists"
  else
    fail "gpu-runtimeclass" "RuntimeClass nvidia is missing (k3s did not detect the NVIDIA runtime; docs/runbooks/gpu-setup.md)"
  fi
  if [ -n "$gpus" ]; then
    pass "gpu-allocatable" "nvidia.com/gpu advertised: $(echo "$gpus" | tr '\n' ' ')"
  else
    fail "gpu-allocatable" "this node has a GPU but no node advertises nvidia.com/gpu (device plugin? kubectl apply -k k8s-manifests/gpu)"
  fi
fi

echo "verify-node: $passed checks passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
