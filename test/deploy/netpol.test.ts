import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAllowed, cidrContains, selectorMatches, type Cluster, type Endpoint, type NetworkPolicy } from './netpol-eval.ts';
import { renderComposed, rendered, type KubeObject } from './render.ts';

// ---- the evaluator itself --------------------------------------------------------------

const pod = (namespace: string, labels: Record<string, string>, ip?: string): Endpoint => ({ kind: 'pod', namespace, labels, ...(ip ? { ip } : {}) });
const policy = (namespace: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({ metadata: { name: 'p', namespace }, spec });

test('selectors: matchLabels and every matchExpressions operator', () => {
  const labels = { app: 'a', tier: 'web' };
  assert.ok(selectorMatches({}, labels));
  assert.ok(selectorMatches({ matchLabels: { app: 'a' } }, labels));
  assert.ok(!selectorMatches({ matchLabels: { app: 'b' } }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] }, labels));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels));
});

test('CIDR containment', () => {
  assert.ok(cidrContains('10.0.0.0/8', '10.42.1.7'));
  assert.ok(!cidrContains('10.0.0.0/8', '11.0.0.1'));
  assert.ok(cidrContains('0.0.0.0/0', '203.0.113.9'));
  assert.ok(cidrContains('192.168.1.10/32', '192.168.1.10'));
  assert.ok(!cidrContains('192.168.1.10/32', '192.168.1.11'));
});

test('no policy: everything allowed; an empty policy isolates the selected pods', () => {
  const a = pod('ns', { app: 'a' });
  const b = pod('ns', { app: 'b' });
  assert.ok(isAllowed({ policies: [], namespaces: {} }, { from: a, to: b, port: 80 }));
  const denyAll: Cluster = { policies: [policy('ns', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], namespaces: {} };
  assert.ok(!isAllowed(denyAll, { from: a, to: b, port: 80 }));
  assert.ok(!isAllowed(denyAll, { from: a, to: { kind: 'external', ip: '1.1.1.1' }, port: 443 }));
  assert.ok(isAllowed(denyAll, { from: pod('other', {}), to: { kind: 'external', ip: '1.1.1.1' }, port: 443 }));
});

test('a namespaceSelector and podSelector in one peer are ANDed, in two peers ORed', () => {
  const to = [{ namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { app: 'db' } } }];
  const and: Cluster = { namespaces: { x: { team: 'x' }, y: {} }, policies: [policy('y', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to }] })] };
  const src = pod('y', {});
  assert.ok(isAllowed(and, { from: src, to: pod('x', { app: 'db' }), port: 5432 }));
  assert.ok(!isAllowed(and, { from: src, to: pod('x', { app: 'web' }), port: 5432 }));
  assert.ok(!isAllowed(and, { from: src, to: pod('y', { app: 'db' }), port: 5432 }));
  const or: Cluster = { ...and, policies: [policy('y', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: to[0]!.namespaceSelector }, { podSelector: to[0]!.podSelector }] }] })] };
  assert.ok(isAllowed(or, { from: src, to: pod('x', { app: 'web' }), port: 5432 }));
  assert.ok(isAllowed(or, { from: src, to: pod('y', { app: 'db' }), port: 5432 }));
});

test('ports: protocol defaults to TCP, ranges with endPort, named ports', () => {
  const cluster: Cluster = { namespaces: {}, policies: [policy('ns', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 8000, endPort: 8010 }, { port: 'metrics' }] }] })] };
  const src = pod('other', {});
  const dst: Endpoint = { kind: 'pod', namespace: 'ns', labels: {}, namedPorts: { metrics: 9090 } };
  assert.ok(isAllowed(cluster, { from: src, to: dst, port: 53, protocol: 'UDP' }));
  assert.ok(!isAllowed(cluster, { from: src, to: dst, port: 53 }));
  assert.ok(isAllowed(cluster, { from: src, to: dst, port: 8005 }));
  assert.ok(!isAllowed(cluster, { from: src, to: dst, port: 8011 }));
  assert.ok(isAllowed(cluster, { from: src, to: dst, port: 9090 }));
});

