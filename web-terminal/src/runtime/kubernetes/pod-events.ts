// Reads the Events the scheduler and kubelet record about a starting session pod into progress and
// problems a learner can read. Pure. Only known reasons are read (an allowlist): anything else the
// cluster says stays in the log.
import type { CoreV1Event } from '@kubernetes/client-node';
import { describeReason } from '../../../public/reasons.js';

/** Progress phases of a start, in order. */
export const START_PHASES = ['scheduled', 'pulling_image', 'image_pulled', 'started'] as const;
export type StartPhase = (typeof START_PHASES)[number];

/** The reason-catalog code of each phase's sentence. */
export const PHASE_REASON: Record<StartPhase, string> = {
  scheduled: 'pod_scheduled',
  pulling_image: 'image_pulling',
  image_pulled: 'image_pulled',
  started: 'container_started',
};

export type ProblemReason = 'unschedulable' | 'mount_failed' | 'image_pull_failed';

export type EventNote =
  | { kind: 'progress'; phase: StartPhase; message: string }
  /** Something that keeps the pod from starting; the start fails with `reason` if it never gets past it. */
  | { kind: 'problem'; reason: ProblemReason; message: string; detail: string };

const MAX_DETAIL = 300;

/** The cluster's own words, bounded and on one line. */
export function clusterDetail(text: string | undefined): string {
  const line = (text ?? '').replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

const IMAGE = /image "([^"]{1,256})"/;
const IMAGE_PROBLEMS = new Set(['Failed', 'BackOff', 'ErrImageNeverPull', 'InspectFailed']);

/** The sentence of a phase, with the image's name when pulling. */
export function phaseMessage(phase: StartPhase, image?: string): string {
  const sentence = describeReason(PHASE_REASON[phase]);
  return image ? `${sentence.replace(/\.$/, '')}: ${image}` : sentence;
}

export function readPodEvent(event: Pick<CoreV1Event, 'type' | 'reason' | 'message'>): EventNote | null {
  const reason = event.reason ?? '';
  const message = event.message ?? '';
  const problem = (code: ProblemReason): EventNote => {
    const detail = clusterDetail(message);
    return { kind: 'problem', reason: code, message: `${describeReason(code)} ${detail}`.trim(), detail };
  };
  switch (reason) {
    case 'Scheduled':
      return { kind: 'progress', phase: 'scheduled', message: phaseMessage('scheduled') };
    case 'Pulling':
      return { kind: 'progress', phase: 'pulling_image', message: phaseMessage('pulling_image', IMAGE.exec(message)?.[1]) };
    case 'Pulled':
      return { kind: 'progress', phase: 'image_pulled', message: phaseMessage('image_pulled') };
    case 'Started':
      return { kind: 'progress', phase: 'started', message: phaseMessage('started') };
    case 'FailedScheduling':
      return problem('unschedulable');
    case 'FailedMount':
    case 'FailedAttachVolume':
      return problem('mount_failed');
    default:
      // "Failed" is also used for other container errors: only the ones about the image count here.
      if (event.type === 'Warning' && IMAGE_PROBLEMS.has(reason) && /image/i.test(message) && IMAGE.test(message)) return problem('image_pull_failed');
      return null;
  }
}
