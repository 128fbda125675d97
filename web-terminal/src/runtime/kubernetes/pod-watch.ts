// One watch over every managed pod (a small informer): list once, then follow changes from the list's
// resourceVersion. A dropped watch resumes from the last resourceVersion seen; 410 Expired relists.
import { Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ApiTimeoutError, describeApiError, type PodApi } from './kube-client.ts';
import { inScope } from './pod-spec.ts';

type PodListener = (pod: V1Pod | null) => void;

export interface PodWatcherOptions {
  api: PodApi;
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Server-side lifetime of one watch request (client-node 1.4 has no client-side timeout). */
  watchTimeoutSeconds?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export class PodWatcher {
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Map<string, Set<PodListener>>();
  private resourceVersion: string | undefined;
  private controller: AbortController | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private started: Promise<void> | null = null;
  private lastError: string | null = null;
  /** Bumped when a watch request is given up: its late events and end are ignored. */
  private generation = 0;
  /** Counters for tests and metrics. */
  readonly stats = { watches: 0, relists: 0, resumes: 0 };

  constructor(private readonly opts: PodWatcherOptions) {}

  /** Resolves after the first list; the watch then runs until `close()`. */
  start(): Promise<void> {
    this.started ??= this.relist().then(() => this.watch());
    this.started.catch(() => { this.started = null; });
    return this.started;
  }

  get(name: string): V1Pod | undefined {
    return this.pods.get(name);
  }

  /** Calls `listener` with every change of pod `name` (null when it is gone). */
  subscribe(name: string, listener: PodListener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  /** Resolves true once pod `name` is gone (per the watch), false after `timeoutMs`. */
  waitGone(name: string, timeoutMs: number): Promise<boolean> {
    if (!this.pods.has(name)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { unsubscribe(); resolve(false); }, timeoutMs);
      const unsubscribe = this.subscribe(name, (pod) => {
        if (pod) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(true);
      });
    });
  }

  health(): { ok: boolean; message?: string } {
    if (this.lastError) return { ok: false, message: `pod watch failing: ${this.lastError}` };
    return { ok: true };
  }

  close(): void {
    this.closed = true;
    this.controller?.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private notify(name: string, pod: V1Pod | null): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) listener(pod);
  }

  private async relist(): Promise<void> {
    this.stats.relists += 1;
    const { pods, resourceVersion } = await this.opts.api.listManaged();
    const seen = new Set<string>();
    for (const pod of pods) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      const before = this.pods.get(name);
      this.pods.set(name, pod);
      if (before?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.notify(name, pod);
    }
    for (const name of [...this.pods.keys()]) {
      if (seen.has(name)) continue;
      this.pods.delete(name);
      this.notify(name, null);
    }
    this.resourceVersion = resourceVersion;
  }

  private async watch(): Promise<void> {
    if (this.closed) return;
    this.stats.watches += 1;
    let expired = false;
    let events = 0;
    const path = `/api/v1/namespaces/${this.opts.api.namespace}/pods`;
    const query = {
      labelSelector: this.opts.api.selector,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
    };
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.closed;
    const onEvent = (type: string, object: V1Pod & { code?: number }) => {
      if (!current()) return;
      if (type === 'ERROR') {
        if (object.code === 410) expired = true;
        this.controller?.abort();
        return;
      }
      events += 1;
      this.failures = 0;
      this.lastError = null;
      const rv = object.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      const name = object.metadata?.name;
      if (type === 'BOOKMARK' || !name || !inScope(object, this.opts.api.scope)) return;
      if (type === 'DELETED') {
        this.pods.delete(name);
        this.notify(name, null);
      } else {
        this.pods.set(name, object);
        this.notify(name, object);
      }
    };
    const onDone = (err: unknown) => {
      if (!current()) return;
      this.generation += 1;
      const gone = expired || (err as { statusCode?: number } | null)?.statusCode === 410;
      if (err && !gone && !isAbort(err)) {
        this.failures += 1;
        this.lastError = describeApiError(err);
        this.opts.logger.warn({ err: this.lastError }, 'pod watch failed; resuming');
      } else if (events === 0) {
        this.failures += 1; // a watch that ends at once, again and again, must not spin
      }
      this.scheduleRestart(gone);
    };
    // client-node 1.4 cannot abort a watch whose response never starts (it returns its controller
    // only then): give up on it after the API timeout and ignore it if it answers later.
    const opening = new Watch(this.opts.kubeConfig).watch(path, query, onEvent, onDone);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), this.opts.api.timeoutMs); });
    try {
      const controller = await Promise.race([opening, gaveUp]);
      if (controller === null) {
        onDone(new ApiTimeoutError('open pod watch', this.opts.api.timeoutMs));
        opening.then((late) => late.abort(), () => undefined);
      } else if (current()) {
        this.controller = controller;
      } else {
        controller.abort();
      }
    } catch (err) {
      onDone(err);
    } finally {
      clearTimeout(timer);
    }
  }

  private scheduleRestart(relist: boolean): void {
    const initial = this.opts.backoffInitialMs ?? 200;
    const delay = this.failures === 0 ? 0 : Math.min(this.opts.backoffMaxMs ?? 10_000, initial * 2 ** (this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed) return;
      if (!relist) this.stats.resumes += 1;
      const next = relist ? this.relist().then(() => this.watch()) : this.watch();
      next.catch((err: unknown) => {
        this.failures += 1;
        this.lastError = describeApiError(err);
        this.opts.logger.warn({ err: this.lastError }, 'pod relist failed; retrying');
        this.scheduleRestart(true);
      });
    }, delay);
  }
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}