test('ipBlock with except', () => {
  const cluster: Cluster = { namespaces: {}, policies: [policy('ns', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] })] };
  const src = pod('ns', {});
  assert.ok(isAllowed(cluster, { from: src, to: { kind: 'external', ip: '8.8.8.8' }, port: 443 }));
  assert.ok(!isAllowed(cluster, { from: src, to: { kind: 'external', ip: '10.1.2.3' }, port: 443 }));
  assert.ok(!isAllowed(cluster, { from: src, to: pod('x', {}), port: 443 }), 'a pod without a known IP does not match an ipBlock');
});

// ---- the rendered policies -----------------------------------------------------------------

function clusterFrom(objects: KubeObject[]): Cluster {
  const namespaces = Object.fromEntries(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels ?? {}]));
  return { namespaces: { 'kube-system': {}, monitoring: {}, ...namespaces }, policies: objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[] };
}

const sandbox = pod('claudecode-sandboxes', {
  'app.kubernetes.io/name': 'claudecode-sandbox', 'app.kubernetes.io/component': 'sandbox',
  'app.kubernetes.io/managed-by': 'claudecode-web-terminal', 'claudecode.io/session-id': 's1', 'claudecode.io/user-hash': 'u1',
}, '10.42.0.20');
const otherSandbox = pod('claudecode-sandboxes', { ...(sandbox as { labels: Record<string, string> }).labels, 'claudecode.io/session-id': 's2' }, '10.42.0.21');
const strayPod = pod('claudecode-sandboxes', { app: 'debug' }, '10.42.0.22');
const proxy = pod('claudecode-system', { 'app.kubernetes.io/name': 'api-proxy', 'app.kubernetes.io/component': 'proxy', 'app.kubernetes.io/part-of': 'claudecode' }, '10.42.0.10');
const web = pod('claudecode-system', { 'app.kubernetes.io/name': 'web-terminal', 'app.kubernetes.io/component': 'web', 'app.kubernetes.io/part-of': 'claudecode' }, '10.42.0.11');
const oauth2Proxy = pod('claudecode-system', { 'app.kubernetes.io/name': 'oauth2-proxy', 'app.kubernetes.io/component': 'auth', 'app.kubernetes.io/part-of': 'claudecode' }, '10.42.0.12');
const dns = pod('kube-system', { 'k8s-app': 'kube-dns' }, '10.42.0.2');
const traefik = pod('kube-system', { 'app.kubernetes.io/name': 'traefik' }, '10.42.0.3');
const prometheus = pod('monitoring', { 'app.kubernetes.io/name': 'prometheus' }, '10.42.0.30');
const appPod = pod('apps', { 'app.kubernetes.io/name': 'frontend' }, '10.42.0.40');
const apiServer: Endpoint = { kind: 'external', ip: '192.168.1.10' }; // the k3s server's own address
const internet: Endpoint = { kind: 'external', ip: '160.79.104.10' };
const lanHost: Endpoint = { kind: 'external', ip: '192.168.1.50' };
const browser: Endpoint = { kind: 'external', ip: '192.168.1.77' };

