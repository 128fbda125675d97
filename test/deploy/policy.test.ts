import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, find, findKustomizations, imagesOf, manifestsDir, parseObjects, podSpecOf, rendered, repoRoot, type KubeObject } from './render.ts';
import { parseQuantity } from './quantity.ts';
import { ConfigError, configSchema, configShape, loadConfig } from '../../web-terminal/src/config.ts';
import { authConfigProblems } from '../../web-terminal/src/auth/safety.ts';
import { loadProxyConfig } from '../../api-proxy/src/config.ts';

interface Container {
  name: string; image: string; imagePullPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume { name: string; emptyDir?: object; secret?: { secretName: string; items?: { key: string; path: string }[] }; persistentVolumeClaim?: { claimName: string } }

const containersOf = (o: KubeObject) => (podSpecOf(o)?.containers ?? []) as Container[];
const volumesOf = (o: KubeObject) => (podSpecOf(o)?.volumes ?? []) as Volume[];
const configData = (objects: KubeObject[], name: string) => find(objects, 'ConfigMap', name, 'claudecode-system').data as Record<string, string>;
const allRendered = () => findKustomizations().filter((k) => k.kind === 'Kustomization').flatMap((k) => rendered(k.dir));
const overlays = ['overlays/dev', 'overlays/production'];

test('no Secret carries data, rendered or in the template', () => {
  const secrets = [...allRendered(), ...parseObjects(readFileSync(join(manifestsDir, 'base/secret.yaml'), 'utf8'), 'secret.yaml')]
    .filter((o) => o.kind === 'Secret');
  assert.ok(secrets.length >= 1, 'the template should be found');
  for (const s of secrets) {
    assert.equal(s.data, undefined, `Secret ${s.metadata.name} has data`);
    assert.equal(s.stringData, undefined, `Secret ${s.metadata.name} has stringData`);
  }
  for (const k of findKustomizations()) {
    const text = readFileSync(join(manifestsDir, k.dir, 'kustomization.yaml'), 'utf8');
    assert.doesNotMatch(text, /secretGenerator/, `${k.dir} generates a Secret`);
  }
});

test('production pins every image to a version: no latest, no missing tag, the same release everywhere', () => {
  const objects = rendered('overlays/production');
  const images = [...objects.flatMap(imagesOf), configData(objects, 'web-terminal-config').SANDBOX_IMAGE!];
  const own = images.filter((i) => i.startsWith('claudecode/'));
  assert.deepEqual(own.map((i) => i.split(':')[0]).sort(), ['claudecode/api-proxy', 'claudecode/sandbox', 'claudecode/web-terminal']);
  for (const image of images) {
    const tag = /:([^/:@]+)$/.exec(image)?.[1];
    assert.ok(tag, `${image} has no tag`);
    assert.notEqual(tag, 'latest', `${image} uses latest`);
  }
  const tags = new Set(own.map((i) => i.split(':')[1]));
  assert.equal(tags.size, 1, `one release tag for all three images, got ${[...tags].join(', ')}`);
  assert.match([...tags][0]!, /^\d+\.\d+\.\d+$/);
});

test('the dev overlay runs the :dev images, sandbox included', () => {
  const objects = rendered('overlays/dev');
  const own = [...objects.flatMap(imagesOf), configData(objects, 'web-terminal-config').SANDBOX_IMAGE!].filter((i) => i.startsWith('claudecode/'));
  assert.deepEqual(own.map((i) => i.split(':')[1]), ['dev', 'dev', 'dev']);
});

test('no image is pulled with Always (k3s runs imported images; there may be no registry)', () => {
  for (const o of allRendered()) {
    for (const c of containersOf(o)) assert.notEqual(c.imagePullPolicy, 'Always', `${o.metadata.name}/${c.name}`);
  }
  for (const overlay of overlays) {
    assert.notEqual(configData(rendered(overlay), 'web-terminal-config').SANDBOX_IMAGE_PULL_POLICY, 'Always');
  }
});

for (const overlay of overlays) {
  test(`${overlay}: the web-terminal ConfigMap is valid for the service's own config schema`, () => {
    const data = configData(rendered(overlay), 'web-terminal-config');
    for (const key of Object.keys(data)) {
      assert.ok(key in configShape, `unknown setting ${key}`);
    }
    const config = loadConfig({ ...data, PROXY_SHARED_SECRET_FILE: '/var/run/secrets/claudecode/proxy-shared-secret' });
    assert.deepEqual(authConfigProblems(config), [], 'the service would refuse to start');
    assert.equal(config.RUNTIME, 'kubernetes');
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.PORT, 3000);
    assert.equal(config.K8S_NAMESPACE, 'claudecode-sandboxes');
    assert.equal(config.DB_PATH, '/data/progress.db');
    assert.equal(config.COURSES_DIR, '/courses');
  });
}

