#!/usr/bin/env bash
# Checks that a k3s node is ready to run the service, one PASS/FAIL/SKIP line per check:
# node Ready, CoreDNS, the network policy controller, storage and ingress, the service's
# namespaces, Secret and quota, what the web-terminal's ServiceAccount may do (RBAC), whether
# NetworkPolicy is really enforced, its images in k3s containerd, its Deployments, GPUs if any.
#
#   scripts/verify-node.sh                # uses KUBECONFIG, else ~/.kube/config, else k3s's own file
#   scripts/verify-node.sh --tag 0.1.0    # the image tag to look for (default: package.json version)
#   scripts/verify-node.sh --no-probe     # skip the NetworkPolicy probe (it runs a pod for ~10 s)
#
# Root or not: checks that need root (iptables chains, images in containerd) use sudo -n, and
# are SKIPped with the reason when that would prompt. Off the node they are skipped too.
# Every check runs; exit status 0 when nothing failed, 1 otherwise.
# Secret values are never printed: only the names of the Secret's keys are read.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kubectl_cmd="${KUBECTL:-kubectl}"
k3s_kubeconfig="${K3S_KUBECONFIG:-/etc/rancher/k3s/k3s.yaml}"
tag=""
probe=true
system_ns="claudecode-system"
sandbox_ns="claudecode-sandboxes"
service_account="system:serviceaccount:$system_ns:web-terminal"

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || { echo "--tag needs a value" >&2; exit 2; }; tag="$2"; shift 2 ;;
    --no-probe) probe=false; shift ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# k3s's own kubeconfig is root-only with write-kubeconfig-mode "0600": prefer the operator's.
if [ -z "${KUBECONFIG:-}" ]; then
  if [ -r "$HOME/.kube/config" ]; then
    export KUBECONFIG="$HOME/.kube/config"
  elif [ -r "$k3s_kubeconfig" ]; then
    export KUBECONFIG="$k3s_kubeconfig"
  fi
fi

on_node=false
if command -v k3s >/dev/null 2>&1; then on_node=true; fi

# How to run a command as root: directly, through sudo that does not prompt, or not at all.
root_cmd=()
can_root=false
if [ "$(id -u)" -eq 0 ]; then
  can_root=true
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  can_root=true
  root_cmd=(sudo -n)
fi
needs_root="needs root: run it as root or with passwordless sudo (sudo scripts/verify-node.sh)"

