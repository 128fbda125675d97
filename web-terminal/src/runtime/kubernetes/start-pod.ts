// Starting a session pod: create it, follow it through the shared watch (and its Events, for progress
// a learner can read) until Ready, and on any failure (named early failure, the start's deadline,
// abort, API error) delete it before reporting, so no pod is left behind. One deadline covers the
// whole start, from waiting for the pod watch to the exec (see StartDeadline).
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { SandboxError, type SandboxSpec, type StartProgress } from '../types.ts';
import type { KubernetesConfig } from './config.ts';
import { followPodEvents } from './event-follower.ts';
import { apiStatus, describeApiError, httpStatus, type PodApi } from './kube-client.ts';
import { clusterDetail, phaseMessage, readPodEvent, START_PHASES, type ProblemReason, type StartPhase } from './pod-events.ts';
import { buildSandboxPod } from './pod-spec.ts';
import { podVerdict } from './pod-status.ts';
import type { PodWatcher } from './pod-watch.ts';

export interface StartDeps {
  api: PodApi;
  watcher: PodWatcher;
  config: KubernetesConfig;
  logger: Logger;
  kubeConfig: KubeConfig;
  /** Recorded on the pods this instance creates. */
  instanceId: string;
}

/** How long a failed start waits for its pod to be gone before reporting anyway. */
const FAILED_POD_GONE_WAIT_MS = 10_000;

/** The one deadline of a start (START_TIMEOUT_SECONDS from the moment it began). */
export class StartDeadline {
  readonly at: number;
  constructor(readonly seconds: number, now = Date.now()) {
    this.at = now + seconds * 1000;
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  /** Resolves or rejects with `promise`, or rejects with `onExpiry()` when the deadline passes first. */
  race<T>(promise: Promise<T>, onExpiry: () => Error): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onExpiry()), this.remainingMs());
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }
}

/** Deletes the pod even when the create is still in flight (it may land after our first delete). */
export async function deleteAfterFailedStart(deps: Pick<StartDeps, 'api' | 'watcher' | 'logger'>, name: string, createSettled: Promise<unknown> | null): Promise<void> {
  const grace = 0;
  try {
    if (await deps.api.delete(name, grace)) await deps.watcher.waitGone(name, FAILED_POD_GONE_WAIT_MS);
  } catch (err) {
    deps.logger.warn({ pod: name, err: describeApiError(err) }, 'could not delete a failed session pod; reconciliation will retry');
  }
  // A create still in flight may land after that delete: delete again once it settled, a few times if the
  // API does not take it (e.g. timeouts under load); reconciliation is the net after that.
  const deleteLate = async () => {
    for (let attempt = 1; attempt <= LATE_DELETE_ATTEMPTS; attempt += 1) {
      try {
        await deps.api.delete(name, grace);
        return;
      } catch (err) {
        if (attempt === LATE_DELETE_ATTEMPTS) deps.logger.warn({ pod: name, err: describeApiError(err) }, 'could not delete a failed session pod; reconciliation will retry');
        else await new Promise((r) => setTimeout(r, LATE_DELETE_RETRY_MS * attempt));
      }
    }
  };
  createSettled?.then(deleteLate, deleteLate);
}

const LATE_DELETE_ATTEMPTS = 3;
const LATE_DELETE_RETRY_MS = 1000;

/** Emits each start phase once and in order (a skipped phase is reported before a later one). */
function progressReporter(onProgress: (p: StartProgress) => void) {
  let reached = -1;
  const seenProblems = new Set<string>();
  return {
    phase(phase: StartPhase, message?: string) {
      const index = START_PHASES.indexOf(phase);
      for (let i = reached + 1; i <= index; i += 1) {
        const p = START_PHASES[i] as StartPhase;
        onProgress({ phase: p, message: i === index && message ? message : phaseMessage(p) });
      }
      reached = Math.max(reached, index);
    },
    /** A problem the cluster reports (shown once per distinct message). */
    problem(reason: ProblemReason, message: string) {
      if (seenProblems.has(message)) return;
      seenProblems.add(message);
      onProgress({ phase: reason, message });
    },
  };
}

