import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findKustomizations, podSpecOf, rendered } from './render.ts';
import { checkRestricted } from './pss-restricted.ts';

// Fixtures are edited freely below, each case breaking one rule: a loose type on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LoosePod = Record<string, any>;

/** The compliant skeleton from the Pod Security Standards docs; each case below breaks one rule. */
function compliantPod(): LoosePod {
  return {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{
      name: 'shell', image: 'claudecode/sandbox:0.1.0',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    }],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
  };
}

test('checkRestricted accepts the compliant skeleton', () => {
  assert.deepEqual(checkRestricted(compliantPod()), []);
});

test('checkRestricted accepts container-level settings in place of pod-level ones', () => {
  const pod = compliantPod();
  pod.securityContext = {};
  Object.assign(pod.containers[0].securityContext, { runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } });
  assert.deepEqual(checkRestricted(pod), []);
});

const violations: [string, (pod: LoosePod) => void, RegExp][] = [
  ['hostNetwork', (p) => { p.hostNetwork = true; }, /hostNetwork/],
  ['hostPID', (p) => { p.hostPID = true; }, /hostPID/],
  ['hostIPC', (p) => { p.hostIPC = true; }, /hostIPC/],
  ['privileged', (p) => { p.containers[0].securityContext.privileged = true; }, /privileged/],
  ['allowPrivilegeEscalation unset', (p) => { delete p.containers[0].securityContext.allowPrivilegeEscalation; }, /allowPrivilegeEscalation/],
  ['runAsNonRoot unset everywhere', (p) => { delete p.securityContext.runAsNonRoot; }, /runAsNonRoot must be true/],
  ['runAsNonRoot false on a container', (p) => { p.containers[0].securityContext.runAsNonRoot = false; }, /runAsNonRoot must not be false/],
  ['runAsUser 0 at pod level', (p) => { p.securityContext.runAsUser = 0; }, /runAsUser must not be 0/],
  ['runAsUser 0 on a container', (p) => { p.containers[0].securityContext.runAsUser = 0; }, /runAsUser must not be 0/],
  ['seccomp unset everywhere', (p) => { delete p.securityContext.seccompProfile; }, /seccompProfile.type must be RuntimeDefault or Localhost/],
  ['seccomp Unconfined on a container', (p) => { p.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; }, /must not be Unconfined/],
  ['capabilities not dropped', (p) => { p.containers[0].securityContext.capabilities = {}; }, /drop must include ALL/],
  ['a capability added', (p) => { p.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; }, /SYS_ADMIN/],
  ['hostPath volume', (p) => { p.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, /hostPath/],
  ['hostPort', (p) => { p.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]; }, /hostPort/],
  ['procMount Unmasked', (p) => { p.containers[0].securityContext.procMount = 'Unmasked'; }, /procMount/],
  ['AppArmor Unconfined', (p) => { p.securityContext.appArmorProfile = { type: 'Unconfined' }; }, /appArmorProfile/],
  ['SELinux custom user', (p) => { p.securityContext.seLinuxOptions = { user: 'system_u' }; }, /seLinuxOptions.user/],
  ['unsafe sysctl', (p) => { p.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }, /kernel.msgmax/],
  ['probe host', (p) => { p.containers[0].readinessProbe = { httpGet: { host: '10.0.0.1', port: 80 } }; }, /readinessProbe.httpGet.host/],
  ['init container not hardened', (p) => { p.initContainers = [{ name: 'init', image: 'x:1' }]; }, /initContainers\[init\]/],
  ['ephemeral container not hardened', (p) => { p.ephemeralContainers = [{ name: 'debug', image: 'x:1' }]; }, /ephemeralContainers\[debug\]/],
];

for (const [name, breakIt, expected] of violations) {
  test(`checkRestricted reports ${name}`, () => {
    const pod = compliantPod();
    breakIt(pod);
    const problems = checkRestricted(pod);
    assert.ok(problems.some((p) => expected.test(p)), `expected ${expected} in ${JSON.stringify(problems)}`);
  });
}

test('checkRestricted allows NET_BIND_SERVICE and exempts user-namespaced pods from runAsNonRoot', () => {
  const pod = compliantPod();
  pod.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE'];
  pod.hostUsers = false;
  delete pod.securityContext.runAsNonRoot;
  assert.deepEqual(checkRestricted(pod), []);
});

// The device plugin writes its socket into the kubelet's root-owned device-plugin directory:
// it runs in kube-system, outside the restricted namespaces, and the hostPath and root user
// are its only departures from the profile.
const exempt: Record<string, RegExp[]> = {
  'DaemonSet/kube-system/nvidia-device-plugin': [/^volume device-plugin uses hostPath/, /runAsNonRoot must be true/],
};

for (const k of findKustomizations().filter((x) => x.kind === 'Kustomization')) {
  test(`every pod template in ${k.dir} meets Pod Security restricted`, () => {
    for (const o of rendered(k.dir)) {
      const spec = podSpecOf(o);
      if (!spec) continue;
      const key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
      const problems = checkRestricted(spec);
      const allowed = exempt[key];
      if (allowed) {
        assert.equal(problems.length, allowed.length, `${key}: ${problems.join('; ')}`);
        allowed.forEach((pattern, i) => assert.match(problems[i]!, pattern));
        assert.equal(o.metadata.namespace, 'kube-system');
      } else {
        assert.deepEqual(problems, [], key);
      }
    }
  });
}

test('every namespace the manifests create enforces Pod Security restricted', () => {
  const namespaces = [...rendered('cluster'), ...rendered('apps')].filter((o) => o.kind === 'Namespace');
  assert.deepEqual(namespaces.map((n) => n.metadata.name).sort(), ['apps', 'claudecode-sandboxes', 'claudecode-system']);
  for (const ns of namespaces) {
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted', ns.metadata.name);
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/warn'], 'restricted', ns.metadata.name);
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/audit'], 'restricted', ns.metadata.name);
  }
});
