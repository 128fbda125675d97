// The Kubernetes SessionRuntime: a Pod per session, its terminal over exec, deletion on stop,
// and reconciliation of pods no live session owns (after our own restart, or a failed delete).
// Only the holder of the scope's Lease creates, adopts and reconciles pods (lease.ts); another
// instance of the same scope is on standby: unready, refusing sessions, until it gets the Lease.
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { SandboxError, type RuntimeHealth, type SandboxRecord, type SandboxSpec, type SessionRuntime, type StartProgress, type Terminal } from '../types.ts';
import type { KubernetesConfig } from './config.ts';
import { openExecTerminal } from './exec-terminal.ts';
import { describeApiError, loadKubeConfig, PodApi, withTimeout } from './kube-client.ts';
import { LeaseElector, leaseName, newInstanceId } from './lease.ts';
import { ANNOTATIONS, CONTAINER_NAME, LABELS, ownerPatch, podName } from './pod-spec.ts';
import { podIsAlive } from './pod-status.ts';
import { PodWatcher } from './pod-watch.ts';
import { execArgv } from './session-command.ts';
import { deleteAfterFailedStart, StartDeadline, startPod } from './start-pod.ts';
import { readPodTranscript, writePodResumeFile } from './transcript-exec.ts';

export interface KubernetesRuntimeOptions {
  config: KubernetesConfig;
  logger: Logger;
  /** Defaults to loadKubeConfig({ kubeconfigPath: config.KUBECONFIG }). */
  kubeConfig?: KubeConfig;
  /** Exec heartbeat period (tests shorten it). */
  heartbeatMs?: number;
  /** How long stop() waits for the pod to be gone before giving up (reconciliation retries). */
  stopWaitMs?: number;
  watchTimeoutSeconds?: number;
  /** This instance's Lease holder identity (default: hostname plus a random suffix). */
  instanceId?: string;
}

/** What the service does when this instance becomes the active one of its scope. */
export interface ControllerHandlers {
  /** Takes over the running session pods (the session manager's adoption). */
  onActive: () => Promise<void>;
}

/** Health checks answer within this bound whatever the API does (the readiness probe allows 3 s). */
const HEALTH_TIMEOUT_MS = 2_000;

export interface ReconcileResult {
  deleted: string[];
  failed: string[];
}

export interface KubernetesRuntime extends SessionRuntime {
  /** Deletes managed pods that no live session owns, and every Failed/Succeeded pod (Lease holder only). */
  reconcile(ownedSessionIds: Iterable<string>): Promise<ReconcileResult>;
  /** Starts leader election; `onActive` runs each time this instance gets the Lease (awaited the first time). */
  startController(handlers: ControllerHandlers): Promise<void>;
  /** This instance's identity, and whether it holds the Lease. */
  controllerStatus(): { instanceId: string; active: boolean; holder: string | null };
}

function toRecord(pod: V1Pod): SandboxRecord | null {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const sessionId = labels[LABELS.sessionId];
  if (!sessionId) return null;
  const date = (value: string | undefined) => (value && !Number.isNaN(Date.parse(value)) ? new Date(value) : null);
  return {
    sessionId,
    userHash: annotations[ANNOTATIONS.userHash] ?? labels[LABELS.userHash] ?? '',
    createdAt: date(annotations[ANNOTATIONS.createdAt]) ?? new Date(pod.metadata?.creationTimestamp ?? 0),
    expiresAt: date(annotations[ANNOTATIONS.expiresAt]),
    courseId: annotations[ANNOTATIONS.courseId] ?? null,
    profile: labels[LABELS.profile] ?? annotations[ANNOTATIONS.profile] ?? 'default',
    alive: podIsAlive(pod),
  };
}

