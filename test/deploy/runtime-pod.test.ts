// The session pod that web-terminal generates at run time, checked against the rendered
// manifests: it must pass Pod Security restricted, the API schema, the network policies and the
// namespace's limits, with the settings each overlay actually gives the service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { buildSandboxPod } from '../../web-terminal/src/runtime/kubernetes/pod-spec.ts';
import { loadKubernetesConfig } from '../../web-terminal/src/runtime/kubernetes/config.ts';
import type { SandboxSpec } from '../../web-terminal/src/runtime/types.ts';
import { checkRestricted } from './pss-restricted.ts';
import { validateObject } from './schema-validate.ts';
import { isAllowed, type Cluster, type Endpoint, type NetworkPolicy } from './netpol-eval.ts';
import { dig, find, renderComposed, rendered, type KubeObject } from './render.ts';
import { parseQuantity } from './quantity.ts';

const spec = (profile: string): SandboxSpec => ({
  sessionId: 's-0123456789abcdef', userHash: 'a'.repeat(64), credential: 'session-credential-not-a-key',
  command: ['claude'], env: {}, course: { id: 'attention-is-all-you-need', contentDir: '/courses/attention-is-all-you-need' },
  profile, cols: 80, rows: 24, createdAt: new Date('2026-01-01T00:00:00Z'), expiresAt: new Date('2026-01-01T02:00:00Z'),
});

function sessionPod(objects: KubeObject[], profile = 'default'): V1Pod {
  const data = find(objects, 'ConfigMap', 'web-terminal-config', 'claudecode-system').data as Record<string, string>;
  return buildSandboxPod(spec(profile), loadKubernetesConfig(data));
}

const variants: [string, () => KubeObject[], string][] = [
  ['overlays/dev', () => rendered('overlays/dev'), 'default'],
  ['overlays/production', () => rendered('overlays/production'), 'default'],
  ['production + gpu-sessions (gpu profile)', () => renderComposed(['overlays/production'], ['components/gpu-sessions']), 'gpu'],
];

for (const [name, objects, profile] of variants) {
  test(`${name}: the generated session pod meets Pod Security restricted and the API schema`, async () => {
    const pod = sessionPod(objects(), profile);
    assert.deepEqual(checkRestricted(pod.spec), []);
    assert.deepEqual(await validateObject(pod as unknown as KubeObject), []);
    assert.equal(pod.metadata?.namespace, 'claudecode-sandboxes');
    assert.equal(pod.spec?.automountServiceAccountToken, false);
  });

  test(`${name}: the generated session pod reaches the proxy and DNS, and nothing else`, () => {
    const all = objects();
    const pod = sessionPod(all, profile);
    const cluster: Cluster = {
      namespaces: { 'kube-system': {} },
      policies: all.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[],
    };
    const me: Endpoint = { kind: 'pod', namespace: pod.metadata!.namespace!, labels: pod.metadata!.labels!, ip: '10.42.0.50' };
    const proxyLabels = dig(find(all, 'Deployment', 'api-proxy'), 'spec', 'template', 'metadata', 'labels') as Record<string, string>;
    const webLabels = dig(find(all, 'Deployment', 'web-terminal'), 'spec', 'template', 'metadata', 'labels') as Record<string, string>;
    const proxy: Endpoint = { kind: 'pod', namespace: 'claudecode-system', labels: proxyLabels, ip: '10.42.0.10' };
    const web: Endpoint = { kind: 'pod', namespace: 'claudecode-system', labels: webLabels, ip: '10.42.0.11' };
    const dns: Endpoint = { kind: 'pod', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ip: '10.42.0.2' };
    const proxyUrl = new URL(pod.spec!.containers[0]!.env!.find((e) => e.name === 'ANTHROPIC_BASE_URL')!.value!);
    assert.ok(isAllowed(cluster, { from: me, to: proxy, port: Number(proxyUrl.port) }));
    assert.ok(isAllowed(cluster, { from: me, to: dns, port: 53, protocol: 'UDP' }));
    assert.ok(!isAllowed(cluster, { from: me, to: web, port: 3000 }));
    assert.ok(!isAllowed(cluster, { from: me, to: { kind: 'external', ip: '192.168.1.10' }, port: 6443 }));
    assert.ok(!isAllowed(cluster, { from: me, to: { kind: 'external', ip: '160.79.104.10' }, port: 443 }));
    assert.ok(!isAllowed(cluster, { from: web, to: me, port: 22 }));
  });

  test(`${name}: the generated session pod fits the namespace's LimitRange and quota`, () => {
    const all = objects();
    const pod = sessionPod(all, profile);
    const resources = pod.spec!.containers[0]!.resources!;
    const limitRange = dig(find(all, 'LimitRange', 'sandbox-limits'), 'spec', 'limits') as { type: string; max: Record<string, string> }[];
    const max = limitRange.find((l) => l.type === 'Container')!.max;
    for (const [r, value] of Object.entries(resources.limits ?? {})) {
      if (max[r] !== undefined) assert.ok(parseQuantity(value) <= parseQuantity(max[r]), `${r} limit ${value} over the LimitRange max ${max[r]}`);
    }
    const gpus = resources.limits?.['nvidia.com/gpu'];
    if (gpus !== undefined) {
      const quota = all.find((o) => o.kind === 'ResourceQuota' && o.metadata.name === 'sandbox-gpu-quota');
      assert.ok(quota, 'a GPU session needs the GPU quota');
      assert.ok(parseQuantity(gpus) <= parseQuantity((dig(quota, 'spec', 'hard') as Record<string, string>)['requests.nvidia.com/gpu']!));
      assert.equal(pod.spec!.runtimeClassName, 'nvidia');
      assert.equal(pod.spec!.nodeSelector?.['nvidia.com/gpu.present'], 'true');
    }
  });
}
