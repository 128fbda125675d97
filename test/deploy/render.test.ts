import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, realpathSync, lstatSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findKustomizations, manifestsDir, parseObjects, renderComposed, rendered, type KubeObject } from './render.ts';

const id = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

const kustomizations = findKustomizations();

test('the manifests hold the expected kustomizations', () => {
  const dirs = kustomizations.map((k) => k.dir);
  for (const expected of ['base', 'cluster', 'overlays/dev', 'overlays/production', 'gpu', 'apps', 'components/ingress-tls', 'components/metrics-scrape', 'components/gpu-sessions', 'components/oauth2-proxy']) {
    assert.ok(dirs.includes(expected), `missing kustomization ${expected}`);
  }
});

for (const k of kustomizations.filter((x) => x.kind === 'Kustomization')) {
  test(`kubectl kustomize renders ${k.dir}`, () => {
    const objects = rendered(k.dir);
    assert.ok(objects.length > 0, 'renders no object');
    for (const o of objects) {
      assert.ok(o.apiVersion && o.kind && o.metadata?.name, `incomplete object ${JSON.stringify(o).slice(0, 120)}`);
    }
    const ids = objects.map(id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate objects');
  });
}

/** Both Ingresses (web-terminal's and oauth2-proxy's /oauth2/) are on HTTPS with the same certificate. */
function assertBothIngressesTls(objects: KubeObject[]) {
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  assert.deepEqual(ingresses.map((o) => o.metadata.name).sort(), ['oauth2-proxy', 'web-terminal']);
  for (const ingress of ingresses) {
    const name = ingress.metadata.name;
    assert.equal(ingress.metadata.annotations?.['traefik.ingress.kubernetes.io/router.entrypoints'], 'websecure', name);
    assert.equal(ingress.metadata.annotations?.['traefik.ingress.kubernetes.io/router.tls'], 'true', name);
    assert.deepEqual((ingress.spec as { tls?: unknown }).tls, [{ secretName: 'claudecode-tls' }], name);
  }
}

test('the components compose with the production overlay: TLS on both Ingresses', () => {
  const objects = renderComposed(['overlays/production'], ['components/ingress-tls', 'components/metrics-scrape', 'components/gpu-sessions']);
  assertBothIngressesTls(objects);
  assert.ok(objects.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-metrics-scrape'));
  assert.ok(objects.some((o) => o.kind === 'ResourceQuota' && o.metadata.name === 'sandbox-gpu-quota'), 'gpu-sessions adds its quota');
});

test('ingress-tls after oauth2-proxy in one kustomization covers the /oauth2/ Ingress too', () => {
  assertBothIngressesTls(renderComposed(['cluster', 'base'], ['components/oauth2-proxy', 'components/ingress-tls']));
  // The other way round the /oauth2/ Ingress is added after the patch ran: it would stay on HTTP.
  const wrongOrder = renderComposed(['cluster', 'base'], ['components/ingress-tls', 'components/oauth2-proxy']);
  assert.equal(wrongOrder.find((o) => o.kind === 'Ingress' && o.metadata.name === 'oauth2-proxy')?.metadata.annotations?.['traefik.ingress.kubernetes.io/router.entrypoints'], 'web');
});

test('every kustomization that lists ingress-tls, even commented out, lists it after oauth2-proxy', () => {
  for (const k of kustomizations) {
    const lines = readFileSync(join(manifestsDir, k.dir, 'kustomization.yaml'), 'utf8').split('\n');
    const at = (component: string) => lines.findIndex((l) => new RegExp(`^\\s*#?\\s*-\\s*\\S*components/${component}\\b`).test(l));
    const tls = at('ingress-tls');
    const auth = at('oauth2-proxy');
    if (tls >= 0 && auth >= 0) assert.ok(tls > auth, `${k.dir}: ingress-tls comes before oauth2-proxy`);
  }
  const production = readFileSync(join(manifestsDir, 'overlays/production/kustomization.yaml'), 'utf8');
  assert.match(production, /components\/ingress-tls/, 'the production overlay offers ingress-tls');
});

test('the seed file names still apply one by one: k8s-manifests/<file>.yaml', () => {
  const flat = readdirSync(manifestsDir).filter((f) => f.endsWith('.yaml'));
  for (const seed of ['namespace', 'rbac', 'configmap', 'secret', 'deployment', 'service', 'api-proxy-deployment', 'api-proxy-service', 'network-policy']) {
    assert.ok(flat.includes(`${seed}.yaml`), `k8s-manifests/${seed}.yaml is missing`);
  }
  const production = new Set(rendered('overlays/production').map(id));
  const baseAndCluster = new Set([...rendered('base'), ...rendered('cluster')].map(id));
  for (const file of flat) {
    const path = join(manifestsDir, file);
    assert.ok(lstatSync(path).isSymbolicLink(), `${file} should point into base/ or cluster/ (one copy of each manifest)`);
    const target = relative(manifestsDir, realpathSync(path));
    assert.match(target, /^(base|cluster)\//, `${file} points outside base/ and cluster/`);
    for (const o of parseObjects(readFileSync(path, 'utf8'), file)) {
      if (o.kind === 'Secret') continue; // the template, created by hand (docs/deploy.md)
      assert.ok(baseAndCluster.has(id(o)), `${file}: ${id(o)} is not part of the kustomizations`);
      assert.ok(production.has(id(o)), `${file}: ${id(o)} is missing from the production overlay`);
    }
  }
});

test('kustomizations use labels:, not the deprecated commonLabels', () => {
  for (const k of kustomizations) {
    const text = readFileSync(join(manifestsDir, k.dir, 'kustomization.yaml'), 'utf8');
    assert.doesNotMatch(text, /^commonLabels:/m, `${k.dir} uses commonLabels`);
  }
});

test('app.kubernetes.io/part-of labels objects but never a selector', () => {
  for (const o of rendered('overlays/production')) {
    if (o.kind === 'Secret') continue;
    assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'claudecode', `${id(o)} lacks part-of`);
    const selector = (o.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector;
    const labels = selector?.matchLabels ?? (o.kind === 'Service' ? (selector as Record<string, string> | undefined) : undefined);
    assert.ok(!labels || !('app.kubernetes.io/part-of' in labels), `${id(o)} selects on part-of`);
  }
});
