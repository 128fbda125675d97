// A scriptable fake kubelet: moves pods through the status transitions a real node produces
// (scheduled, container creating, running/ready) or through one failure mode, records the Events the
// scheduler and kubelet record on the way, emulates activeDeadlineSeconds and graceful deletion, and
// keeps one temp folder per pod for execs.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { killPodProcesses } from './processes.ts';
import type { PodStore } from './store.ts';
import type { EventStore } from './events.ts';

export type PodBehaviour =
  | { kind: 'normal'; scheduleMs?: number; pullMs?: number; startMs?: number }
  | { kind: 'image_pull_failed'; waitingReason?: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' }
  | { kind: 'unschedulable'; message?: string }
  | { kind: 'crash'; exitCode?: number }
  | { kind: 'oom' }
  | { kind: 'never_ready' }
  /** Scheduled, then pulling the image until the test calls `failImagePull` (no timing in the test). */
  | { kind: 'pulling' }
  /** Scheduled, then a volume cannot be mounted (FailedMount Events), never ready. */
  | { kind: 'mount_failed'; message?: string };

interface PodRuntime {
  dir: string;
  timers: Set<NodeJS.Timeout>;
  /** Ends every exec into the pod (the container is gone). */
  killExecs: Set<(exitCode: number) => void>;
}

const now = () => new Date().toISOString();

function condition(type: string, status: 'True' | 'False', reason?: string, message?: string): V1PodCondition {
  return { type, status, lastTransitionTime: now() as unknown as Date, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

export class FakeKubelet {
  private defaultBehaviour: PodBehaviour = { kind: 'normal' };
  private readonly queued: PodBehaviour[] = [];
  private readonly runtimes = new Map<string, PodRuntime>();
  /** Milliseconds per second of activeDeadlineSeconds (tests shrink time). */
  deadlineMsPerSecond = 1000;
  /** How long a deleted pod takes to terminate (capped by its grace period). */
  terminationMs = 30;

  constructor(private readonly store: PodStore, private readonly events: EventStore) {}

  /** A pod in `pulling`: the pull fails now (ErrImagePull, and the kubelet's Failed Events). */
  failImagePull(name: string, message = 'rpc error: code = NotFound desc = failed to pull and unpack image: not found'): void {
    const pod = this.store.get(name);
    if (!pod) return;
    const image = pod.spec!.containers[0]!.image ?? '';
    this.record(name, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
    this.record(name, 'Warning', 'Failed', 'Error: ErrImagePull');
    this.setStatus(name, (p) => {
      p.status!.containerStatuses = [this.containerStatus(p, { waiting: { reason: 'ErrImagePull', message: `failed to pull image "${image}": ${message}` } }, false)];
    });
  }

  private record(name: string, type: 'Normal' | 'Warning', reason: string, message: string, component = 'kubelet'): void {
    const pod = this.store.get(name);
    if (pod && !pod.metadata?.deletionTimestamp) this.events.record(pod, type, reason, message, component);
  }

  /** Behaviour of every pod created from now on (until changed). */
  behave(behaviour: PodBehaviour): void {
    this.defaultBehaviour = behaviour;
  }

  /** Behaviour of the next created pod only (queued in order). */
  behaveOnce(behaviour: PodBehaviour): void {
    this.queued.push(behaviour);
  }

  /** The pod's own folder (its "container filesystem": home/ and tmp/). */
  podDir(name: string): string | undefined {
    return this.runtimes.get(name)?.dir;
  }

  registerExec(name: string, kill: (exitCode: number) => void): () => void {
    const rt = this.runtimes.get(name);
    rt?.killExecs.add(kill);
    return () => rt?.killExecs.delete(kill);
  }

  /** Called by the apiserver after a create. */
  podCreated(name: string): void {
    const dir = mkdtempSync(join(tmpdir(), 'fkpod-'));
    mkdirSync(join(dir, 'home'));
    mkdirSync(join(dir, 'tmp'));
    const rt: PodRuntime = { dir, timers: new Set(), killExecs: new Set() };
    this.runtimes.set(name, rt);
    const behaviour = this.queued.shift() ?? this.defaultBehaviour;
    this.run(name, rt, behaviour);
  }

  /** Called by the apiserver on delete: marks the pod terminating, then removes it. */
  podDeleted(name: string, gracePeriodSeconds: number): void {
    const rt = this.runtimes.get(name);
    const pod = this.store.get(name);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const bound = Boolean(pod.spec?.nodeName);
    if (!bound) {
      this.finish(name);
      return;
    }
    this.store.update(name, (p) => {
      p.metadata!.deletionTimestamp = now() as unknown as Date;
      p.metadata!.deletionGracePeriodSeconds = gracePeriodSeconds;
    });
    const timer = setTimeout(() => this.finish(name), Math.min(this.terminationMs, gracePeriodSeconds * 1000));
    rt?.timers.add(timer);
  }

  close(): void {
    for (const name of [...this.runtimes.keys()]) this.release(name, 137);
  }

  private finish(name: string): void {
    this.release(name, 137);
    this.store.remove(name);
  }

  private release(name: string, exitCode: number): void {
    const rt = this.runtimes.get(name);
    if (!rt) return;
    this.runtimes.delete(name);
    for (const t of rt.timers) clearTimeout(t);
    for (const kill of [...rt.killExecs]) kill(exitCode);
    killPodProcesses(rt.dir); // the container is gone: so is every process started in it
    rmSync(rt.dir, { recursive: true, force: true });
  }

  private later(rt: PodRuntime, ms: number, step: () => void): void {
    const timer = setTimeout(() => {
      rt.timers.delete(timer);
      step();
    }, ms);
    rt.timers.add(timer);
  }

  private setStatus(name: string, change: (pod: V1Pod) => void): void {
    const pod = this.store.get(name);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    this.store.update(name, change);
  }

  private containerStatus(pod: V1Pod, state: V1ContainerStatus['state'], ready: boolean): V1ContainerStatus {
    const container = pod.spec!.containers[0]!;
    return { name: container.name, image: container.image ?? '', imageID: '', ready, restartCount: 0, started: Boolean(state?.running), state };
  }

  private schedule(name: string, rt: PodRuntime): void {
    this.record(name, 'Normal', 'Scheduled', `Successfully assigned ${this.store.get(name)?.metadata?.namespace}/${name} to fake-node`, 'default-scheduler');
    this.setStatus(name, (p) => {
      p.spec!.nodeName = 'fake-node';
      p.status = {
        ...p.status,
        phase: 'Pending',
        startTime: now() as unknown as Date,
        hostIP: '127.0.0.1',
        conditions: [condition('PodScheduled', 'True')],
        containerStatuses: [this.containerStatus(p, { waiting: { reason: 'ContainerCreating' } }, false)],
      };
    });
    const deadline = this.store.get(name)?.spec?.activeDeadlineSeconds;
    if (deadline) this.later(rt, deadline * this.deadlineMsPerSecond, () => this.deadlineExceeded(name));
  }

  private terminate(name: string, reason: string, exitCode: number, podReason?: string, podMessage?: string): void {
    this.setStatus(name, (p) => {
      p.status = {
        ...p.status,
        phase: 'Failed',
        ...(podReason ? { reason: podReason } : {}),
        ...(podMessage ? { message: podMessage } : {}),
        conditions: [condition('PodScheduled', 'True'), condition('Ready', 'False', 'PodFailed')],
        containerStatuses: [this.containerStatus(p, { terminated: { exitCode, reason, startedAt: now() as unknown as Date, finishedAt: now() as unknown as Date } }, false)],
      };
    });
    const rt = this.runtimes.get(name);
    for (const kill of [...(rt?.killExecs ?? [])]) kill(exitCode);
  }

  private pulling(name: string): void {
    this.record(name, 'Normal', 'Pulling', `Pulling image "${this.store.get(name)?.spec?.containers[0]?.image ?? ''}"`);
  }

  private deadlineExceeded(name: string): void {
    this.terminate(name, 'Error', 137, 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
  }

  private run(name: string, rt: PodRuntime, b: PodBehaviour): void {
    switch (b.kind) {
      case 'unschedulable':
        this.later(rt, 5, () => this.record(name, 'Warning', 'FailedScheduling',
          b.message ?? '0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available.', 'default-scheduler'));
        this.later(rt, 5, () => this.setStatus(name, (p) => {
          p.status = {
            phase: 'Pending',
            conditions: [condition('PodScheduled', 'False', 'Unschedulable',
              b.message ?? '0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available.')],
          };
        }));
        return;
      case 'image_pull_failed':
        this.later(rt, 5, () => this.schedule(name, rt));
        this.later(rt, 15, () => this.setStatus(name, (p) => {
          const reason = b.waitingReason ?? 'ErrImageNeverPull';
          const message = reason === 'ErrImageNeverPull'
            ? `Container image "${p.spec!.containers[0]!.image}" is not present with pull policy of Never`
            : `Back-off pulling image "${p.spec!.containers[0]!.image}"`;
          p.status!.containerStatuses = [this.containerStatus(p, { waiting: { reason, message } }, false)];
        }));
        return;
      case 'crash':
      case 'oom':
        this.later(rt, 5, () => this.schedule(name, rt));
        this.later(rt, 15, () => this.terminate(name, b.kind === 'oom' ? 'OOMKilled' : 'Error', b.kind === 'oom' ? 137 : (b.exitCode ?? 1)));
        return;
      case 'never_ready':
        this.later(rt, 5, () => this.schedule(name, rt));
        return;
      case 'pulling':
        this.later(rt, 5, () => {
          this.schedule(name, rt);
          this.pulling(name);
        });
        return;
      case 'mount_failed':
        this.later(rt, 5, () => {
          this.schedule(name, rt);
          this.record(name, 'Warning', 'FailedMount',
            b.message ?? 'MountVolume.SetUp failed for volume "courses" : persistentvolumeclaim "courses" not found');
        });
        return;
      case 'normal': {
        const scheduleMs = b.scheduleMs ?? 5;
        const pullMs = scheduleMs + (b.pullMs ?? 5);
        const startMs = pullMs + (b.startMs ?? 5);
        this.later(rt, scheduleMs, () => {
          this.schedule(name, rt);
          this.pulling(name);
        });
        this.later(rt, pullMs, () => {
          const image = this.store.get(name)?.spec?.containers[0]?.image ?? '';
          this.record(name, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
          this.record(name, 'Normal', 'Created', 'Created container sandbox');
        });
        this.later(rt, startMs, () => this.record(name, 'Normal', 'Started', 'Started container sandbox'));
        this.later(rt, startMs, () => this.setStatus(name, (p) => {
          p.status = {
            ...p.status,
            phase: 'Running',
            podIP: '10.42.0.10',
            conditions: [condition('PodScheduled', 'True'), condition('Initialized', 'True'), condition('ContainersReady', 'True'), condition('Ready', 'True')],
            containerStatuses: [this.containerStatus(p, { running: { startedAt: now() as unknown as Date } }, true)],
          };
        }));
      }
    }
  }
}