test('the base alone would not start with trusted-header: it leaves the trusted proxies to the overlay', () => {
  const data = configData(rendered('base'), 'web-terminal-config');
  assert.equal(data.AUTH_MODE, 'trusted-header');
  // The one validation of loadConfig reports it (with every other problem), and so do the auth rules alone.
  assert.throws(() => loadConfig({ ...data, PROXY_SHARED_SECRET_FILE: '/var/run/secrets/claudecode/proxy-shared-secret' }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith('AUTH_TRUSTED_PROXIES'));
  const problems = authConfigProblems(configSchema.parse(data));
  assert.ok(problems.some((p) => p.startsWith('AUTH_TRUSTED_PROXIES')), problems.join('\n'));
});

for (const overlay of overlays) {
  test(`${overlay}: the api-proxy settings and mounted secret files load with the proxy's own config`, () => {
    const objects = rendered(overlay);
    const container = containersOf(find(objects, 'Deployment', 'api-proxy', 'claudecode-system'))[0]!;
    const env: Record<string, string> = { ...configData(objects, 'api-proxy-config') };
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const dir = mkdtempSync(join(tmpdir(), 'proxy-secrets-'));
    try {
      // The Secret's files, as the kubelet would mount them, at a temporary place.
      const mount = '/var/run/secrets/claudecode/';
      for (const [name, content] of [['anthropic-api-key', 'sk-ant-test-not-a-real-key'], ['proxy-shared-secret', 'x'.repeat(64)]] as const) {
        writeFileSync(join(dir, name), content);
      }
      for (const key of ['ANTHROPIC_API_KEY_FILE', 'PROXY_SHARED_SECRET_FILE']) {
        const path = env[key] ?? '';
        assert.ok(path.startsWith(mount), `${key} points into the Secret mount`);
        env[key] = join(dir, path.slice(mount.length));
      }
      const config = loadProxyConfig(env);
      assert.equal(config.port, 8080);
      assert.equal(config.metricsPort, 9090);
      assert.equal(config.host, '0.0.0.0');
      assert.equal(config.anthropicApiKey, 'sk-ant-test-not-a-real-key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('authentication: dev allows no sign-in explicitly, production requires the trusted header', () => {
  const dev = configData(rendered('overlays/dev'), 'web-terminal-config');
  assert.equal(dev.AUTH_MODE, 'none');
  assert.equal(dev.AUTH_ALLOW_UNAUTHENTICATED_NETWORK, 'true');
  const prod = configData(rendered('overlays/production'), 'web-terminal-config');
  assert.equal(prod.AUTH_MODE, 'trusted-header');
  assert.equal(prod.AUTH_ALLOW_UNAUTHENTICATED_NETWORK, undefined);
  assert.doesNotMatch(prod.ALLOWED_ORIGINS ?? '', /localhost|127\.0\.0\.1/);
  // Email and groups from oauth2-proxy; who is an administrator is the operator's choice, empty in git.
  assert.equal(prod.AUTH_EMAIL_HEADER, 'x-auth-request-email');
  assert.equal(prod.AUTH_GROUPS_HEADER, 'x-auth-request-groups');
  assert.equal(prod.AUTH_ADMIN_GROUPS, '');
  assert.equal(prod.AUTH_ADMIN_USERS, undefined);
  const loaded = loadConfig({ ...prod, PROXY_SHARED_SECRET_FILE: '/var/run/secrets/claudecode/proxy-shared-secret' });
  assert.deepEqual(loaded.AUTH_ADMIN_GROUPS, []);
});

test('production is reachable only through the Ingress: no NodePort; dev serves NodePort 31000', () => {
  const prod = find(rendered('overlays/production'), 'Service', 'web-terminal');
  assert.equal(dig(prod, 'spec', 'type'), 'ClusterIP');
  assert.equal(dig(prod, 'spec', 'ports', '0', 'nodePort'), undefined);
  const dev = find(rendered('overlays/dev'), 'Service', 'web-terminal');
  assert.equal(dig(dev, 'spec', 'type'), 'NodePort');
  assert.equal(dig(dev, 'spec', 'ports', '0', 'nodePort'), 31000);
  assert.equal(dig(dev, 'spec', 'ports', '0', 'port'), 3000);
  const ingress = find(rendered('overlays/production'), 'Ingress', 'web-terminal');
  assert.equal(ingress.metadata.annotations?.['traefik.ingress.kubernetes.io/router.middlewares'],
    'claudecode-system-oauth2-sign-in@kubernetescrd,claudecode-system-forward-auth@kubernetescrd');
});

for (const overlay of overlays) {
  test(`${overlay}: SANDBOX_PROXY_URL names the api-proxy Service and port`, () => {
    const objects = rendered(overlay);
    const service = find(objects, 'Service', 'api-proxy', 'claudecode-system');
    assert.equal(dig(service, 'spec', 'type'), 'ClusterIP');
    const port = dig(service, 'spec', 'ports', '0', 'port');
    assert.equal(port, 8080);
    assert.equal(configData(objects, 'web-terminal-config').SANDBOX_PROXY_URL, `http://api-proxy.claudecode-system.svc.cluster.local:${port}`);
    const proxyPorts = containersOf(find(objects, 'Deployment', 'api-proxy')).flatMap((c) => c.ports ?? []);
    assert.deepEqual(proxyPorts.map((p) => [p.name, p.containerPort]), [['http', 8080], ['metrics', 9090]]);
    // The Service (what sandboxes are pointed at) exposes the API port only, never the metrics port.
    assert.deepEqual((dig(service, 'spec', 'ports') as { port: number }[]).map((p) => p.port), [8080]);
    // The web-terminal pushes live sessions to the internal port, through a Service of its own.
    const internal = find(objects, 'Service', 'api-proxy-internal', 'claudecode-system');
    assert.deepEqual((dig(internal, 'spec', 'ports') as { port: number }[]).map((p) => p.port), [9090]);
    assert.equal(configData(objects, 'web-terminal-config').API_PROXY_CONTROL_URL, 'http://api-proxy-internal.claudecode-system.svc.cluster.local:9090');
  });

  test(`${overlay}: api-proxy serves metrics and probes on its own port, away from the sandbox-facing one`, () => {
    const objects = rendered(overlay);
    const proxyConfig = configData(objects, 'api-proxy-config');
    assert.equal(proxyConfig.METRICS_PORT, '9090');
    assert.notEqual(proxyConfig.METRICS_PORT, proxyConfig.PORT);
    const deployment = find(objects, 'Deployment', 'api-proxy', 'claudecode-system');
    const [c] = containersOf(deployment);
    assert.equal(c?.ports?.find((p) => p.name === 'metrics')?.containerPort, Number(proxyConfig.METRICS_PORT));
    for (const probe of [c?.startupProbe, c?.livenessProbe, c?.readinessProbe]) assert.equal(probe?.httpGet?.port, 'metrics');
    const annotations = dig(deployment, 'spec', 'template', 'metadata', 'annotations') as Record<string, string>;
    assert.equal(annotations['prometheus.io/port'], proxyConfig.METRICS_PORT);
  });

  test(`${overlay}: both services have probes, resources, a writable /tmp only, and scrape annotations`, () => {
    const objects = rendered(overlay);
    // [name, service port, metrics port, the named port the probes use]
    for (const [name, port, metricsPort, probePort] of [['web-terminal', 3000, 9090, 'http'], ['api-proxy', 8080, 9090, 'metrics']] as const) {
      const deployment = find(objects, 'Deployment', name, 'claudecode-system');
      const [c] = containersOf(deployment);
      assert.ok(c);
      assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: probePort });
      assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: probePort });
      assert.ok(c.ports?.some((p) => p.name === probePort), `${name} has no port named ${probePort}`);
      assert.equal(c.ports?.[0]?.containerPort, port);
      for (const r of ['cpu', 'memory']) {
        assert.ok(c.resources?.requests?.[r] && c.resources.limits?.[r], `${name} ${r} requests/limits`);
        assert.ok(parseQuantity(c.resources.requests[r]) <= parseQuantity(c.resources.limits[r]));
      }
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      assert.ok(tmp && volumesOf(deployment).find((v) => v.name === tmp.name)?.emptyDir, `${name} needs an emptyDir on /tmp`);
      const annotations = dig(deployment, 'spec', 'template', 'metadata', 'annotations') as Record<string, string>;
      assert.equal(annotations['prometheus.io/scrape'], 'true');
      assert.equal(annotations['prometheus.io/port'], String(metricsPort));
      assert.equal(annotations['prometheus.io/path'], '/metrics');
    }
  });

  test(`${overlay}: secrets reach the services only as files, and the real key only api-proxy`, () => {
    const objects = rendered(overlay);
    const mountedKeys = (name: string) => {
      const deployment = find(objects, 'Deployment', name, 'claudecode-system');
      for (const c of containersOf(deployment)) {
        for (const e of c.env ?? []) assert.equal(dig(e, 'valueFrom', 'secretKeyRef'), undefined, `${name}: ${e.name} comes from a Secret as env`);
        for (const e of c.envFrom ?? []) assert.equal(e.secretRef, undefined, `${name}: envFrom a Secret`);
        const mount = c.volumeMounts?.find((m) => m.mountPath === '/var/run/secrets/claudecode');
        assert.equal(mount?.readOnly, true);
      }
      const volume = volumesOf(deployment).find((v) => v.secret);
      assert.equal(volume?.secret?.secretName, 'claudecode-secrets');
      return (volume?.secret?.items ?? []).map((i) => i.key).sort();
    };
    assert.deepEqual(mountedKeys('web-terminal'), ['proxy-shared-secret']);
    assert.deepEqual(mountedKeys('api-proxy'), ['anthropic-api-key', 'proxy-shared-secret']);
    const env = (name: string) => Object.fromEntries((containersOf(find(objects, 'Deployment', name))[0]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env('web-terminal').PROXY_SHARED_SECRET_FILE, '/var/run/secrets/claudecode/proxy-shared-secret');
    assert.equal(env('api-proxy').PROXY_SHARED_SECRET_FILE, '/var/run/secrets/claudecode/proxy-shared-secret');
    assert.equal(env('api-proxy').ANTHROPIC_API_KEY_FILE, '/var/run/secrets/claudecode/anthropic-api-key');
    const proxyConfig = configData(objects, 'api-proxy-config');
    assert.equal(proxyConfig.UPSTREAM_URL, 'https://api.anthropic.com');
    assert.equal(proxyConfig.PORT, '8080');
  });

  test(`${overlay}: the progress DB lives on a local-path volume mounted at /data`, () => {
    const objects = rendered(overlay);
    const pvc = find(objects, 'PersistentVolumeClaim', 'web-terminal-data', 'claudecode-system');
    assert.equal(dig(pvc, 'spec', 'storageClassName'), 'local-path');
    const deployment = find(objects, 'Deployment', 'web-terminal');
    assert.equal(dig(deployment, 'spec', 'strategy', 'type'), 'Recreate');
    const claim = volumesOf(deployment).find((v) => v.persistentVolumeClaim?.claimName === 'web-terminal-data');
    assert.ok(claim);
    assert.equal(containersOf(deployment)[0]?.volumeMounts?.find((m) => m.name === claim.name)?.mountPath, '/data');
    assert.ok(configData(objects, 'web-terminal-config').DB_PATH?.startsWith('/data/'));
  });

  test(`${overlay}: the sandbox quota and limits admit MAX_SESSIONS sessions`, () => {
    const objects = rendered(overlay);
    const maxSessions = Number(configData(objects, 'web-terminal-config').MAX_SESSIONS);
    const quota = dig(find(objects, 'ResourceQuota', 'sandbox-quota', 'claudecode-sandboxes'), 'spec', 'hard') as Record<string, string>;
    const limits = dig(find(objects, 'LimitRange', 'sandbox-limits', 'claudecode-sandboxes'), 'spec', 'limits') as { type: string; default?: Record<string, string>; defaultRequest?: Record<string, string>; max?: Record<string, string> }[];
    const container = limits.find((l) => l.type === 'Container')!;
    assert.ok(parseQuantity(quota.pods!) >= maxSessions, 'pods quota');
    for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
      // Each session at its largest allowed size must fit, MAX_SESSIONS times over.
      assert.ok(parseQuantity(quota[`limits.${r}`]!) >= maxSessions * parseQuantity(container.max![r]!), `limits.${r}`);
      assert.ok(parseQuantity(quota[`requests.${r}`]!) >= maxSessions * parseQuantity(container.defaultRequest![r]!), `requests.${r}`);
      assert.ok(parseQuantity(container.default![r]!) <= parseQuantity(container.max![r]!), `default ${r} within max`);
    }
  });
}

