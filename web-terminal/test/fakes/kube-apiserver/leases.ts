// The fake apiserver's coordination.k8s.io/v1 Leases: create (409 AlreadyExists), get, and update with
// optimistic concurrency (a stale resourceVersion gets 409 Conflict), as the real API serves them.
import type { V1Lease } from '@kubernetes/client-node';
import { failure, invalid, type StatusBody } from './status.ts';

/** metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits. */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

const clone = <T>(value: T): T => structuredClone(value);
const notFound = (name: string) => failure(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`, { name, kind: 'leases' });

export class LeaseStore {
  private readonly leases = new Map<string, V1Lease>();
  private rv = 5000;
  /** Every successful write, in order (tests read who held the Lease when). */
  readonly writes: { name: string; holder: string | undefined; at: number }[] = [];

  get(namespace: string, name: string): V1Lease | StatusBody {
    const lease = this.leases.get(`${namespace}/${name}`);
    return lease ? clone(lease) : notFound(name);
  }

  /** Test access: the current holder of a Lease, if any. */
  holder(namespace: string, name: string): string | undefined {
    return this.leases.get(`${namespace}/${name}`)?.spec?.holderIdentity;
  }

  create(namespace: string, lease: V1Lease): V1Lease | StatusBody {
    const name = lease.metadata?.name;
    if (!name) return invalid('Lease.coordination.k8s.io is invalid: metadata.name: Required value');
    if (this.leases.has(`${namespace}/${name}`)) {
      return failure(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`, { name, kind: 'leases' });
    }
    return this.store(namespace, name, lease);
  }

  update(namespace: string, name: string, lease: V1Lease): V1Lease | StatusBody {
    const current = this.leases.get(`${namespace}/${name}`);
    if (!current) return notFound(name);
    const sent = lease.metadata?.resourceVersion;
    if (sent && sent !== current.metadata?.resourceVersion) {
      return failure(409, 'Conflict',
        `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: 'leases' });
    }
    return this.store(namespace, name, { ...lease, metadata: { ...lease.metadata, uid: current.metadata?.uid, creationTimestamp: current.metadata?.creationTimestamp } });
  }

  private store(namespace: string, name: string, lease: V1Lease): V1Lease | StatusBody {
    for (const field of ['acquireTime', 'renewTime'] as const) {
      const value = lease.spec?.[field] as unknown;
      if (value !== undefined && value !== null && !(typeof value === 'string' && MICRO_TIME.test(value))) {
        return failure(400, 'BadRequest', `Lease in version "v1" cannot be handled as a Lease: ${field}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
      }
    }
    this.rv += 1;
    const stored: V1Lease = {
      ...clone(lease),
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...lease.metadata,
        name,
        namespace,
        uid: lease.metadata?.uid ?? `lease-${this.rv}`,
        creationTimestamp: lease.metadata?.creationTimestamp ?? (new Date().toISOString() as unknown as Date),
        resourceVersion: String(this.rv),
      },
    };
    this.leases.set(`${namespace}/${name}`, stored);
    this.writes.push({ name, holder: stored.spec?.holderIdentity, at: Date.now() });
    return clone(stored);
  }
}
