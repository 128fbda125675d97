// The fake apiserver's core/v1 Events: what the scheduler and kubelet record about a pod, listed and
// watched with a fieldSelector on involvedObject as the real API serves them.
import { randomBytes } from 'node:crypto';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';

type Subscriber = (type: 'ADDED' | 'MODIFIED', event: CoreV1Event) => void;

/** Equality field selectors over dotted paths, e.g. `involvedObject.name=x,involvedObject.kind=Pod`. */
export function matchesFieldSelector(object: unknown, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const ne = term.match(/^([^!=]+)!=(.*)$/);
    const eq = ne ? null : term.match(/^([^!=]+)==?(.*)$/);
    const [path, value] = ne ? [ne[1]!, ne[2]!] : eq ? [eq[1]!, eq[2]!] : [term, ''];
    let current: unknown = object;
    for (const key of path.trim().split('.')) current = (current as Record<string, unknown> | undefined)?.[key];
    const actual = current === undefined || current === null ? '' : String(current);
    return ne ? actual !== value.trim() : actual === value.trim();
  });
}

export class EventStore {
  private readonly events: CoreV1Event[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private rv = 90_000;

  /** Records an event about `pod`; a repeat of the same reason and message raises its count (MODIFIED). */
  record(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string, component = 'kubelet'): void {
    const now = new Date().toISOString();
    this.rv += 1;
    const same = this.events.find((e) => e.involvedObject.uid === pod.metadata?.uid && e.reason === reason && e.message === message);
    if (same) {
      same.count = (same.count ?? 1) + 1;
      same.lastTimestamp = now as unknown as Date;
      same.metadata.resourceVersion = String(this.rv);
      for (const s of [...this.subscribers]) s('MODIFIED', structuredClone(same));
      return;
    }
    const event: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata?.name}.${randomBytes(8).toString('hex')}`, namespace: pod.metadata?.namespace, resourceVersion: String(this.rv) },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
      reason,
      message,
      type,
      source: { component, ...(component === 'kubelet' ? { host: 'fake-node' } : {}) },
      firstTimestamp: now as unknown as Date,
      lastTimestamp: now as unknown as Date,
      count: 1,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? 'fake-node' : '',
    };
    this.events.push(event);
    for (const s of [...this.subscribers]) s('ADDED', structuredClone(event));
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  list(namespace: string, fieldSelector: string | null): CoreV1Event[] {
    return this.events.filter((e) => e.metadata.namespace === namespace && matchesFieldSelector(e, fieldSelector)).map((e) => structuredClone(e));
  }

  /** Current events as ADDED, then live ones. */
  watch(namespace: string, fieldSelector: string | null, onEvent: Subscriber): () => void {
    for (const event of this.list(namespace, fieldSelector)) onEvent('ADDED', event);
    const subscriber: Subscriber = (type, event) => {
      if (event.metadata.namespace === namespace && matchesFieldSelector(event, fieldSelector)) onEvent(type, event);
    };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }
}