type Flow = [string, Endpoint, Endpoint, number, 'TCP' | 'UDP', boolean];
const commonFlows: Flow[] = [
  ['sandbox -> api-proxy :8080', sandbox, proxy, 8080, 'TCP', true],
  ['sandbox -> DNS :53/udp', sandbox, dns, 53, 'UDP', true],
  ['sandbox -> DNS :53/tcp', sandbox, dns, 53, 'TCP', true],
  ['sandbox -> api-proxy metrics :9090', sandbox, proxy, 9090, 'TCP', false],
  ['sandbox -> api-proxy on another port', sandbox, proxy, 8081, 'TCP', false],
  ['sandbox -> web-terminal :3000', sandbox, web, 3000, 'TCP', false],
  ['sandbox -> Kubernetes API :6443', sandbox, apiServer, 6443, 'TCP', false],
  ['sandbox -> Kubernetes API Service :443', sandbox, { kind: 'external', ip: '10.43.0.1' }, 443, 'TCP', false],
  ['sandbox -> internet :443', sandbox, internet, 443, 'TCP', false],
  ['sandbox -> internet :80', sandbox, internet, 80, 'TCP', false],
  ['sandbox -> LAN host', sandbox, lanHost, 22, 'TCP', false],
  ['sandbox -> another sandbox', sandbox, otherSandbox, 8080, 'TCP', false],
  ['sandbox -> other apps', sandbox, appPod, 8080, 'TCP', false],
  ['sandbox -> DNS on a pod that is not kube-dns', sandbox, pod('kube-system', { 'k8s-app': 'other' }), 53, 'UDP', false],
  ['web-terminal -> sandbox (exec goes through the API server)', web, sandbox, 8080, 'TCP', false],
  ['anything -> sandbox', internet, sandbox, 22, 'TCP', false],
  ['another namespace -> sandbox', appPod, sandbox, 8080, 'TCP', false],
  ['a stray pod in the sandbox namespace -> api-proxy', strayPod, proxy, 8080, 'TCP', false],
  ['a stray pod in the sandbox namespace -> DNS', strayPod, dns, 53, 'UDP', false],
  ['api-proxy <- web-terminal', web, proxy, 8080, 'TCP', false],
  ['api-proxy <- other apps', appPod, proxy, 8080, 'TCP', false],
  ['api-proxy <- Traefik', traefik, proxy, 8080, 'TCP', false],
  ['api-proxy <- outside the cluster', browser, proxy, 8080, 'TCP', false],
  ['api-proxy internal :9090 <- web-terminal (live-session pushes)', web, proxy, 9090, 'TCP', true],
  ['api-proxy internal :9090 <- a sandbox', sandbox, proxy, 9090, 'TCP', false],
  ['api-proxy metrics :9090 <- Traefik', traefik, proxy, 9090, 'TCP', false],
  ['api-proxy metrics :9090 <- other apps', appPod, proxy, 9090, 'TCP', false],
  ['api-proxy metrics :9090 <- a stray pod in the sandbox namespace', strayPod, proxy, 9090, 'TCP', false],
  ['api-proxy -> DNS', proxy, dns, 53, 'UDP', true],
  ['api-proxy -> upstream API :443', proxy, internet, 443, 'TCP', true],
  ['api-proxy -> upstream on :80', proxy, internet, 80, 'TCP', false],
  ['api-proxy -> LAN :443', proxy, lanHost, 443, 'TCP', false],
  ['api-proxy -> cluster pods :443', proxy, web, 443, 'TCP', false],
  ['api-proxy -> Kubernetes API', proxy, apiServer, 6443, 'TCP', false],
  ['web-terminal -> Kubernetes API :6443', web, apiServer, 6443, 'TCP', true],
  ['web-terminal -> DNS', web, dns, 53, 'UDP', true],
  ['web-terminal -> internet :443', web, internet, 443, 'TCP', false],
  ['web-terminal -> api-proxy', web, proxy, 8080, 'TCP', false],
  ['web-terminal -> api-proxy on another port', web, proxy, 9091, 'TCP', false],
  ['web-terminal <- Traefik :3000', traefik, web, 3000, 'TCP', true],
  ['web-terminal <- anything on another port', traefik, web, 8080, 'TCP', false],
  ['Prometheus -> api-proxy without the metrics component', prometheus, proxy, 8080, 'TCP', false],
  ['Prometheus -> api-proxy metrics :9090 without the metrics component', prometheus, proxy, 9090, 'TCP', false],
];