# The namespace|apiGroup|resource|verb lines granted by the Roles in the web-terminal's rbac.yaml:
# the same file the cluster gets, so the checks follow the manifests.
rbac_rules() {
  awk '
    function flow(line) { if (line !~ /\[/) return ""; sub(/^[^[]*\[/, "", line); sub(/\].*$/, "", line); gsub(/[" ]/, "", line); return line }
    function flush(   g, r, v, ng, nr, nv, i, j, k) {
      if (kind == "Role" && verbs != "") {
        sub(/^,/, "", groups); sub(/^,/, "", resources); sub(/^,/, "", verbs)
        ng = split(groups, g, ","); nr = split(resources, r, ","); nv = split(verbs, v, ",")
        if (ng == 0) { ng = 1; g[1] = "" }
        for (i = 1; i <= ng; i++) for (j = 1; j <= nr; j++) for (k = 1; k <= nv; k++) print ns "|" g[i] "|" r[j] "|" v[k]
      }
      groups = ""; resources = ""; verbs = ""
    }
    function add(value) { value = flow(value); if (cur == "g") groups = groups "," value; else if (cur == "r") resources = resources "," value; else if (cur == "v") verbs = verbs "," value }
    /^---/ { flush(); kind = ""; ns = ""; next }
    /^kind:/ { kind = $2 }
    /^  namespace:/ { ns = $2 }
    /^  - / { flush() }
    # Flow lists (verbs: ["get", "list"]) and block lists (verbs:, then "- get" lines) alike.
    /^ +-? *[a-zA-Z]+:/ { cur = "" }
    /apiGroups:/ { cur = "g"; groups = flow($0) }
    /resources:/ { cur = "r"; resources = flow($0) }
    /verbs:/ { cur = "v"; verbs = flow($0) }
    /^     +- [^:]*$/ { sub(/^ *- */, ""); add("[" $0 "]") }
    END { flush() }
  ' "$repo_root/k8s-manifests/base/rbac.yaml"
}

# --- the cluster's checks ----------------------------------------------------------------------
cluster_checks() {
  # nodes Ready
  local nodes not_ready
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

  local dns_ready
  dns_ready="$(kc -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}' || true)"
  if [ "${dns_ready:-0}" -ge 1 ] 2>/dev/null; then
    pass "coredns" "$dns_ready replica(s) ready"
  else
    fail "coredns" "deployment kube-system/coredns has no ready replica"
  fi

  # The network policy controller is configured; netpol_probe below shows it enforces.
  local node_args
  node_args="$(kc get nodes -o jsonpath='{.items[*].metadata.annotations.k3s\.io/node-args}' || true)"
  if echo "$node_args" | grep -q 'disable-network-policy'; then
    fail "network-policy" "k3s runs with --disable-network-policy: NetworkPolicies are NOT enforced"
  elif [ -n "$node_args" ]; then
    pass "network-policy" "k3s's embedded controller is enabled (not disabled in the node args)"
  else
    skip "network-policy" "no k3s node-args annotation (not k3s?): the probe below is the evidence"
  fi

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

  local sandboxes_exist=false enforce
  if kc get namespace "$system_ns" >/dev/null; then
    pass "namespace-system" "$system_ns exists"
  else
    fail "namespace-system" "$system_ns is missing (kubectl apply -k k8s-manifests/overlays/production)"
  fi
  enforce="$(kc get namespace "$sandbox_ns" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}' || true)"
  if [ "$enforce" = "restricted" ]; then
    sandboxes_exist=true
    pass "namespace-sandboxes" "$sandbox_ns exists and enforces Pod Security restricted"
  elif kc get namespace "$sandbox_ns" >/dev/null; then
    sandboxes_exist=true
    fail "namespace-sandboxes" "$sandbox_ns does not enforce Pod Security restricted"
  else
    fail "namespace-sandboxes" "$sandbox_ns is missing"
  fi

  local secret_keys missing_keys="" key
  # shellcheck disable=SC2016 # a Go template, not a shell expansion
  secret_keys="$(kc -n "$system_ns" get secret claudecode-secrets -o go-template='{{range $k, $v := .data}}{{$k}} {{end}}' || true)"
  for key in anthropic-api-key proxy-shared-secret; do
    case " $secret_keys " in *" $key "*) ;; *) missing_keys="$missing_keys $key" ;; esac
  done
  if [ -z "$missing_keys" ]; then
    pass "secret" "claudecode-secrets holds anthropic-api-key and proxy-shared-secret"
  else
    fail "secret" "claudecode-secrets lacks:$missing_keys (docs/deploy.md, step 'Secrets')"
  fi

  quota_check
  rbac_check
  if [ "$probe" = false ]; then
    skip "network-policy-probe" "--no-probe given"
  elif [ "$sandboxes_exist" = false ]; then
    skip "network-policy-probe" "no $sandbox_ns namespace to probe from"
  else
    netpol_probe
  fi

  local deployment ready
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
}

# macOS's bash 3.2 calls an empty array unbound under set -u: hence ${a[@]+"${a[@]}"} below.

# The session namespace's quota exists and leaves room for MAX_SESSIONS pods.
quota_check() {
  local hard used max_sessions
  hard="$(kc -n "$sandbox_ns" get resourcequota sandbox-quota -o jsonpath='{.spec.hard.pods}' || true)"
  used="$(kc -n "$sandbox_ns" get resourcequota sandbox-quota -o jsonpath='{.status.used.pods}' || true)"
  max_sessions="$(kc -n "$system_ns" get configmap web-terminal-config -o jsonpath='{.data.MAX_SESSIONS}' || true)"
  max_sessions="${max_sessions:-4}"
  if [ -z "$hard" ]; then
    fail "quota" "ResourceQuota $sandbox_ns/sandbox-quota is missing or sets no pod count (kubectl apply -k k8s-manifests/cluster)"
  elif [ "$hard" -ge "$max_sessions" ] 2>/dev/null; then
    pass "quota" "sandbox-quota allows $hard pods ($((${used:-0})) in use), MAX_SESSIONS is $max_sessions"
  else
    fail "quota" "sandbox-quota allows $hard pods but MAX_SESSIONS is $max_sessions: sessions beyond $hard will be refused"
  fi
}

# Every grant in rbac.yaml, asked as the web-terminal's ServiceAccount; and a few it must not have.
rbac_check() {
  local rules line ns group resource verb sub target answer missing="" unknown="" checked=0 excess=""
  rules="$(rbac_rules)"
  while IFS='|' read -r ns group resource verb; do
    [ -n "$verb" ] || continue
    target="${resource%%/*}"
    [ -z "$group" ] || target="$target.$group"
    sub=()
    [[ "$resource" != */* ]] || sub=(--subresource="${resource#*/}")
    answer="$(kc auth can-i "$verb" "$target" ${sub[@]+"${sub[@]}"} -n "$ns" --as="$service_account" || true)"
    checked=$((checked + 1))
    case "$answer" in
      yes) ;;
      no) missing="$missing $verb $resource ($ns);" ;;
      *) unknown="$unknown $verb $resource ($ns);" ;;
    esac
  done <<<"$rules"
  for line in "get secrets $system_ns" "create pods $system_ns" "list secrets $sandbox_ns"; do
    read -r verb target ns <<<"$line"
    answer="$(kc auth can-i "$verb" "$target" -n "$ns" --as="$service_account" || true)"
    [ "$answer" != yes ] || excess="$excess $verb $target ($ns);"
  done
  if [ "$checked" -eq 0 ]; then
    fail "rbac" "no rules read from k8s-manifests/base/rbac.yaml"
  elif [ -n "$unknown" ]; then
    skip "rbac" "kubectl auth can-i --as=$service_account did not answer (may you impersonate?):$unknown"
  elif [ -n "$missing" ]; then
    fail "rbac" "the web-terminal may not:$missing (kubectl apply -k k8s-manifests/overlays/production)"
  else
    pass "rbac" "the web-terminal's ServiceAccount may do all $checked things in rbac.yaml"
  fi
  if [ -n "$excess" ]; then
    fail "rbac-least" "the web-terminal's ServiceAccount may do more than it needs:$excess"
  else
    pass "rbac-least" "the web-terminal's ServiceAccount reads no Secrets and creates no pods in $system_ns"
  fi
}

# A short-lived sandbox-like pod must reach the api-proxy (the one allowed flow, the control)
# and nothing else: not the web-terminal, not the Kubernetes API, not the internet.
probe_pod_manifest() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  generateName: claudecode-netpol-probe-
  namespace: $sandbox_ns
  labels:
    app.kubernetes.io/component: sandbox
    claudecode.io/probe: network-policy
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 60
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: probe
      image: docker.io/claudecode/sandbox:$tag
      imagePullPolicy: IfNotPresent
      command: ["bash", "-c"]
      args:
        - |
$(printf '%s\n' "$1" | sed 's/^/          /')
      resources:
        requests: { cpu: 50m, memory: 64Mi, ephemeral-storage: 16Mi }
        limits: { cpu: 200m, memory: 128Mi, ephemeral-storage: 64Mi }
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
EOF
}