/** Metric names the services register (prom-client `name:` fields), histograms as their _bucket series. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of ['web-terminal/src/metrics.ts', 'api-proxy/src/metrics.ts']) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const m of source.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name: '([a-z_]+)'/g)) {
      names.add(m[1] === 'Histogram' ? `${m[2]}_bucket` : m[2]!);
    }
  }
  return names;
}

test('the Grafana dashboard parses and charts only metrics the services register', () => {
  const exported = exportedMetrics();
  assert.ok(exported.has('webterminal_active_sessions'), 'the metric sources were not read');
  const cm = find(rendered('overlays/production'), 'ConfigMap', 'claudecode-grafana-dashboard', 'claudecode-system');
  assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
  const dashboard = JSON.parse((cm.data as Record<string, string>)['claudecode.json']!) as { panels: { targets: { expr: string }[] }[] };
  const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(webterminal|api_?proxy)_[a-z_]+/g) ?? []));
  assert.ok(used.length >= 8);
  for (const metric of used) assert.ok(exported.has(metric), `the dashboard charts ${metric}, which no service registers`);
  // Every service-level metric (not the process defaults) has a panel.
  for (const metric of exported) {
    if (!metric.includes('_process_')) assert.ok(used.includes(metric), `no panel for ${metric}`);
  }
});
