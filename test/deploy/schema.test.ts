import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findKustomizations, renderComposed, rendered, type KubeObject } from './render.ts';
import { validateObject } from './schema-validate.ts';
import { hasTraefikSchema } from './traefik-schema.ts';

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

test('production holds the Traefik middlewares, and only they bypass the Kubernetes API schema', () => {
  const objects = rendered('overlays/production');
  const custom = objects.filter(hasTraefikSchema).map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(custom, ['traefik.io/v1alpha1 Middleware/forward-auth', 'traefik.io/v1alpha1 Middleware/oauth2-sign-in']);
  // Everything else is a built-in kind, checked strictly against the Kubernetes schema above.
  for (const o of objects.filter((x) => !hasTraefikSchema(x))) assert.doesNotMatch(o.apiVersion, /traefik/);
});

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

// ---- the hand-written Traefik schema (traefik-schema.ts) ----------------------------------

const middleware = (spec: Record<string, unknown>, apiVersion = 'traefik.io/v1alpha1'): KubeObject => ({
  apiVersion, kind: 'Middleware', metadata: { name: 'forward-auth', namespace: 'claudecode-system' }, spec,
});
const forwardAuth = { address: 'http://oauth2-proxy.claudecode-system.svc.cluster.local:4180/oauth2/auth', trustForwardHeader: false, authResponseHeaders: ['X-Auth-Request-User'] };

test('the Traefik schema accepts the forwardAuth and errors middlewares we use', async () => {
  assert.deepEqual(await validateObject(middleware({ forwardAuth })), []);
  assert.deepEqual(await validateObject(middleware({ errors: { status: ['401', '500-599'], service: { name: 'oauth2-proxy', port: 4180 }, query: '/oauth2/sign_in' } })), []);
});

test('the Traefik schema reports misspelled fields, wrong types and bad values, and labels itself', async () => {
  const typo = await validateObject(middleware({ forwardAuth: { address: forwardAuth.address, authResponseHeader: ['X-Auth-Request-User'] } }));
  assert.equal(typo.length, 1, typo.join('\n'));
  assert.match(typo[0]!, /\/spec\/forwardAuth .*authResponseHeader.*hand-written Traefik schema/);
  const types = await validateObject(middleware({ forwardAuth: { ...forwardAuth, trustForwardHeader: 'false' } }));
  assert.ok(types.some((p) => p.includes('/spec/forwardAuth/trustForwardHeader')), types.join('\n'));
  const status = await validateObject(middleware({ errors: { status: [401], service: { name: 'oauth2-proxy', port: 4180 } } }));
  assert.ok(status.some((p) => p.includes('/spec/errors/status/0')), status.join('\n'));
  const address = await validateObject(middleware({ forwardAuth: { ...forwardAuth, address: 'oauth2-proxy:4180/oauth2/auth' } }));
  assert.ok(address.some((p) => p.includes('/spec/forwardAuth/address')), address.join('\n'));
  const metadata = await validateObject({ ...middleware({ forwardAuth }), metadata: { name: 'forward-auth' } });
  assert.ok(metadata.some((p) => p.includes('/metadata/namespace')), metadata.join('\n'));
});

test('the Traefik schema wants exactly one middleware type per object', async () => {
  assert.ok((await validateObject(middleware({}))).some((p) => p.includes('exactly one middleware type')));
  assert.ok((await validateObject(middleware({ forwardAuth, errors: { status: ['401'], service: { name: 's', port: 1 } } }))).some((p) => p.includes('exactly one middleware type')));
  const other = await validateObject(middleware({ basicAuth: { secret: 'x' } }));
  assert.ok(other.some((p) => p.includes('basicAuth')), other.join('\n'));
});

test('other Traefik kinds and the old API group are not covered: refused like any custom resource', async () => {
  for (const obj of [middleware({ forwardAuth }, 'traefik.containo.us/v1alpha1'), { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'x' } }]) {
    const problems = await validateObject(obj);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /not in the Kubernetes API schema/);
  }
});
