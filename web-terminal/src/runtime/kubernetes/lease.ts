// Leader election over a coordination.k8s.io/v1 Lease: of all web-terminal instances of one scope,
// only the Lease holder creates, adopts and reconciles session pods. The standard pattern: acquire
// the Lease when it is free or expired, renew it every few seconds, write with the resourceVersion
// read (a conflict means another instance won), and clear holderIdentity on shutdown so a standby
// takes over at its next attempt instead of waiting for the Lease to expire.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiError, httpStatus, withTimeout } from './kube-client.ts';

export const LEASE_NAME_PREFIX = 'claudecode-web-terminal-';

export function leaseName(scope: string): string {
  return LEASE_NAME_PREFIX + scope;
}

/** This process's identity as a Lease holder: the pod name (hostname) plus a random suffix. */
export function newInstanceId(host = hostname()): string {
  const base = host.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'web-terminal';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

export interface LeaseElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  durationSeconds: number;
  renewSeconds: number;
  /** Bound of one API call. */
  timeoutMs: number;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => number;
}

export interface LeaseStatus {
  leader: boolean;
  /** The holder last seen (this instance when leading), or null when the Lease is free or unknown. */
  holder: string | null;
  lastError: string | null;
}

export class LeaseElector {
  private readonly api: CoordinationV1Api;
  private readonly now: () => number;
  private readonly callTimeoutMs: number;
  /** A leader that could not renew for this long steps down, before anyone else may take over. */
  private readonly renewDeadlineMs: number;
  private leader = false;
  private lastRenewAt = 0;
  private holder: string | null = null;
  private observed: { key: string; at: number } | null = null;
  private lastError: string | null = null;
  private loggedHolder: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: LeaseElectorOptions) {
    if (opts.renewSeconds >= opts.durationSeconds) {
      throw new Error(`K8S_LEASE_RENEW_SECONDS (${opts.renewSeconds}) must be below K8S_LEASE_DURATION_SECONDS (${opts.durationSeconds})`);
    }
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.now = opts.now ?? Date.now;
    this.renewDeadlineMs = Math.floor((opts.durationSeconds * 1000 * 2) / 3);
    this.callTimeoutMs = Math.min(opts.timeoutMs, this.renewDeadlineMs);
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** Whether this instance holds the Lease right now (false as soon as renewing is overdue). */
  isLeader(): boolean {
    return this.leader && this.now() - this.lastRenewAt < this.renewDeadlineMs;
  }

  status(): LeaseStatus {
    const leader = this.isLeader();
    return { leader, holder: leader ? this.opts.identity : this.holder, lastError: this.lastError };
  }

  /** Makes a first attempt (awaited), then keeps trying or renewing until `release()`. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  /** Stops renewing and, when holding the Lease, hands it over by clearing its holder. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    this.setLeader(false);
    this.holder = null;
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.opts.identity) return;
      const spec = { ...lease.spec, renewTime: new V1MicroTime(this.now()) };
      delete spec.holderIdentity;
      await this.replace({ ...lease, spec });
      this.opts.logger.info({ lease: this.opts.name }, 'released the lease');
    } catch (err) {
      this.opts.logger.warn({ lease: this.opts.name, err: describeApiError(err) }, 'could not release the lease; it expires on its own');
    }
  }

  private tick(): Promise<void> {
    this.inFlight = (async () => {
      try {
        const held = await this.tryAcquireOrRenew();
        this.lastError = null;
        if (held) this.lastRenewAt = this.now();
        if (!this.stopped) this.setLeader(held);
        if (!held && this.holder !== this.loggedHolder) {
          this.loggedHolder = this.holder;
          this.opts.logger.info({ lease: this.opts.name, holder: this.holder, identity: this.opts.identity },
            'standby: another instance holds the lease; this one stays unready until it gets it');
        }
      } catch (err) {
        this.lastError = describeApiError(err);
        this.opts.logger.warn({ lease: this.opts.name, err: this.lastError }, 'lease request failed');
        if (!this.isLeader()) this.setLeader(false);
      } finally {
        this.inFlight = null;
        if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.opts.renewSeconds * 1000);
      }
    })();
    return this.inFlight;
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    if (leader) {
      this.holder = this.opts.identity;
      this.opts.logger.info({ lease: this.opts.name, identity: this.opts.identity }, 'acquired the lease: this instance manages the session pods');
      this.opts.onStartedLeading();
    } else {
      this.opts.logger.warn({ lease: this.opts.name, holder: this.holder }, 'not holding the lease: this instance stops managing session pods');
      this.opts.onStoppedLeading();
    }
  }

  /** Expiry is judged by our own clock from when we saw the Lease change, never by the holder's clock. */
  private expired(lease: V1Lease): boolean {
    const spec = lease.spec ?? {};
    if (!spec.holderIdentity) return true;
    const key = `${spec.holderIdentity}|${String(spec.renewTime)}`;
    if (this.observed?.key !== key) this.observed = { key, at: this.now() };
    return this.now() - this.observed.at >= (spec.leaseDurationSeconds ?? this.opts.durationSeconds) * 1000;
  }

  /** True when this instance holds the Lease after the attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new V1MicroTime(this.now());
    const lease = await this.read();
    if (!lease) {
      this.holder = null;
      return this.write(() => this.api.createNamespacedLease({
        namespace: this.opts.namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: { holderIdentity: this.opts.identity, leaseDurationSeconds: this.opts.durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        },
      }), 'create lease');
    }
    const spec = lease.spec ?? {};
    const mine = spec.holderIdentity === this.opts.identity;
    const expired = this.expired(lease);
    this.holder = spec.holderIdentity || null;
    if (!mine && !expired) return false;
    return this.write(() => this.replace({
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: this.opts.durationSeconds,
        renewTime: now,
        acquireTime: mine ? spec.acquireTime : now,
        leaseTransitions: mine ? spec.leaseTransitions : (spec.leaseTransitions ?? 0) + 1,
      },
    }), mine ? 'renew lease' : 'take over lease');
  }

  /** A write that another instance may win: 409 Conflict (or AlreadyExists) means we did not get it. */
  private async write(call: () => Promise<unknown>, what: string): Promise<boolean> {
    try {
      await withTimeout(call(), this.callTimeoutMs, what);
      return true;
    } catch (err) {
      if (httpStatus(err) === 409) return false;
      throw err;
    }
  }

  private async read(): Promise<V1Lease | null> {
    try {
      return await withTimeout(this.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace }), this.callTimeoutMs, 'read lease');
    } catch (err) {
      if (httpStatus(err) === 404) return null;
      throw err;
    }
  }

  private replace(body: V1Lease): Promise<V1Lease> {
    return this.api.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body });
  }
}
