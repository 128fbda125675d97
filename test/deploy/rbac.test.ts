import { test } from 'node:test';
import assert from 'node:assert/strict';
import { find, podSpecOf, rendered, type KubeObject } from './render.ts';

interface RoleRef { apiGroup?: string; kind?: string; name?: string }
interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }

for (const overlay of ['overlays/dev', 'overlays/production']) {
  const objects = () => rendered(overlay);

  test(`${overlay}: nothing cluster-wide is granted`, () => {
    const kinds = objects().map((o) => o.kind);
    assert.ok(!kinds.includes('ClusterRole') && !kinds.includes('ClusterRoleBinding'));
  });

  const grantsOf = (role: KubeObject) => ((role.rules ?? []) as Rule[]).flatMap((rule) => {
    assert.equal(rule.resourceNames, undefined);
    assert.equal(rule.nonResourceURLs, undefined);
    return (rule.apiGroups ?? []).flatMap((g) => (rule.resources ?? []).flatMap((r) => (rule.verbs ?? []).map((v) => `${g}:${r}:${v}`)));
  });

  test(`${overlay}: web-terminal may manage, exec into and read the Events of pods in claudecode-sandboxes, and hold its Lease in claudecode-system, nothing more`, () => {
    const roles = objects().filter((o) => o.kind === 'Role');
    assert.deepEqual(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort(),
      ['claudecode-sandboxes/session-manager', 'claudecode-system/web-terminal-leader-election']);
    assert.deepEqual(grantsOf(find(objects(), 'Role', 'session-manager', 'claudecode-sandboxes')).sort(), [
      ':events:get', ':events:list', ':events:watch',
      ':pods/exec:create', ':pods/exec:get',
      ':pods:create', ':pods:delete', ':pods:get', ':pods:list', ':pods:patch', ':pods:watch',
    ].sort());
    assert.deepEqual(grantsOf(find(objects(), 'Role', 'web-terminal-leader-election', 'claudecode-system')).sort(),
      ['coordination.k8s.io:leases:create', 'coordination.k8s.io:leases:get', 'coordination.k8s.io:leases:update']);
  });

  test(`${overlay}: the bindings give those Roles to web-terminal's ServiceAccount only`, () => {
    const bindings = objects().filter((o) => o.kind === 'RoleBinding');
    assert.deepEqual(bindings.map((b) => `${b.metadata.namespace}/${(b.roleRef as RoleRef).name}`).sort(),
      ['claudecode-sandboxes/session-manager', 'claudecode-system/web-terminal-leader-election']);
    for (const binding of bindings) {
      assert.equal((binding.roleRef as RoleRef).kind, 'Role');
      assert.equal((binding.roleRef as RoleRef).apiGroup, 'rbac.authorization.k8s.io');
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'web-terminal', namespace: 'claudecode-system' }]);
    }
  });

  test(`${overlay}: only web-terminal mounts a service account token`, () => {
    const web = podSpecOf(find(objects(), 'Deployment', 'web-terminal', 'claudecode-system'))!;
    assert.equal(web.serviceAccountName, 'web-terminal');
    assert.equal(web.automountServiceAccountToken, true);
    const proxy = podSpecOf(find(objects(), 'Deployment', 'api-proxy', 'claudecode-system'))!;
    assert.equal(proxy.automountServiceAccountToken, false);
    assert.notEqual(proxy.serviceAccountName, 'web-terminal');
    for (const sa of objects().filter((o) => o.kind === 'ServiceAccount')) {
      assert.equal(sa.automountServiceAccountToken, false, `ServiceAccount ${sa.metadata.name} must not automount by default`);
    }
  });
}