function storedCommand(pod: V1Pod): string[] | null {
  try {
    const parsed = JSON.parse(pod.metadata?.annotations?.[ANNOTATIONS.command] ?? 'null') as unknown;
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every((a) => typeof a === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

export function createKubernetesRuntime(opts: KubernetesRuntimeOptions): KubernetesRuntime {
  const { config, logger } = opts;
  const kubeConfig = opts.kubeConfig ?? loadKubeConfig({ kubeconfigPath: config.KUBECONFIG });
  const api = new PodApi(kubeConfig, config.K8S_NAMESPACE, config.K8S_API_TIMEOUT_SECONDS * 1000, config.K8S_SCOPE);
  const watcher = new PodWatcher({ api, kubeConfig, logger, watchTimeoutSeconds: opts.watchTimeoutSeconds });
  const instanceId = opts.instanceId ?? newInstanceId();
  const lease = `${config.K8S_LEASE_NAMESPACE}/${leaseName(config.K8S_SCOPE)}`;
  let handlers: ControllerHandlers | null = null;
  let activation: Promise<void> | null = null;
  // True from getting the Lease until the takeover (adoption) is done: no new sandbox meanwhile, so the
  // adopted sessions hold their slots before the warm pool or a new session takes one.
  let takingOver = false;
  const elector = new LeaseElector({
    kubeConfig,
    namespace: config.K8S_LEASE_NAMESPACE,
    name: leaseName(config.K8S_SCOPE),
    identity: instanceId,
    durationSeconds: config.K8S_LEASE_DURATION_SECONDS,
    renewSeconds: config.K8S_LEASE_RENEW_SECONDS,
    timeoutMs: config.K8S_API_TIMEOUT_SECONDS * 1000,
    logger,
    onStartedLeading: () => {
      takingOver = true;
      activation = (handlers?.onActive() ?? Promise.resolve()).catch((err: unknown) => {
        logger.error({ err }, 'taking over the running session pods failed');
      }).finally(() => {
        takingOver = false;
      });
    },
    onStoppedLeading: () => undefined,
  });
  const deps = { api, watcher, config, logger, instanceId, kubeConfig };
  const standbyDetail = () => {
    const { holder, lastError } = elector.status();
    if (lastError) return `standby: the Lease ${lease} cannot be acquired (${lastError})`;
    return `standby: ${holder ? `instance ${holder}` : 'another instance'} holds the Lease ${lease} for scope "${config.K8S_SCOPE}"; this instance (${instanceId}) takes over when it is released or expires`;
  };

  const openTerminals = new Set<Terminal>();
  const target = (sessionId: string) => ({ kubeConfig, namespace: config.K8S_NAMESPACE, podName: podName(sessionId), container: CONTAINER_NAME });
  const openTerminal = async (name: string, command: string[], size: { cols: number; rows: number }) => {
    const terminal = await openExecTerminal({
      kubeConfig,
      namespace: config.K8S_NAMESPACE,
      podName: name,
      container: CONTAINER_NAME,
      argv: execArgv(command, config.SANDBOX_ENTRYPOINT),
      cols: size.cols,
      rows: size.rows,
      heartbeatMs: opts.heartbeatMs,
    });
    openTerminals.add(terminal);
    terminal.onExit(() => openTerminals.delete(terminal));
    const detach = terminal.detach.bind(terminal);
    terminal.detach = () => { openTerminals.delete(terminal); detach(); };
    return terminal;
  };

  async function deleteAndWait(name: string): Promise<boolean> {
    const existed = await api.delete(name, config.SANDBOX_DELETE_GRACE_SECONDS);
    if (!existed) return true;
    return watcher.waitGone(name, opts.stopWaitMs ?? (config.SANDBOX_DELETE_GRACE_SECONDS + 30) * 1000);
  }

  return {
    kind: 'kubernetes',

    async startController(next) {
      handlers = next;
      await elector.start();
      await activation;
    },

    controllerStatus() {
      const { leader, holder } = elector.status();
      return { instanceId, active: leader, holder };
    },

    unavailableReason() {
      if (!elector.isLeader()) return 'Another web-terminal instance manages the sessions right now; this one is on standby.';
      return takingOver ? 'This instance is taking over the running sessions; try again in a moment.' : null;
    },

    async start(spec: SandboxSpec, startOpts: { signal: AbortSignal; onProgress: (p: StartProgress) => void }): Promise<Terminal> {
      if (!elector.isLeader()) throw new SandboxError('standby', standbyDetail());
      const deadline = new StartDeadline(config.START_TIMEOUT_SECONDS);
      const pod = await startPod(deps, spec, { ...startOpts, deadline });
      const name = pod.metadata?.name as string;
      try {
        if (startOpts.signal.aborted) throw new SandboxError('aborted', 'session start was cancelled');
        if (spec.resume) {
          await writePodResumeFile(target(spec.sessionId), spec.resume.content).catch((err: unknown) => {
            throw new SandboxError('resume_failed', 'could not hand the earlier conversation to the sandbox', { cause: err });
          });
        }
        const opening = openTerminal(name, spec.command, spec);
        return await deadline.race(opening, () => {
          opening.then((late) => late.detach(), () => undefined); // an exec that opens after the deadline is let go
          return new SandboxError('start_timeout', `the terminal of the sandbox did not open within ${config.START_TIMEOUT_SECONDS} s`);
        });
      } catch (err) {
        await deleteAfterFailedStart(deps, name, null);
        if (err instanceof SandboxError) throw err;
        logger.warn({ pod: name, err: describeApiError(err) }, 'exec into the session pod failed');
        throw new SandboxError('api_error', 'could not open the terminal of the sandbox', { cause: err });
      }
    },

    async attach(sessionId, size) {
      const name = podName(sessionId);
      await watcher.start();
      const pod = watcher.get(name) ?? (await api.read(name));
      if (!pod || !podIsAlive(pod)) throw new SandboxError('container_crashed', 'the sandbox is no longer running');
      const command = storedCommand(pod);
      if (!command) throw new SandboxError('api_error', 'the sandbox pod does not record its session command');
      try {
        return await openTerminal(name, command, size);
      } catch (err) {
        throw new SandboxError('api_error', 'could not re-open the terminal of the sandbox', { cause: err });
      }
    },

    async stop(sessionId) {
      const name = podName(sessionId);
      try {
        if (!(await deleteAndWait(name))) logger.warn({ pod: name }, 'session pod still present after stop; reconciliation will retry');
      } catch (err) {
        logger.warn({ pod: name, err: describeApiError(err) }, 'deleting the session pod failed; reconciliation will retry');
      }
    },

    async bindOwner(sessionId, owner) {
      const name = podName(sessionId);
      const pod = watcher.get(name) ?? (await api.read(name));
      if (!pod || pod.metadata?.deletionTimestamp) throw new SandboxError('container_crashed', 'the warm sandbox pod is gone');
      // activeDeadlineSeconds counts from the pod's start.
      const started: Date | string | undefined = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
      const startedAt = started ? new Date(started) : new Date();
      const patched = await api.mergePatch(name, ownerPatch(owner, startedAt, pod.spec?.activeDeadlineSeconds));
      if (!patched) throw new SandboxError('container_crashed', 'the warm sandbox pod is gone');
    },

    async list() {
      const { pods } = await api.listManaged();
      return pods.map(toRecord).filter((r): r is SandboxRecord => r !== null);
    },

    async reconcile(ownedSessionIds) {
      const result: ReconcileResult = { deleted: [], failed: [] };
      if (!elector.isLeader()) return result;
      const { pods } = await api.listManaged();
      // Read after listing: a session created while the list was in flight owns its pod too.
      const owned = new Set(ownedSessionIds);
      await Promise.all(pods.map(async (pod) => {
        const name = pod.metadata?.name;
        if (!name || pod.metadata?.deletionTimestamp) return;
        const sessionId = pod.metadata?.labels?.[LABELS.sessionId];
        const finished = pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
        if (sessionId && owned.has(sessionId) && !finished) return;
        // Losing the Lease stops reconciling at once; a pod of another live holder is never ours to delete.
        const { leader, holder } = elector.status();
        const creator = pod.metadata?.annotations?.[ANNOTATIONS.instance];
        if (!leader || (creator && creator !== instanceId && creator === holder)) return;
        try {
          await api.delete(name, config.SANDBOX_DELETE_GRACE_SECONDS);
          result.deleted.push(name);
        } catch (err) {
          result.failed.push(name);
          logger.warn({ pod: name, err: describeApiError(err) }, 'reconciliation could not delete a pod');
        }
      }));
      if (result.deleted.length > 0) logger.info({ pods: result.deleted }, 'reconciliation deleted session pods');
      return result;
    },

    async readTranscript(sessionId, maxBytes) {
      // A pod the watch knows to be gone or going has nothing left to read (e.g. after stop).
      const pod = watcher.get(podName(sessionId));
      if (!pod || !podIsAlive(pod)) return null;
      return readPodTranscript(target(sessionId), maxBytes);
    },

    async health(): Promise<RuntimeHealth> {
      if (!elector.isLeader()) return { ok: false, message: standbyDetail() };
      try {
        await withTimeout(watcher.start(), HEALTH_TIMEOUT_MS, 'pod watch');
      } catch (err) {
        return { ok: false, message: `Kubernetes API not reachable: ${describeApiError(err)}` };
      }
      return watcher.health();
    },

    async close() {
      watcher.close();
      // Our sockets go; the pods (and the programs in them) stay for the next Lease holder to adopt.
      for (const terminal of [...openTerminals]) terminal.detach();
      await elector.release();
    },
  };
}
