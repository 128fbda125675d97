// components/oauth2-proxy: the sign-in front door of the production overlay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dig, find, findKustomizations, podSpecOf, renderComposed, rendered, type KubeObject } from './render.ts';
import { checkRestricted } from './pss-restricted.ts';
import { parseQuantity } from './quantity.ts';

const ns = 'claudecode-system';
const production = () => rendered('overlays/production');

interface Container {
  name: string; image: string; imagePullPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsUser?: number; readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface IngressSpec { tls?: unknown; rules: { host: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] }

const container = (objects: KubeObject[]) => (podSpecOf(find(objects, 'Deployment', 'oauth2-proxy', ns))?.containers as Container[])[0]!;
const ingressSpec = (o: KubeObject) => o.spec as IngressSpec;
const configData = (objects: KubeObject[], name: string) => find(objects, 'ConfigMap', name, ns).data as Record<string, string>;

test('oauth2-proxy is a Component and renders only where it is included', () => {
  assert.deepEqual(findKustomizations().filter((k) => k.dir === 'components/oauth2-proxy').map((k) => k.kind), ['Component']);
  const ids = production().filter((o) => o.metadata.name.startsWith('oauth2-proxy') || o.kind === 'Middleware').map((o) => `${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(ids, ['ConfigMap/oauth2-proxy-config', 'Deployment/oauth2-proxy', 'Ingress/oauth2-proxy', 'Middleware/forward-auth', 'Middleware/oauth2-sign-in', 'NetworkPolicy/oauth2-proxy', 'Service/oauth2-proxy']);
  for (const dir of ['overlays/dev', 'base']) {
    assert.ok(!rendered(dir).some((o) => o.metadata.name.startsWith('oauth2-proxy') || o.kind === 'Middleware'), `${dir} has no sign-in proxy`);
  }
});

test('the oauth2-proxy Secret stays out of git: referenced, never rendered', () => {
  const objects = production();
  assert.ok(!objects.some((o) => o.kind === 'Secret'), 'no Secret is rendered');
  const c = container(objects);
  const fromSecret = (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`] : []));
  const volume = (podSpecOf(find(objects, 'Deployment', 'oauth2-proxy', ns))?.volumes as { secret?: { secretName: string; items?: { key: string }[] } }[]).find((v) => v.secret);
  const mounted = (volume?.secret?.items ?? []).map((i) => `${volume!.secret!.secretName}/${i.key}`);
  assert.deepEqual([...fromSecret, ...mounted].sort(), ['oauth2-proxy/client-id', 'oauth2-proxy/client-secret', 'oauth2-proxy/cookie-secret']);
  assert.equal(c.env?.find((e) => e.name === 'OAUTH2_PROXY_CLIENT_SECRET_FILE')?.value, '/var/run/secrets/oauth2-proxy/client-secret');
  assert.equal(c.volumeMounts?.find((m) => m.mountPath === '/var/run/secrets/oauth2-proxy')?.readOnly, true);
  // The ConfigMap holds no secret: no client secret, cookie secret or client id in it.
  const data = configData(objects, 'oauth2-proxy-config');
  for (const key of Object.keys(data)) {
    assert.match(key, /^OAUTH2_PROXY_[A-Z0-9_]+$/, `${key} is not an oauth2-proxy option`);
    assert.doesNotMatch(key, /SECRET|CLIENT_ID|PASSWORD|TOKEN/, `${key} belongs in the Secret`);
  }
  assert.deepEqual(c.envFrom, [{ configMapRef: { name: 'oauth2-proxy-config' } }]);
});

test('the oauth2-proxy image is pinned to a release, never latest', () => {
  const c = container(production());
  assert.match(c.image, /^quay\.io\/oauth2-proxy\/oauth2-proxy:v\d+\.\d+\.\d+$/);
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
});

test('the oauth2-proxy pod meets Pod Security restricted with a numeric non-root user, probes and resources', () => {
  const deployment = find(production(), 'Deployment', 'oauth2-proxy', ns);
  const spec = podSpecOf(deployment)!;
  assert.deepEqual(checkRestricted(spec), []);
  const uid = dig(spec, 'securityContext', 'runAsUser');
  assert.ok(typeof uid === 'number' && Number.isInteger(uid) && uid > 0, `numeric uid, got ${String(uid)}`);
  assert.equal(spec.automountServiceAccountToken, false);
  const c = container(production());
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.deepEqual(c.ports?.map((p) => [p.name, p.containerPort]), [['http', 4180]]);
  assert.deepEqual(c.livenessProbe?.httpGet, { path: '/ping', port: 'http' });
  assert.deepEqual(c.readinessProbe?.httpGet, { path: '/ready', port: 'http' });
  for (const r of ['cpu', 'memory']) {
    assert.ok(c.resources?.requests?.[r] && c.resources.limits?.[r], `${r} requests/limits`);
    assert.ok(parseQuantity(c.resources.requests[r]) <= parseQuantity(c.resources.limits[r]));
  }
});