probe_pod=""
delete_probe_pod() {
  [ -z "$probe_pod" ] || kc -n "$sandbox_ns" delete "$probe_pod" --wait=false >/dev/null || true
  probe_pod=""
}
trap delete_probe_pod EXIT

netpol_probe() {
  local proxy_ip web_ip api_ip script phase="" logs deadline reached
  proxy_ip="$(kc -n "$system_ns" get service api-proxy -o jsonpath='{.spec.clusterIP}' || true)"
  web_ip="$(kc -n "$system_ns" get service web-terminal -o jsonpath='{.spec.clusterIP}' || true)"
  api_ip="$(kc -n default get service kubernetes -o jsonpath='{.spec.clusterIP}' || true)"
  # Each target: name address port. Addresses, not names: DNS is not what is being tested.
  # shellcheck disable=SC2016 # expanded in the pod, not here
  script='try() { if timeout 5 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then echo "reached $1"; else echo "blocked $1"; fi; }'
  [ -z "$proxy_ip" ] || script="$script"$'\n'"try api-proxy $proxy_ip 8080"
  [ -z "$web_ip" ] || script="$script"$'\n'"try web-terminal $web_ip 3000"
  [ -z "$api_ip" ] || script="$script"$'\n'"try kubernetes-api $api_ip 443"
  script="$script"$'\n'"try internet 1.1.1.1 443"

  probe_pod="$(probe_pod_manifest "$script" | kc create -f - -o name || true)"
  if [ -z "$probe_pod" ]; then
    fail "network-policy-probe" "could not create a probe pod in $sandbox_ns (quota full? run with --no-probe to skip)"
    return
  fi
  deadline=$((SECONDS + 90))
  while [ "$SECONDS" -lt "$deadline" ]; do
    phase="$(kc -n "$sandbox_ns" get "$probe_pod" -o jsonpath='{.status.phase}' || true)"
    case "$phase" in Succeeded | Failed) break ;; esac
    sleep 2
  done
  logs="$(kc -n "$sandbox_ns" logs "$probe_pod" || true)"
  delete_probe_pod
  reached="$(echo "$logs" | sed -n 's/^reached //p' | grep -vx 'api-proxy' | tr '\n' ' ' || true)"
  if [ "$phase" != Succeeded ]; then
    fail "network-policy-probe" "the probe pod did not complete (phase: ${phase:-unknown}; is docker.io/claudecode/sandbox:$tag imported?)"
  elif ! echo "$logs" | grep -q '^blocked internet$\|^reached internet$'; then
    fail "network-policy-probe" "the probe pod printed no result"
  elif [ -n "$reached" ]; then
    fail "network-policy-probe" "NetworkPolicy is NOT enforced: a sandbox pod reached: $reached"
  elif [ -n "$proxy_ip" ] && ! echo "$logs" | grep -qx 'reached api-proxy'; then
    fail "network-policy-probe" "inconclusive: the probe pod could not reach the api-proxy either (is it running?)"
  elif [ -z "$proxy_ip" ]; then
    pass "network-policy-probe" "a sandbox pod reached nothing it may not (no api-proxy Service to prove it can reach anything)"
  else
    pass "network-policy-probe" "enforced: a sandbox pod reached the api-proxy and nothing else ($(echo "$logs" | sed -n 's/^blocked //p' | tr '\n' ' '| sed 's/ $//') blocked)"
  fi
}

