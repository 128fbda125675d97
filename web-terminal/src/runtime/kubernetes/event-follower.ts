// Follows the Events of one starting pod (a watch with a fieldSelector on involvedObject), for as long
// as its start lasts. Best effort: progress only, so a dropped or refused watch is logged, not retried.
import { Watch, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError } from './kube-client.ts';

export interface FollowPodEventsOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  podName: string;
  /** Server-side end of the watch (the start's deadline). */
  timeoutSeconds: number;
  logger: Logger;
  onEvent: (event: CoreV1Event) => void;
}

/** Starts following; the returned function stops it (also a watch that has not opened yet). */
export function followPodEvents(opts: FollowPodEventsOptions): () => void {
  let stopped = false;
  let controller: AbortController | null = null;
  const path = `/api/v1/namespaces/${opts.namespace}/events`;
  const query = { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${opts.podName}`, timeoutSeconds: Math.max(1, opts.timeoutSeconds) };
  const onEvent = (type: string, object: CoreV1Event) => {
    if (!stopped && (type === 'ADDED' || type === 'MODIFIED')) opts.onEvent(object);
  };
  const onDone = (err: unknown) => {
    if (err && !stopped) opts.logger.debug({ pod: opts.podName, err: describeApiError(err) }, 'pod event watch ended');
  };
  new Watch(opts.kubeConfig).watch(path, query, onEvent, onDone).then(
    (opened) => {
      if (stopped) opened.abort();
      else controller = opened;
    },
    (err: unknown) => onDone(err),
  );
  return () => {
    stopped = true;
    controller?.abort();
  };
}
