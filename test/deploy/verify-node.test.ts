// scripts/verify-node.sh against stubbed kubectl, k3s, iptables, id and sudo: root and non-root,
// every check runs, RBAC asked as the web-terminal's ServiceAccount, an active NetworkPolicy probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './render.ts';
import { checkRestricted } from './pss-restricted.ts';

const script = join(repoRoot, 'scripts', 'verify-node.sh');

interface FakeCluster {
  nodeArgs?: string; notReadyNode?: boolean; secretKeys?: string; gpu?: boolean;
  onNode?: { images: string[]; kubeRouterChains: boolean };
  /** Who runs the script: root, or a user whose sudo prompts or does not (default root). */
  user?: 'root' | 'user-sudo-prompts' | 'user-sudo-nopasswd';
  unreachable?: boolean; quotaPods?: string;
  /** `auth can-i` answers "no" to these "verb resource" pairs, e.g. "create pods/exec". */
  deny?: string[]; impersonationRefused?: boolean; allowExtra?: boolean;
  probeLogs?: string; probePhase?: string;
  args?: string[];
}

interface Run { status: number | null; stdout: string; stderr: string; canI: string[]; probePod: string | null; deleted: string }

function writeExecutable(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A fake kubectl answering exactly the queries verify-node.sh makes; it records what it was asked. */
function fakeKubectl(c: FakeCluster, dir: string): string {
  const deny = (c.deny ?? []).map((d) => {
    const [verb, resource] = d.split(' ') as [string, string];
    const [res, sub] = resource.split('/');
    return `"${verb} ${res}${sub ? ` --subresource=${sub}` : ''} "*) echo no; exit 1 ;;`;
  }).join('\n    ');
  return `
args="$*"
case "$args" in
  "version") ${c.unreachable ? 'echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1' : `echo "Server Version: v1.33.1+k3s1"; echo "$KUBECONFIG" >"${dir}/kubeconfig-used"`} ;;
  "get nodes -o jsonpath={range .items[*]}{.metadata.name}={.status.conditions"*) echo "node1=True"; ${c.notReadyNode ? 'echo "node2=False"' : ':'} ;;
  "-n kube-system get deployment coredns -o jsonpath={.status.readyReplicas}") echo 1 ;;
  "get nodes -o jsonpath={.items[*].metadata.annotations.k3s"*) echo '${c.nodeArgs ?? '["server","--write-kubeconfig-mode","0600"]'}' ;;
  "get storageclass local-path"|"get ingressclass traefik"|"get namespace claudecode-system"|"get namespace claudecode-sandboxes") echo found ;;
  "get namespace claudecode-sandboxes -o jsonpath="*) echo restricted ;;
  "-n claudecode-system get secret claudecode-secrets -o go-template="*) echo "${c.secretKeys ?? 'anthropic-api-key proxy-shared-secret '}" ;;
  "-n claudecode-sandboxes get resourcequota sandbox-quota -o jsonpath={.spec.hard.pods}") echo "${c.quotaPods ?? '6'}" ;;
  "-n claudecode-sandboxes get resourcequota sandbox-quota -o jsonpath={.status.used.pods}") echo 1 ;;
  "-n claudecode-system get configmap web-terminal-config -o jsonpath={.data.MAX_SESSIONS}") echo 4 ;;
  "auth can-i "*)
    echo "\${args#auth can-i }" >>"${dir}/can-i"
    ${c.impersonationRefused ? 'echo "Error from server (Forbidden): users \\"system:serviceaccount:...\\" is forbidden: cannot impersonate" >&2; exit 1' : ':'}
    case "\${args#auth can-i }" in
    ${deny}
    "get secrets "*|"create pods -n claudecode-system "*|"list secrets "*) ${c.allowExtra ? 'echo yes' : 'echo no; exit 1'} ;;
    *) echo yes ;;
    esac ;;
  "-n claudecode-system get service api-proxy -o jsonpath={.spec.clusterIP}") echo 10.43.0.10 ;;
  "-n claudecode-system get service web-terminal -o jsonpath={.spec.clusterIP}") echo 10.43.0.11 ;;
  "-n default get service kubernetes -o jsonpath={.spec.clusterIP}") echo 10.43.0.1 ;;
  "create -f - -o name") cat >"${dir}/probe-pod.yaml"; echo pod/claudecode-netpol-probe-x7k2q ;;
  "-n claudecode-sandboxes get pod/claudecode-netpol-probe-x7k2q -o jsonpath={.status.phase}") echo ${c.probePhase ?? 'Succeeded'} ;;
  "-n claudecode-sandboxes logs pod/claudecode-netpol-probe-x7k2q") printf '%s\\n' '${(c.probeLogs ?? 'reached api-proxy\nblocked web-terminal\nblocked kubernetes-api\nblocked internet').replace(/\n/g, "' '")}' ;;
  "-n claudecode-sandboxes delete pod/claudecode-netpol-probe-x7k2q --wait=false") echo "$args" >>"${dir}/deleted" ;;
  "-n claudecode-system get deployment "*" -o jsonpath={.status.readyReplicas}") echo 1 ;;
  "get nodes -o jsonpath={range .items[*]}{.metadata.name}={.status.allocatable"*) ${c.gpu ? 'echo "node1=1"' : 'echo "node1="'} ;;
  "get runtimeclass nvidia") ${c.gpu ? 'echo found' : 'exit 1'} ;;
  *) echo "fake kubectl: unexpected: $args" >&2; exit 1 ;;
esac`;
}

function runVerify(c: FakeCluster): Run {
  const dir = mkdtempSync(join(tmpdir(), 'verify-node-'));
  try {
    writeExecutable(join(dir, 'kubectl'), fakeKubectl(c, dir));
    const user = c.user ?? 'root';
    if (user !== 'root') writeExecutable(join(dir, 'id'), '[ "$1" = -u ] && echo 1000');
    if (user === 'user-sudo-prompts') writeExecutable(join(dir, 'sudo'), 'echo "sudo: a password is required" >&2; exit 1');
    if (user === 'user-sudo-nopasswd') writeExecutable(join(dir, 'sudo'), '[ "$1" = -n ] && shift; "$@"');
    if (c.onNode) {
      // As the real ones: they answer root only.
      const rootOnly = user === 'root' ? '' : '[ "${SUDO_OK:-}" = 1 ] || { echo "permission denied" >&2; exit 1; }\n';
      writeExecutable(join(dir, 'k3s'), `${rootOnly}[ "$*" = "ctr images list -q" ] && printf '%s\\n' ${c.onNode.images.map((i) => `'${i}'`).join(' ')}`);
      writeExecutable(join(dir, 'iptables'), `${rootOnly}${c.onNode.kubeRouterChains ? 'echo "-N KUBE-ROUTER-FORWARD"' : 'echo "-N INPUT"'}`);
      if (user === 'user-sudo-nopasswd') writeExecutable(join(dir, 'sudo'), '[ "$1" = -n ] && shift; SUDO_OK=1 "$@"');
    }
    // Only the fakes and the basic tools: no real k3s, kubectl, sudo or nvidia-smi from the machine.
    const bin = join(dir, 'sysbin');
    mkdirSync(bin);
    for (const tool of ['bash', 'env', 'sed', 'grep', 'head', 'tr', 'wc', 'id', 'dirname', 'cat', 'awk', 'sleep']) {
      const real = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (real) spawnSync('ln', ['-s', real, join(bin, tool)]);
    }
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), 'operator kubeconfig\n');
    const run = spawnSync(script, ['--tag', '0.1.0', ...(c.args ?? [])], {
      encoding: 'utf8', timeout: 60_000, env: { PATH: `${dir}:${bin}`, HOME: home, K3S_KUBECONFIG: join(dir, 'no-such-k3s.yaml') },
    });
    const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
    return {
      status: run.status, stdout: run.stdout, stderr: run.stderr,
      canI: (read('can-i') ?? '').split('\n').filter(Boolean),
      probePod: read('probe-pod.yaml'),
      deleted: read('deleted') ?? '',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = (out: string, kind: 'PASS' | 'FAIL' | 'SKIP') => out.split('\n').filter((l) => l.startsWith(kind));
const line = (out: string, check: string) => out.split('\n').find((l) => l.slice(6).startsWith(`${check}:`)) ?? '';

test('verify-node.sh passes a healthy cluster, one line per check, node-local checks skipped off the node', () => {
  const run = runVerify({});
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.deepEqual(lines(run.stdout, 'FAIL'), []);
  for (const check of ['api-server', 'node-ready', 'coredns', 'network-policy', 'storage', 'ingress', 'namespace-system', 'namespace-sandboxes', 'secret', 'quota', 'rbac', 'rbac-least', 'network-policy-probe', 'deployment-web-terminal', 'deployment-api-proxy']) {
    assert.ok(line(run.stdout, check).startsWith('PASS'), `no PASS line for ${check}\n${run.stdout}`);
  }
  for (const check of ['network-policy-chains', 'images', 'gpu']) assert.ok(line(run.stdout, check).startsWith('SKIP'), check);
  assert.match(run.stdout, /verify-node: 15 checks passed, 0 failed, 3 skipped/);
  assert.match(line(run.stdout, 'api-server'), /home\/\.kube\/config/, 'without KUBECONFIG it uses ~/.kube/config');
});

test('verify-node.sh fails when k3s runs without its network policy controller', () => {
  const run = runVerify({ nodeArgs: '["server","--disable-network-policy"]' });
  assert.equal(run.status, 1);
  assert.ok(lines(run.stdout, 'FAIL').some((l) => l.startsWith('FAIL  network-policy:') && l.includes('NOT enforced')), run.stdout);
});

test('verify-node.sh names missing Secret keys without printing any value, and a node that is not Ready', () => {
  const run = runVerify({ secretKeys: 'proxy-shared-secret ', notReadyNode: true });
  assert.equal(run.status, 1);
  const fails = lines(run.stdout, 'FAIL');
  assert.ok(fails.some((l) => l.startsWith('FAIL  secret:') && l.includes('anthropic-api-key')), run.stdout);
  assert.ok(fails.some((l) => l.startsWith('FAIL  node-ready:') && l.includes('node2')), run.stdout);
});

test('verify-node.sh as root on the node checks imported images and the kube-router chains', () => {
  const ok = runVerify({ onNode: { images: ['docker.io/claudecode/web-terminal:0.1.0', 'docker.io/claudecode/api-proxy:0.1.0', 'docker.io/claudecode/sandbox:0.1.0'], kubeRouterChains: true } });
  assert.equal(ok.status, 0, ok.stdout);
  assert.equal(lines(ok.stdout, 'PASS').filter((l) => l.startsWith('PASS  image-')).length, 3);
  assert.ok(line(ok.stdout, 'network-policy-chains').startsWith('PASS'));
  const missing = runVerify({ onNode: { images: ['docker.io/claudecode/web-terminal:0.1.0', 'docker.io/claudecode/sandbox:0.0.9'], kubeRouterChains: false } });
  assert.equal(missing.status, 1);
  const fails = lines(missing.stdout, 'FAIL').map((l) => l.split(':')[0]);
  assert.deepEqual(fails.sort(), ['FAIL  image-api-proxy', 'FAIL  image-sandbox', 'FAIL  network-policy-chains']);
});

test('verify-node.sh run by a non-root operator names what needs root instead of failing it', () => {
  const onNode = { images: ['docker.io/claudecode/web-terminal:0.1.0', 'docker.io/claudecode/api-proxy:0.1.0', 'docker.io/claudecode/sandbox:0.1.0'], kubeRouterChains: true };
  const prompts = runVerify({ user: 'user-sudo-prompts', onNode });
  assert.equal(prompts.status, 0, prompts.stdout);
  assert.deepEqual(lines(prompts.stdout, 'FAIL'), []);
  for (const check of ['network-policy-chains', 'images']) assert.match(line(prompts.stdout, check), /^SKIP .*needs root.*sudo scripts\/verify-node\.sh/, prompts.stdout);
  // With sudo that does not prompt, the same checks run and pass.
  const nopasswd = runVerify({ user: 'user-sudo-nopasswd', onNode });
  assert.equal(nopasswd.status, 0, nopasswd.stdout);
  assert.ok(line(nopasswd.stdout, 'network-policy-chains').startsWith('PASS'), nopasswd.stdout);
  assert.equal(lines(nopasswd.stdout, 'PASS').filter((l) => l.startsWith('PASS  image-')).length, 3);
});

test('verify-node.sh does not stop at the first check when the cluster is unreachable', () => {
  const run = runVerify({ unreachable: true, onNode: { images: ['docker.io/claudecode/web-terminal:0.1.0'], kubeRouterChains: true } });
  assert.equal(run.status, 1);
  assert.match(line(run.stdout, 'api-server'), /^FAIL .*kubectl cannot reach the cluster/);
  assert.match(line(run.stdout, 'cluster'), /^SKIP/);
  assert.ok(line(run.stdout, 'network-policy-chains').startsWith('PASS'), 'the node checks still ran');
  assert.ok(line(run.stdout, 'image-sandbox').startsWith('FAIL'), run.stdout);
  assert.match(run.stdout, /verify-node: \d+ checks passed, 3 failed/);
});

test('verify-node.sh asks, as the web-terminal ServiceAccount, for every grant in rbac.yaml', () => {
  const expected = new Set<string>();
  for (const doc of parseAllDocuments(readFileSync(join(repoRoot, 'k8s-manifests/base/rbac.yaml'), 'utf8'))) {
    const role = doc.toJS() as { kind: string; metadata: { namespace: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    if (role?.kind !== 'Role') continue;
    for (const rule of role.rules ?? []) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          const [res, sub] = resource.split('/');
          for (const verb of rule.verbs) {
            expected.add(`${verb} ${res}${group ? `.${group}` : ''}${sub ? ` --subresource=${sub}` : ''} -n ${role.metadata.namespace} --as=system:serviceaccount:claudecode-system:web-terminal`);
          }
        }
      }
    }
  }
  assert.ok(expected.size >= 7, 'rbac.yaml grants at least pods and pods/exec');
  const run = runVerify({});
  const asked = new Set(run.canI);
  for (const grant of expected) assert.ok(asked.has(grant), `not checked: ${grant}\nasked:\n${run.canI.join('\n')}`);
  assert.match(line(run.stdout, 'rbac'), new RegExp(`^PASS .*all ${expected.size} things`));

  const denied = runVerify({ deny: ['create pods/exec'] });
  assert.equal(denied.status, 1);
  assert.match(line(denied.stdout, 'rbac'), /^FAIL .*may not: create pods\/exec \(claudecode-sandboxes\)/, denied.stdout);

  const extra = runVerify({ allowExtra: true });
  assert.match(line(extra.stdout, 'rbac-least'), /^FAIL .*get secrets \(claudecode-system\)/, extra.stdout);

  const refused = runVerify({ impersonationRefused: true });
  assert.match(line(refused.stdout, 'rbac'), /^SKIP .*impersonate/, refused.stdout);
});

test('verify-node.sh checks the session quota against MAX_SESSIONS', () => {
  const small = runVerify({ quotaPods: '3' });
  assert.equal(small.status, 1);
  assert.match(line(small.stdout, 'quota'), /^FAIL .*allows 3 pods but MAX_SESSIONS is 4/);
  const none = runVerify({ quotaPods: '' });
  assert.match(line(none.stdout, 'quota'), /^FAIL .*sandbox-quota is missing/);
});

test('verify-node.sh probes NetworkPolicy with a restricted sandbox-like pod, then deletes it', () => {
  const run = runVerify({});
  assert.ok(run.probePod, 'a probe pod was created');
  const pod = parseAllDocuments(run.probePod)[0]!.toJS() as { metadata: { namespace: string; labels: Record<string, string> }; spec: { containers: { args: string[] }[] } };
  assert.equal(pod.metadata.namespace, 'claudecode-sandboxes');
  assert.equal(pod.metadata.labels['app.kubernetes.io/component'], 'sandbox', 'the sandbox policy selects it');
  assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], undefined, 'the web-terminal never adopts or reaps it');
  assert.deepEqual(checkRestricted(pod.spec), [], 'Pod Security restricted');
  const probe = pod.spec.containers[0]!.args[0]!;
  for (const target of ['try api-proxy 10.43.0.10 8080', 'try web-terminal 10.43.0.11 3000', 'try kubernetes-api 10.43.0.1 443', 'try internet 1.1.1.1 443']) assert.ok(probe.includes(target), target);
  assert.match(line(run.stdout, 'network-policy-probe'), /^PASS .*enforced.*web-terminal kubernetes-api internet blocked/);
  assert.match(run.deleted, /delete pod\/claudecode-netpol-probe-x7k2q/);

  const leaky = runVerify({ probeLogs: 'reached api-proxy\nreached web-terminal\nblocked kubernetes-api\nreached internet' });
  assert.equal(leaky.status, 1);
  assert.match(line(leaky.stdout, 'network-policy-probe'), /^FAIL .*NOT enforced.*web-terminal internet/);
  assert.match(leaky.deleted, /delete pod\//);

  const inconclusive = runVerify({ probeLogs: 'blocked api-proxy\nblocked web-terminal\nblocked kubernetes-api\nblocked internet' });
  assert.match(line(inconclusive.stdout, 'network-policy-probe'), /^FAIL .*inconclusive/);

  const stuck = runVerify({ probePhase: 'Failed', probeLogs: '' });
  assert.match(line(stuck.stdout, 'network-policy-probe'), /^FAIL .*did not complete.*sandbox:0\.1\.0/);
  assert.match(stuck.deleted, /delete pod\//);

  const skipped = runVerify({ args: ['--no-probe'] });
  assert.equal(skipped.probePod, null);
  assert.match(line(skipped.stdout, 'network-policy-probe'), /^SKIP .*--no-probe/);
});

test('verify-node.sh checks the RuntimeClass and GPU resources when a node has GPUs', () => {
  const run = runVerify({ gpu: true });
  assert.equal(run.status, 0, run.stdout);
  assert.ok(lines(run.stdout, 'PASS').some((l) => l.startsWith('PASS  gpu-runtimeclass:')));
  assert.ok(lines(run.stdout, 'PASS').some((l) => l.startsWith('PASS  gpu-allocatable:') && l.includes('node1=1')));
});
