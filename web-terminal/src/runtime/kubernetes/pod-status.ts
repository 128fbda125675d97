// Reads a pod's status (as the watch delivers it: plain JSON) into what starting a session needs:
// still starting (with progress), ready, or failed with a named reason. Pure.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { StartProgress } from '../types.ts';
import { CONTAINER_NAME } from './pod-spec.ts';
import { clusterDetail, phaseMessage } from './pod-events.ts';

export type PodVerdict =
  | { kind: 'starting'; progress: StartProgress | null }
  | { kind: 'ready' }
  /** `detail`: the cluster's own words for the learner (the scheduler's or kubelet's message), if any. */
  | { kind: 'failed'; reason: FailureReason; message: string; detail?: string };

export type FailureReason =
  | 'image_pull_failed' | 'unschedulable' | 'container_crashed' | 'oom_killed'
  | 'deadline_exceeded' | 'start_timeout' | 'api_error';

const IMAGE_PULL_REASONS = new Set([
  'ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'ImageInspectError', 'RegistryUnavailable',
  'SignatureValidationFailed',
]);
const CONTAINER_START_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff', 'PreStartHookError']);

function sandboxContainer(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
}

function condition(pod: V1Pod, type: string) {
  return pod.status?.conditions?.find((c) => c.type === type);
}

function terminatedVerdict(container: V1ContainerStatus | undefined): PodVerdict | null {
  const done = container?.state?.terminated;
  if (!done) return null;
  if (done.reason === 'OOMKilled') return { kind: 'failed', reason: 'oom_killed', message: 'the sandbox ran out of memory' };
  const detail = done.message ? `: ${done.message}` : '';
  return { kind: 'failed', reason: 'container_crashed', message: `the sandbox container exited with code ${done.exitCode} (${done.reason ?? 'no reason'})${detail}` };
}

export function podVerdict(pod: V1Pod): PodVerdict {
  const status = pod.status ?? {};
  const container = sandboxContainer(pod);
  if (pod.metadata?.deletionTimestamp) return { kind: 'failed', reason: 'api_error', message: 'the sandbox pod is being deleted' };
  if (status.phase === 'Failed' && status.reason === 'DeadlineExceeded') {
    return { kind: 'failed', reason: 'deadline_exceeded', message: 'the session reached its time limit' };
  }
  if (status.phase === 'Failed' || status.phase === 'Succeeded') {
    return terminatedVerdict(container) ?? {
      kind: 'failed', reason: 'container_crashed', message: `the sandbox pod ended (${status.reason ?? status.phase}${status.message ? `: ${status.message}` : ''})`,
    };
  }
  const terminated = terminatedVerdict(container);
  if (terminated) return terminated;
  const waiting = container?.state?.waiting;
  if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
    return {
      kind: 'failed', reason: 'image_pull_failed', message: `the sandbox image could not be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`,
      detail: clusterDetail(waiting.message ?? waiting.reason),
    };
  }
  if (waiting?.reason && CONTAINER_START_FAILURES.has(waiting.reason)) {
    return { kind: 'failed', reason: 'container_crashed', message: `the sandbox container could not start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})` };
  }
  const scheduled = condition(pod, 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { kind: 'failed', reason: 'unschedulable', message: `no node can run the sandbox: ${scheduled.message ?? 'unschedulable'}`, detail: clusterDetail(scheduled.message) };
  }
  if (status.phase === 'Running' && condition(pod, 'Ready')?.status === 'True') return { kind: 'ready' };
  if (container?.state?.running) return { kind: 'starting', progress: { phase: 'started', message: phaseMessage('started') } };
  // Pulling shows in the pod's Events only (with the image's name): the status says just "ContainerCreating".
  if (waiting || pod.spec?.nodeName || scheduled?.status === 'True') return { kind: 'starting', progress: { phase: 'scheduled', message: phaseMessage('scheduled') } };
  return { kind: 'starting', progress: null };
}

/** Whether an existing pod can still be attached to. */
export function podIsAlive(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && !sandboxContainer(pod)?.state?.terminated;
}
