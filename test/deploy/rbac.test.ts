import { test } from 'node:test';
import assert from 'node:assert/strict';
import { find, podSpecOf, rendered } from './render.ts';

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }

for (const overlay of ['overlays/dev', 'overlays/production']) {
  const objects = () => rendered(overlay);

  test(`${overlay}: nothing cluster-wide is granted`, () => {
    const kinds = objects().map((o) => o.kind);
    assert.ok(!kinds.includes('ClusterRole') && !kinds.includes('ClusterRoleBinding'));
  });

  test(`${overlay}: web-terminal may manage and exec into pods in claudecode-sandboxes, nothing more`, () => {
    const roles = objects().filter((o) => o.kind === 'Role');
    assert.deepEqual(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`), ['claudecode-sandboxes/session-manager']);
    const grants = ((roles[0]!.rules ?? []) as Rule[]).flatMap((rule) => {
      assert.equal(rule.resourceNames, undefined);
      assert.equal(rule.nonResourceURLs, undefined);
      return (rule.apiGroups ?? []).flatMap((g) => (rule.resources ?? []).flatMap((r) => (rule.verbs ?? []).map((v) => `${g}:${r}:${v}`)));
    });
    assert.deepEqual(grants.sort(), [
      ':pods/exec:create', ':pods/exec:get',
      ':pods:create', ':pods:delete', ':pods:get', ':pods:list', ':pods:watch',
    ].sort());
  });

  test(`${overlay}: the only binding gives that Role to web-terminal's ServiceAccount`, () => {
    const bindings = objects().filter((o) => o.kind === 'RoleBinding');
    assert.equal(bindings.length, 1);
    const binding = bindings[0]!;
    assert.equal(binding.metadata.namespace, 'claudecode-sandboxes');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'session-manager' });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'web-terminal', namespace: 'claudecode-system' }]);
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
