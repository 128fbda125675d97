// The fake apiserver's pod storage: resourceVersions, an event history that watches resume from,
// compaction (a resume from before it gets 410 Expired), and label selectors.
import type { V1Pod } from '@kubernetes/client-node';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoredEvent { rv: number; type: EventType; object: V1Pod }
type Subscriber = (event: StoredEvent) => void;

/** Equality-based selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated (ANDed). */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const ne = term.match(/^([^!=]+)!=(.*)$/);
    if (ne) return have[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = term.match(/^([^!=]+)==?(.*)$/);
    if (eq) return have[eq[1]!.trim()] === eq[2]!.trim();
    if (term.startsWith('!')) return !(term.slice(1) in have);
    return term in have;
  });
}

const clone = <T>(value: T): T => structuredClone(value);

export class PodStore {
  private readonly pods = new Map<string, V1Pod>();
  private history: StoredEvent[] = [];
  private compactedThrough = 0;
  private rv = 100;
  private readonly subscribers = new Set<Subscriber>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(name: string): V1Pod | undefined {
    const pod = this.pods.get(name);
    return pod ? clone(pod) : undefined;
  }

  list(selector: string | null): V1Pod[] {
    return [...this.pods.values()].filter((p) => matchesSelector(p.metadata?.labels, selector)).map(clone);
  }

  has(name: string): boolean {
    return this.pods.has(name);
  }

  private record(type: EventType, pod: V1Pod): V1Pod {
    this.rv += 1;
    pod.metadata = { ...pod.metadata, resourceVersion: String(this.rv) };
    const event: StoredEvent = { rv: this.rv, type, object: clone(pod) };
    this.history.push(event);
    for (const s of [...this.subscribers]) s(event);
    return clone(pod);
  }

  add(pod: V1Pod): V1Pod {
    const stored = clone(pod);
    this.pods.set(stored.metadata!.name!, stored);
    return this.record('ADDED', stored);
  }

  /** Applies `change` to a copy of pod `name` and stores it as a MODIFIED event. */
  update(name: string, change: (pod: V1Pod) => void): V1Pod | undefined {
    const current = this.pods.get(name);
    if (!current) return undefined;
    const next = clone(current);
    change(next);
    this.pods.set(name, next);
    return this.record('MODIFIED', next);
  }

  remove(name: string): V1Pod | undefined {
    const current = this.pods.get(name);
    if (!current) return undefined;
    this.pods.delete(name);
    return this.record('DELETED', current);
  }

  /** Forgets the history: watches resuming from an older resourceVersion get 410 Expired. */
  compact(): void {
    this.rv += 1; // as if other writes happened in the cluster meanwhile
    this.compactedThrough = this.rv;
    this.history = [];
  }

  /**
   * Events after `fromRv` (replayed), then live ones. Returns null when `fromRv` is too old (410).
   * `fromRv` undefined/"0": synthetic ADDED for every current pod, as the apiserver does.
   */
  watch(fromRv: string | undefined, onEvent: Subscriber): (() => void) | null {
    const start = fromRv === undefined || fromRv === '' || fromRv === '0' ? null : Number(fromRv);
    if (start !== null && (Number.isNaN(start) || start < this.compactedThrough)) return null;
    if (start === null) {
      for (const pod of this.pods.values()) onEvent({ rv: Number(pod.metadata?.resourceVersion), type: 'ADDED', object: clone(pod) });
    } else {
      for (const event of this.history) if (event.rv > start) onEvent(event);
    }
    this.subscribers.add(onEvent);
    return () => this.subscribers.delete(onEvent);
  }
}
