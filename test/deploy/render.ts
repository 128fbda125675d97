// Renders the Kustomize trees under k8s-manifests/ with `kubectl kustomize` and finds them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const manifestsDir = join(repoRoot, 'k8s-manifests');

/** A Kubernetes object as rendered: only the fields every object has are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Parses a multi-document YAML stream; empty documents are skipped. */
export function parseObjects(text: string, source: string): KubeObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value as KubeObject];
  });
}

/** `kubectl kustomize <dir>` parsed; throws with kubectl's message when rendering fails. */
export function render(dir: string): KubeObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 32 * 1024 * 1024 });
  return parseObjects(out, relative(repoRoot, dir));
}

const renderCache = new Map<string, KubeObject[]>();
/** Like render(), cached per directory (the manifests do not change during a test run). */
export function rendered(relDir: string): KubeObject[] {
  let objects = renderCache.get(relDir);
  if (!objects) {
    objects = render(join(manifestsDir, relDir));
    renderCache.set(relDir, objects);
  }
  return objects;
}

/** Renders an overlay made on the fly in a temp folder (components cannot render alone). */
export function renderComposed(resources: string[], components: string[]): KubeObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
  try {
    const abs = (p: string) => relative(dir, join(manifestsDir, p)); // kustomize wants relative paths
    writeFileSync(join(dir, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization',
      'resources:', ...resources.map((r) => `  - ${abs(r)}`),
      'components:', ...components.map((c) => `  - ${abs(c)}`), '',
    ].join('\n'));
    return render(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface KustomizationDir { dir: string; kind: 'Kustomization' | 'Component' }

/** Every folder under k8s-manifests/ holding a kustomization.yaml, relative to k8s-manifests/. */
export function findKustomizations(dir = manifestsDir): KustomizationDir[] {
  const found: KustomizationDir[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === 'kustomization.yaml') {
      const kind = /^kind:\s*Component\s*$/m.test(readFileSync(path, 'utf8')) ? 'Component' : 'Kustomization';
      found.push({ dir: relative(manifestsDir, dir) || '.', kind });
    } else if (statSync(path).isDirectory()) {
      found.push(...findKustomizations(path));
    }
  }
  return found;
}

/** The value at a path of object keys, or undefined when any step is missing. */
export function dig(value: unknown, ...keys: string[]): unknown {
  let at = value;
  for (const key of keys) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The pod spec inside a workload object, or undefined for kinds that hold none. */
export function podSpecOf(obj: KubeObject): Record<string, unknown> | undefined {
  const paths: Record<string, string[]> = {
    Pod: ['spec'],
    Deployment: ['spec', 'template', 'spec'],
    DaemonSet: ['spec', 'template', 'spec'],
    StatefulSet: ['spec', 'template', 'spec'],
    ReplicaSet: ['spec', 'template', 'spec'],
    Job: ['spec', 'template', 'spec'],
    CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  };
  const path = paths[obj.kind];
  return path ? (dig(obj, ...path) as Record<string, unknown> | undefined) : undefined;
}

/** Every container image named by a workload object. */
export function imagesOf(obj: KubeObject): string[] {
  const spec = podSpecOf(obj) as { containers?: { image?: string }[]; initContainers?: { image?: string }[] } | undefined;
  if (!spec) return [];
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.image ?? '');
}

export const find = (objects: KubeObject[], kind: string, name: string, namespace?: string): KubeObject => {
  const hit = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!hit) throw new Error(`no ${kind} ${namespace ?? '*'}/${name} in the rendered output`);
  return hit;
};