/** Why a create was refused: a quota is named as such, anything else is an API error. */
function createError(err: unknown): SandboxError {
  const status = httpStatus(err);
  const apiMessage = apiStatus(err)?.message;
  const detail = typeof apiMessage === 'string' ? clusterDetail(apiMessage) : undefined;
  if (status === 403 && detail && /exceeded quota/i.test(detail)) {
    return new SandboxError('quota_exceeded', `the sandbox pod was refused by a quota: ${detail}`, { cause: err, detail });
  }
  if (status === 403) return new SandboxError('api_error', 'the sandbox pod was refused by the cluster (forbidden)', { cause: err, ...(detail ? { detail } : {}) });
  return new SandboxError('api_error', 'the Kubernetes API failed to create the sandbox pod', { cause: err });
}

/** Resolves once the pod is Ready; rejects with a SandboxError after deleting the pod. */
export async function startPod(
  deps: StartDeps,
  spec: SandboxSpec,
  opts: { signal: AbortSignal; onProgress: (p: StartProgress) => void; deadline: StartDeadline },
): Promise<V1Pod> {
  let pod: V1Pod;
  try {
    pod = buildSandboxPod(spec, deps.config, deps.instanceId);
  } catch (err) {
    throw new SandboxError('api_error', `invalid session for Kubernetes: ${(err as Error).message}`, { cause: err });
  }
  const name = pod.metadata?.name as string;
  if (opts.signal.aborted) throw new SandboxError('aborted', 'session start was cancelled');

  const report = progressReporter(opts.onProgress);
  let lastProblem: { reason: ProblemReason; detail: string } | null = null;
  const expiryError = (): SandboxError => {
    const seconds = opts.deadline.seconds;
    if (lastProblem) {
      return new SandboxError(lastProblem.reason, `the sandbox was not ready within ${seconds} s: ${lastProblem.detail}`, { detail: lastProblem.detail });
    }
    const watch = deps.watcher.health();
    if (!watch.ok) return new SandboxError('cluster_unresponsive', `the sandbox was not ready within ${seconds} s (${watch.message})`);
    return new SandboxError('start_timeout', `the sandbox was not ready within ${seconds} s`);
  };

  let createSettled: Promise<unknown> | null = null;
  let unsubscribe = () => {};
  let stopEvents = () => {};
  let onAbort = () => {};
  let settled = false;
  const outcome = new Promise<V1Pod>((resolve, reject) => {
    onAbort = () => reject(new SandboxError('aborted', 'session start was cancelled'));
    opts.signal.addEventListener('abort', onAbort, { once: true });

    const judge = (current: V1Pod | null) => {
      if (!current) {
        reject(new SandboxError('api_error', 'the session pod disappeared while starting'));
        return;
      }
      const verdict = podVerdict(current);
      if (verdict.kind === 'ready') resolve(current);
      else if (verdict.kind === 'failed') reject(new SandboxError(verdict.reason, verdict.message, verdict.detail ? { detail: verdict.detail } : {}));
      else if (verdict.progress) report.phase(verdict.progress.phase as StartPhase);
    };

    void (async () => {
      try {
        await deps.watcher.start();
      } catch (err) {
        reject(new SandboxError('api_error', 'the Kubernetes API is not reachable', { cause: err }));
        return;
      }
      if (settled) return; // the deadline passed or the start was aborted while waiting for the watch
      let created = false;
      unsubscribe = deps.watcher.subscribe(name, (current) => {
        if (created || current) judge(current);
      });
      stopEvents = followPodEvents({
        kubeConfig: deps.kubeConfig,
        namespace: deps.config.K8S_NAMESPACE,
        podName: name,
        timeoutSeconds: Math.ceil(opts.deadline.remainingMs() / 1000),
        logger: deps.logger,
        onEvent: (event) => {
          const note = readPodEvent(event);
          if (note?.kind === 'progress') report.phase(note.phase, note.message);
          if (note?.kind === 'problem') {
            lastProblem = { reason: note.reason, detail: note.detail };
            report.problem(note.reason, note.message);
          }
        },
      });
      const { settled: createDone, bounded } = deps.api.create(pod);
      createSettled = createDone;
      bounded.then(
        (createdPod) => {
          created = true;
          judge(deps.watcher.get(name) ?? createdPod);
        },
        (err: unknown) => {
          deps.logger.warn({ pod: name, err: describeApiError(err) }, 'creating the session pod failed');
          reject(createError(err));
        },
      );
    })();
  });
  try {
    return await opts.deadline.race(outcome, expiryError);
  } catch (err) {
    await deleteAfterFailedStart(deps, name, createSettled);
    throw err;
  } finally {
    settled = true;
    unsubscribe();
    stopEvents();
    opts.signal.removeEventListener('abort', onAbort);
  }
}