test('oauth2-proxy settings: forward-auth only, identity headers, secure cookie, callback on the Ingress host', () => {
  const objects = production();
  const data = configData(objects, 'oauth2-proxy-config');
  assert.equal(data.OAUTH2_PROXY_HTTP_ADDRESS, '0.0.0.0:4180');
  assert.equal(data.OAUTH2_PROXY_REVERSE_PROXY, 'true');
  assert.equal(data.OAUTH2_PROXY_SET_XAUTHREQUEST, 'true');
  assert.equal(data.OAUTH2_PROXY_UPSTREAMS, 'static://202', 'oauth2-proxy must not proxy to web-terminal');
  assert.equal(data.OAUTH2_PROXY_COOKIE_SECURE, 'true');
  const host = ingressSpec(find(objects, 'Ingress', 'web-terminal', ns)).rules[0]!.host;
  assert.equal(data.OAUTH2_PROXY_REDIRECT_URL, `https://${host}/oauth2/callback`);
  assert.ok(configData(objects, 'web-terminal-config').ALLOWED_ORIGINS?.split(',').includes(`https://${host}`));
});

test('the middlewares point at the oauth2-proxy Service and pass the headers web-terminal reads', () => {
  const objects = production();
  const service = find(objects, 'Service', 'oauth2-proxy', ns);
  assert.equal(dig(service, 'spec', 'type'), 'ClusterIP');
  const port = dig(service, 'spec', 'ports', '0', 'port');
  assert.deepEqual(dig(service, 'spec', 'selector'), { 'app.kubernetes.io/name': 'oauth2-proxy' });

  const forwardAuth = dig(find(objects, 'Middleware', 'forward-auth', ns), 'spec', 'forwardAuth') as { address: string; trustForwardHeader: boolean; authResponseHeaders: string[] };
  assert.equal(forwardAuth.address, `http://oauth2-proxy.${ns}.svc.cluster.local:${String(port)}/oauth2/auth`);
  assert.equal(forwardAuth.trustForwardHeader, false);
  assert.deepEqual(forwardAuth.authResponseHeaders, ['X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Groups']);
  // Every identity header web-terminal believes is one Traefik sets (and so replaces) from oauth2-proxy.
  const web = configData(objects, 'web-terminal-config');
  const read = [web.AUTH_USER_HEADER ?? 'x-auth-request-user', web.AUTH_EMAIL_HEADER, web.AUTH_GROUPS_HEADER].filter((h): h is string => !!h);
  assert.equal(read.length, 3, 'production reads user, email and groups');
  for (const h of read) assert.ok(forwardAuth.authResponseHeaders.some((a) => a.toLowerCase() === h.toLowerCase()), `${h} is not replaced by forward-auth`);

  const errors = dig(find(objects, 'Middleware', 'oauth2-sign-in', ns), 'spec', 'errors');
  assert.deepEqual(errors, { status: ['401'], service: { name: 'oauth2-proxy', port }, query: '/oauth2/sign_in' });
});

test('production web-terminal Ingress: sign-in first, then forward-auth, both defined in the rendered output', () => {
  const objects = production();
  const annotation = find(objects, 'Ingress', 'web-terminal', ns).metadata.annotations?.['traefik.ingress.kubernetes.io/router.middlewares'];
  const refs = (annotation ?? '').split(',');
  assert.deepEqual(refs, ['claudecode-system-oauth2-sign-in@kubernetescrd', 'claudecode-system-forward-auth@kubernetescrd']);
  for (const ref of refs) {
    const [, namespace, name] = /^(claudecode-system)-(.+)@kubernetescrd$/.exec(ref)!;
    find(objects, 'Middleware', name!, namespace);
  }
});

/** The /oauth2/ Ingress must share host, entrypoint and TLS with web-terminal's: the cookie is Secure and host-bound. */
function assertIngressesAgree(objects: KubeObject[]) {
  const web = find(objects, 'Ingress', 'web-terminal', ns);
  const auth = find(objects, 'Ingress', 'oauth2-proxy', ns);
  assert.equal(ingressSpec(auth).rules[0]!.host, ingressSpec(web).rules[0]!.host);
  for (const key of ['traefik.ingress.kubernetes.io/router.entrypoints', 'traefik.ingress.kubernetes.io/router.tls']) {
    assert.equal(auth.metadata.annotations?.[key], web.metadata.annotations?.[key], key);
  }
  assert.deepEqual(ingressSpec(auth).tls, ingressSpec(web).tls);
  assert.equal(auth.metadata.annotations?.['traefik.ingress.kubernetes.io/router.middlewares'], undefined, 'no auth middleware on the sign-in pages');
  assert.deepEqual(ingressSpec(auth).rules[0]!.http.paths, [{ path: '/oauth2/', pathType: 'Prefix', backend: { service: { name: 'oauth2-proxy', port: { name: 'http' } } } }]);
}

test('the /oauth2/ Ingress serves the web-terminal host on the same entrypoint, without the auth middlewares', () => {
  assertIngressesAgree(production());
});

test('with components/ingress-tls both Ingresses move to HTTPS together', () => {
  const objects = renderComposed(['overlays/production'], ['components/ingress-tls']);
  assertIngressesAgree(objects);
  assert.equal(find(objects, 'Ingress', 'oauth2-proxy', ns).metadata.annotations?.['traefik.ingress.kubernetes.io/router.entrypoints'], 'websecure');
});