# --- the node's own checks (need root) ----------------------------------------------------------
node_checks() {
  if [ "$on_node" = false ]; then
    skip "network-policy-chains" "not on the k3s server"
    skip "images" "not on the k3s server: run this script there to check imported images"
    return
  fi
  if [ "$can_root" = false ]; then
    skip "network-policy-chains" "$needs_root"
    skip "images" "$needs_root"
    return
  fi
  if ! command -v iptables >/dev/null 2>&1; then
    skip "network-policy-chains" "no iptables command on this node"
  elif ${root_cmd[@]+"${root_cmd[@]}"} iptables -S 2>/dev/null | grep -q 'KUBE-ROUTER-'; then
    pass "network-policy-chains" "k3s's embedded controller is active (KUBE-ROUTER chains present)"
  else
    fail "network-policy-chains" "no KUBE-ROUTER iptables chains: the policy controller is not running (ipset support? k3s logs)"
  fi
  local images name ref
  images="$(${root_cmd[@]+"${root_cmd[@]}"} k3s ctr images list -q 2>/dev/null || true)"
  for name in web-terminal api-proxy sandbox; do
    ref="docker.io/claudecode/$name:$tag"
    if echo "$images" | grep -qxF "$ref"; then
      pass "image-$name" "$ref is in k3s containerd"
    else
      fail "image-$name" "$ref is not imported (scripts/build-images.sh --tag $tag)"
    fi
  done
}

# --- GPUs ----------------------------------------------------------------------------------------
gpu_checks() {
  local gpus="" has_local_gpu=false
  [ "$1" = false ] || gpus="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.allocatable.nvidia\.com/gpu}{"\n"}{end}' | grep -v '=$' || true)"
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then has_local_gpu=true; fi
  if [ -z "$gpus" ] && [ "$has_local_gpu" = false ]; then
    skip "gpu" "no GPU on this node and no node advertises nvidia.com/gpu"
    return
  fi
  if [ "$1" = false ]; then
    skip "gpu" "this node has a GPU; its cluster-side checks need the cluster"
    return
  fi
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
}

# --- run everything: a failed check never stops the next ------------------------------------------
cluster=false
if kc version >/dev/null; then
  cluster=true
  pass "api-server" "kubectl reaches the cluster (${KUBECONFIG:-the default kubeconfig})"
  cluster_checks
elif [ -z "${KUBECONFIG:-}" ] && [ -e "$k3s_kubeconfig" ]; then
  fail "api-server" "$k3s_kubeconfig is readable by root only (write-kubeconfig-mode \"0600\"): run as root, or give yourself a copy: sudo k3s kubectl config view --raw > ~/.kube/config && chmod 600 ~/.kube/config"
else
  fail "api-server" "kubectl cannot reach the cluster with ${KUBECONFIG:-no kubeconfig} (scripts/setup-kubeconfig.sh)"
fi
[ "$cluster" = true ] || skip "cluster" "the cluster checks need a cluster kubectl can reach"
node_checks
gpu_checks "$cluster"

echo "verify-node: $passed checks passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
