// Starting a session pod: create it, follow it through the shared watch until Ready, and on any failure
// (named early failure, timeout, abort, API error) delete it before reporting, so no pod is left behind.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { SandboxError, type SandboxSpec, type StartProgress } from '../types.ts';
import type { KubernetesConfig } from './config.ts';
import { describeApiError, httpStatus, type PodApi } from './kube-client.ts';
import { buildSandboxPod } from './pod-spec.ts';
import { podVerdict } from './pod-status.ts';
import type { PodWatcher } from './pod-watch.ts';

export interface StartDeps {
  api: PodApi;
  watcher: PodWatcher;
  config: KubernetesConfig;
  logger: Logger;
  /** Recorded on the pods this instance creates. */
  instanceId: string;
}

/** How long a failed start waits for its pod to be gone before reporting anyway. */
const FAILED_POD_GONE_WAIT_MS = 10_000;
const PROGRESS_ORDER = ['scheduled', 'pulling_image', 'started'];
const PROGRESS_TEXT: Record<string, string> = {
  scheduled: 'sandbox scheduled on a node',
  pulling_image: 'pulling the sandbox image and creating the container',
  started: 'sandbox container started',
};

/** Deletes the pod even when the create is still in flight (it may land after our first delete). */
export async function deleteAfterFailedStart(deps: StartDeps, name: string, createSettled: Promise<unknown> | null): Promise<void> {
  const grace = 0;
  try {
    if (await deps.api.delete(name, grace)) await deps.watcher.waitGone(name, FAILED_POD_GONE_WAIT_MS);
  } catch (err) {
    deps.logger.warn({ pod: name, err: describeApiError(err) }, 'could not delete a failed session pod; reconciliation will retry');
  }
  createSettled?.then(
    () => deps.api.delete(name, grace).catch(() => undefined),
    () => deps.api.delete(name, grace).catch(() => undefined),
  );
}

/** Resolves once the pod is Ready; rejects with a SandboxError after deleting the pod. */
export async function startPod(
  deps: StartDeps,
  spec: SandboxSpec,
  opts: { signal: AbortSignal; onProgress: (p: StartProgress) => void },
): Promise<V1Pod> {
  let pod: V1Pod;
  try {
    pod = buildSandboxPod(spec, deps.config, deps.instanceId);
  } catch (err) {
    throw new SandboxError('api_error', `invalid session for Kubernetes: ${(err as Error).message}`, { cause: err });
  }
  const name = pod.metadata?.name as string;
  if (opts.signal.aborted) throw new SandboxError('aborted', 'session start was cancelled');
  try {
    await deps.watcher.start();
  } catch (err) {
    throw new SandboxError('api_error', 'the Kubernetes API is not reachable', { cause: err });
  }

  let createSettled: Promise<unknown> | null = null;
  let lastProgress = -1;
  const emitProgress = (phase: string) => {
    const index = PROGRESS_ORDER.indexOf(phase);
    for (let i = lastProgress + 1; i <= index; i += 1) {
      const p = PROGRESS_ORDER[i] as string;
      opts.onProgress({ phase: p, message: PROGRESS_TEXT[p] ?? p });
    }
    lastProgress = Math.max(lastProgress, index);
  };

  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const outcome = new Promise<V1Pod>((resolve, reject) => {
    const judge = (current: V1Pod | null) => {
      if (!current) {
        reject(new SandboxError('api_error', 'the session pod disappeared while starting'));
        return;
      }
      const verdict = podVerdict(current);
      if (verdict.kind === 'ready') resolve(current);
      else if (verdict.kind === 'failed') reject(new SandboxError(verdict.reason, verdict.message));
      else if (verdict.progress) emitProgress(verdict.progress.phase);
    };
    let created = false;
    unsubscribe = deps.watcher.subscribe(name, (current) => {
      if (created || current) judge(current);
    });
    timer = setTimeout(() => {
      reject(new SandboxError('start_timeout', `the sandbox was not ready within ${deps.config.START_TIMEOUT_SECONDS} s`));
    }, deps.config.START_TIMEOUT_SECONDS * 1000);
    onAbort = () => reject(new SandboxError('aborted', 'session start was cancelled'));
    opts.signal.addEventListener('abort', onAbort, { once: true });

    const { settled, bounded } = deps.api.create(pod);
    createSettled = settled;
    bounded.then(
      (createdPod) => {
        created = true;
        judge(deps.watcher.get(name) ?? createdPod);
      },
      (err: unknown) => {
        const status = httpStatus(err);
        const detail = describeApiError(err);
        deps.logger.warn({ pod: name, err: detail }, 'creating the session pod failed');
        const message = status === 403 ? 'the sandbox pod was refused by the cluster (forbidden)' : 'the Kubernetes API failed to create the sandbox pod';
        reject(new SandboxError('api_error', message, { cause: err }));
      },
    );
  });

  try {
    return await outcome;
  } catch (err) {
    await deleteAfterFailedStart(deps, name, createSettled);
    throw err;
  } finally {
    unsubscribe();
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
  }
}
