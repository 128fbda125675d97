// Access to the Kubernetes API: where the credentials come from, and pod calls that never hang.
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { DEFAULT_SCOPE, inScope, scopeSelector } from './pod-spec.ts';

export interface LoadKubeConfigOptions {
  /** KUBECONFIG from the service config (development). */
  kubeconfigPath?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Root under which the service-account files are read (tests use a temp dir). */
  serviceAccountPrefix?: string;
}

/** KUBECONFIG when set; else the in-cluster service account; else the usual default locations. */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
  else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) kc.loadFromCluster(opts.serviceAccountPrefix);
  else kc.loadFromDefault();
  return kc;
}

export class ApiTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the Kubernetes API within ${ms} ms`);
    this.name = 'ApiTimeoutError';
  }
}

/** HTTP status of a failed client-node call (ApiException.code), if any. */
export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.code ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The metav1.Status of a failed call (client-node 1.4 keeps it as the raw JSON text), if any. */
export function apiStatus(err: unknown): { reason?: unknown; message?: unknown } | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return parsed && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? body : undefined;
}

/** A short description of an API failure that is safe to log (the Status's reason and message, no headers). */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiTimeoutError) return err.message;
  const status = httpStatus(err);
  const body = apiStatus(err);
  if (status !== undefined) {
    const reason = typeof body?.reason === 'string' ? ` ${body.reason}` : '';
    const message = typeof body?.message === 'string' ? `: ${body.message.slice(0, 300)}` : '';
    return `HTTP ${status}${reason}${message}`;
  }
  return err instanceof Error ? err.message.slice(0, 300) : String(err);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ApiTimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The pod calls the runtime makes, each bounded by `timeoutMs`; lists see only `scope`'s pods. */
export class PodApi {
  readonly core: CoreV1Api;
  readonly selector: string;
  constructor(readonly kubeConfig: KubeConfig, readonly namespace: string, readonly timeoutMs: number, readonly scope = DEFAULT_SCOPE) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.selector = scopeSelector(scope);
  }

  create(pod: V1Pod): { settled: Promise<V1Pod>; bounded: Promise<V1Pod> } {
    const settled = this.core.createNamespacedPod({ namespace: this.namespace, body: pod });
    settled.catch(() => undefined); // observed through `bounded`; the raw promise must never be unhandled
    return { settled, bounded: withTimeout(settled, this.timeoutMs, 'create pod') };
  }

  /** Deletes a pod; resolves false when it did not exist (404 counts as success). */
  async delete(name: string, gracePeriodSeconds: number): Promise<boolean> {
    try {
      await withTimeout(this.core.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds }), this.timeoutMs, 'delete pod');
      return true;
    } catch (err) {
      if (httpStatus(err) === 404) return false;
      throw err;
    }
  }

  async read(name: string): Promise<V1Pod | null> {
    try {
      return await withTimeout(this.core.readNamespacedPod({ name, namespace: this.namespace }), this.timeoutMs, 'read pod');
    } catch (err) {
      if (httpStatus(err) === 404) return null;
      throw err;
    }
  }

  /** Applies a JSON merge patch (RFC 7386) to a pod; resolves null when it does not exist. */
  async mergePatch(name: string, patch: object): Promise<V1Pod | null> {
    try {
      return await withTimeout(
        this.core.patchNamespacedPod({ name, namespace: this.namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
        this.timeoutMs, 'patch pod');
    } catch (err) {
      if (httpStatus(err) === 404) return null;
      throw err;
    }
  }

  /** Every pod of this scope, with the list's resourceVersion (where a watch resumes). */
  async listManaged(): Promise<{ pods: V1Pod[]; resourceVersion: string | undefined }> {
    const list = await withTimeout(
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.selector }),
      this.timeoutMs, 'list pods');
    return { pods: list.items.filter((pod) => inScope(pod, this.scope)), resourceVersion: list.metadata?.resourceVersion };
  }
}