const overlays: [string, () => KubeObject[], Flow[]][] = [
  ['overlays/dev', () => rendered('overlays/dev'), [
    ['web-terminal <- browsers via NodePort :3000', browser, web, 3000, 'TCP', true],
  ]],
  ['overlays/production', () => rendered('overlays/production'), [
    ['web-terminal <- anything but Traefik', browser, web, 3000, 'TCP', false],
    ['web-terminal <- a sandbox', sandbox, web, 3000, 'TCP', false],
    ['web-terminal <- other apps', appPod, web, 3000, 'TCP', false],
    // components/oauth2-proxy: only Traefik reaches it; it reaches DNS and the identity provider.
    ['oauth2-proxy <- Traefik :4180', traefik, oauth2Proxy, 4180, 'TCP', true],
    ['oauth2-proxy <- Traefik on another port', traefik, oauth2Proxy, 8080, 'TCP', false],
    ['oauth2-proxy <- a sandbox', sandbox, oauth2Proxy, 4180, 'TCP', false],
    ['oauth2-proxy <- browsers directly', browser, oauth2Proxy, 4180, 'TCP', false],
    ['oauth2-proxy <- web-terminal', web, oauth2Proxy, 4180, 'TCP', false],
    ['oauth2-proxy <- api-proxy', proxy, oauth2Proxy, 4180, 'TCP', false],
    ['oauth2-proxy <- other apps', appPod, oauth2Proxy, 4180, 'TCP', false],
    ['oauth2-proxy -> DNS :53/udp', oauth2Proxy, dns, 53, 'UDP', true],
    ['oauth2-proxy -> DNS :53/tcp', oauth2Proxy, dns, 53, 'TCP', true],
    ['oauth2-proxy -> identity provider :443', oauth2Proxy, internet, 443, 'TCP', true],
    ['oauth2-proxy -> internet :80', oauth2Proxy, internet, 80, 'TCP', false],
    ['oauth2-proxy -> LAN :443', oauth2Proxy, lanHost, 443, 'TCP', false],
    ['oauth2-proxy -> web-terminal (it never proxies to it)', oauth2Proxy, web, 3000, 'TCP', false],
    ['oauth2-proxy -> api-proxy', oauth2Proxy, proxy, 8080, 'TCP', false],
    ['oauth2-proxy -> a sandbox', oauth2Proxy, sandbox, 8080, 'TCP', false],
    ['oauth2-proxy -> Kubernetes API', oauth2Proxy, apiServer, 6443, 'TCP', false],
  ]],
];

for (const [name, objects, extra] of overlays) {
  for (const [label, from, to, port, protocol, allowed] of [...commonFlows, ...extra]) {
    test(`${name}: ${label} is ${allowed ? 'allowed' : 'denied'}`, () => {
      assert.equal(isAllowed(clusterFrom(objects()), { from, to, port, protocol }), allowed);
    });
  }
}

test('metrics-scrape component: Prometheus may reach both services on their metrics ports, nothing else changes', () => {
  const cluster = clusterFrom(renderComposed(['overlays/production'], ['components/metrics-scrape']));
  assert.ok(isAllowed(cluster, { from: prometheus, to: proxy, port: 9090 }));
  assert.ok(!isAllowed(cluster, { from: prometheus, to: proxy, port: 8080 }), 'api-proxy metrics are on 9090: its API port stays closed');
  assert.ok(isAllowed(cluster, { from: prometheus, to: web, port: 9090 }));
  assert.ok(!isAllowed(cluster, { from: prometheus, to: web, port: 3000 }), 'web-terminal metrics are on 9090: its public port stays closed to Prometheus');
  assert.ok(!isAllowed(cluster, { from: prometheus, to: sandbox, port: 8080 }));
  assert.ok(!isAllowed(cluster, { from: pod('monitoring', { 'app.kubernetes.io/name': 'grafana' }), to: proxy, port: 9090 }));
  assert.ok(!isAllowed(cluster, { from: sandbox, to: proxy, port: 9090 }));
  assert.ok(!isAllowed(cluster, { from: strayPod, to: proxy, port: 9090 }));
  for (const [, from, to, port, protocol, allowed] of commonFlows.filter(([l]) => !l.startsWith('Prometheus'))) {
    assert.equal(isAllowed(cluster, { from, to, port, protocol }), allowed);
  }
});

/** The one egress rule set a session pod gets: api-proxy on 8080 and DNS, nothing else. */
const sandboxEgress = [
  {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'claudecode-system' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api-proxy' } } }],
    ports: [{ protocol: 'TCP', port: 8080 }],
  },
  {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
  },
];

const withComponents: [string, () => KubeObject[]][] = [
  ['overlays/dev', () => rendered('overlays/dev')],
  ['overlays/production', () => rendered('overlays/production')],
  ['production + metrics-scrape + ingress-tls', () => renderComposed(['overlays/production'], ['components/metrics-scrape', 'components/ingress-tls'])],
];
for (const [name, objects] of withComponents) {
  test(`${name}: session pods may reach exactly api-proxy :8080 and DNS, never the metrics port`, () => {
    const policies = objects().filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'claudecode-sandboxes');
    assert.deepEqual(policies.map((p) => p.metadata.name).sort(), ['default-deny-all', 'sandbox-egress']);
    const egress = policies.find((p) => p.metadata.name === 'sandbox-egress')?.spec as { egress?: unknown } | undefined;
    assert.deepEqual(egress?.egress, sandboxEgress);
  });
}
