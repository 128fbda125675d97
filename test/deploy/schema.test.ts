import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findKustomizations, renderComposed, rendered, type KubeObject } from './render.ts';
import { validateObject } from './schema-validate.ts';

const renders: [string, () => KubeObject[]][] = [
  ...findKustomizations().filter((k) => k.kind === 'Kustomization').map((k): [string, () => KubeObject[]] => [k.dir, () => rendered(k.dir)]),
  ['production + all components', () => renderComposed(['overlays/production'], ['components/ingress-tls', 'components/metrics-scrape', 'components/gpu-sessions'])],
];

for (const [name, objects] of renders) {
  test(`every object of ${name} validates against the Kubernetes API schema`, async () => {
    const problems = (await Promise.all(objects().map(validateObject))).flat();
    assert.deepEqual(problems, []);
  });
}

const deployment = (container: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'ns' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } } },
});

test('the validator accepts a minimal valid object', async () => {
  assert.deepEqual(await validateObject(deployment({ name: 'c', image: 'i:1' })), []);
});

test('the validator reports wrong types, bad enum values and missing required fields', async () => {
  const problems = await validateObject(deployment({ image: 'i:1', imagePullPolicy: 'Sometimes', ports: [{ containerPort: '80' }] }));
  assert.ok(problems.some((p) => p.includes('/containers/0') && p.includes('name')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('imagePullPolicy')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('containerPort') && p.includes('integer')), problems.join('\n'));
});

test('the validator reports unknown (misspelled) fields at any depth', async () => {
  const problems = await validateObject(deployment({ name: 'c', image: 'i:1', securityContex: { runAsNonRoot: true } }));
  assert.deepEqual(problems, ['Deployment ns/x: /spec/template/spec/containers/0/securityContex: unknown field']);
  const nested = await validateObject(deployment({ name: 'c', image: 'i:1', resources: { limits: { cpu: '1' }, limit: {} } }));
  assert.equal(nested.length, 1);
  assert.match(nested[0]!, /resources\/limit: unknown field/);
});

test('the validator refuses kinds outside the Kubernetes API (custom resources)', async () => {
  const problems = await validateObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' } });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /not in the Kubernetes API schema/);
});
