// The session pod as a pure function of the session and the config: no I/O, inputs never mutated.
// Secure defaults live here (Pod Security Standards "restricted"), not in the manifests.
import type { V1Pod, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { SandboxSpec } from '../types.ts';
import type { KubernetesConfig } from './config.ts';
import { sandboxEnvironment } from '../../sandbox/contract.ts';
import { resolveProfile } from './profiles.ts';
import { COMMAND_ANNOTATION, HOLD_COMMAND } from './session-command.ts';

export const CONTAINER_NAME = 'sandbox';
export const SANDBOX_UID = 10001;
export const HOME_DIR = '/home/sandbox';
export const POD_NAME_PREFIX = 'claudecode-session-';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  sessionId: 'claudecode.io/session-id',
  userHash: 'claudecode.io/user-hash',
  /** Which web-terminal scope manages the pod (absent on pods made before scopes: `default`). */
  scope: 'claudecode.io/scope',
  profile: 'claudecode.io/profile',
} as const;
export const MANAGED_BY = 'claudecode-web-terminal';
/** Selects every pod this service created. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;
export const DEFAULT_SCOPE = 'default';

/**
 * The label selector of one scope's pods. `default` also owns pods without a scope label, which a
 * selector cannot express together with `scope=default`: it selects every managed pod and
 * `inScope` filters the rest out.
 */
export function scopeSelector(scope: string): string {
  return scope === DEFAULT_SCOPE ? MANAGED_SELECTOR : `${MANAGED_SELECTOR},${LABELS.scope}=${scope}`;
}

/** Whether `pod` belongs to `scope` (pods without a scope label belong to `default`). */
export function inScope(pod: V1Pod, scope: string): boolean {
  return (pod.metadata?.labels?.[LABELS.scope] ?? DEFAULT_SCOPE) === scope;
}

export const ANNOTATIONS = {
  createdAt: 'claudecode.io/created-at',
  expiresAt: 'claudecode.io/expires-at',
  courseId: 'claudecode.io/course-id',
  profile: 'claudecode.io/profile',
  /** The full user hash (the label holds at most 63 characters of it). */
  userHash: 'claudecode.io/user-hash',
  command: COMMAND_ANNOTATION,
  /** The web-terminal instance that created the pod (its Lease holder identity). */
  instance: 'claudecode.io/instance',
} as const;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SESSION_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function podName(sessionId: string): string {
  if (sessionId.length > 63 || !SESSION_ID.test(sessionId)) {
    throw new Error('session id must be 1-63 characters of a-z, 0-9 and inner "-" to name a pod');
  }
  return POD_NAME_PREFIX + sessionId;
}

/** Label values hold at most 63 characters; the full hash is kept in an annotation. */
export function userHashLabel(userHash: string): string {
  const value = userHash.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
  if (!LABEL_VALUE.test(value)) throw new Error('user hash is not usable as a label value');
  return value;
}

/** activeDeadlineSeconds: the kubelet ends the pod at the session's hard end even if we are down. */
export function activeDeadlineSeconds(createdAt: Date, expiresAt: Date): number {
  const seconds = Math.ceil((expiresAt.getTime() - createdAt.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), 2_147_483_647);
}

/**
 * The merge patch that hands a warm pod (made ahead of demand with user hash `unclaimed`) to the session
 * that claimed it: its owner, the claim as its start and the session's end, as `toRecord` reads them
 * after a restart; and the kubelet's hard deadline (counted from the pod's start) shortened to that end.
 */
export function ownerPatch(owner: { userHash: string; claimedAt: Date; expiresAt: Date }, podStartedAt: Date, currentDeadlineSeconds: number | undefined): object {
  const deadline = activeDeadlineSeconds(podStartedAt, owner.expiresAt);
  return {
    metadata: {
      labels: { [LABELS.userHash]: userHashLabel(owner.userHash) },
      annotations: {
        [ANNOTATIONS.userHash]: owner.userHash,
        [ANNOTATIONS.createdAt]: owner.claimedAt.toISOString(),
        [ANNOTATIONS.expiresAt]: owner.expiresAt.toISOString(),
      },
    },
    // The apiserver only lets a running pod's deadline get shorter.
    ...(currentDeadlineSeconds === undefined || deadline < currentDeadlineSeconds ? { spec: { activeDeadlineSeconds: deadline } } : {}),
  };
}

function environment(spec: SandboxSpec, config: KubernetesConfig, courseDir: string | null): V1EnvVar[] {
  const env = sandboxEnvironment({
    sessionId: spec.sessionId,
    credential: spec.credential,
    proxy: { kind: 'url', url: config.SANDBOX_PROXY_URL },
    home: HOME_DIR,
    workdir: courseDir ?? '/workspace',
    course: spec.course,
    runtime: courseDir ? { COURSE_DIR: courseDir } : {},
    session: spec.env,
  });
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** `instanceId`: the creating instance, recorded on the pod (see ANNOTATIONS.instance). */
export function buildSandboxPod(spec: SandboxSpec, config: KubernetesConfig, instanceId?: string): V1Pod {
  const profile = resolveProfile(spec.profile, config);
  const courseDir = spec.course ? `${config.SANDBOX_COURSES_PATH.replace(/\/+$/, '')}/${spec.course.id}` : null;
  const volumes: V1Volume[] = [
    { name: 'home', emptyDir: { sizeLimit: config.SANDBOX_HOME_SIZE } },
    { name: 'tmp', emptyDir: { sizeLimit: config.SANDBOX_TMP_SIZE } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'home', mountPath: HOME_DIR },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (spec.course && config.SANDBOX_COURSES_PVC) {
    volumes.push({ name: 'courses', persistentVolumeClaim: { claimName: config.SANDBOX_COURSES_PVC, readOnly: true } });
    mounts.push({ name: 'courses', mountPath: config.SANDBOX_COURSES_PATH, readOnly: true });
  }
  const annotations: Record<string, string> = {
    [ANNOTATIONS.createdAt]: spec.createdAt.toISOString(),
    [ANNOTATIONS.expiresAt]: spec.expiresAt.toISOString(),
    [ANNOTATIONS.profile]: spec.profile,
    [ANNOTATIONS.userHash]: spec.userHash,
    [ANNOTATIONS.command]: JSON.stringify(spec.command),
  };
  if (spec.course) annotations[ANNOTATIONS.courseId] = spec.course.id;
  if (instanceId) annotations[ANNOTATIONS.instance] = instanceId;

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(spec.sessionId),
      namespace: config.K8S_NAMESPACE,
      labels: {
        [LABELS.name]: 'claudecode-sandbox',
        [LABELS.component]: 'sandbox',
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.sessionId]: spec.sessionId,
        [LABELS.userHash]: userHashLabel(spec.userHash),
        [LABELS.scope]: config.K8S_SCOPE,
        [LABELS.profile]: spec.profile,
      },
      annotations,
    },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      restartPolicy: 'Never',
      activeDeadlineSeconds: activeDeadlineSeconds(spec.createdAt, spec.expiresAt),
      terminationGracePeriodSeconds: config.SANDBOX_DELETE_GRACE_SECONDS,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: SANDBOX_UID,
        runAsGroup: SANDBOX_UID,
        fsGroup: SANDBOX_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(Object.keys(profile.nodeSelector).length > 0 ? { nodeSelector: profile.nodeSelector } : {}),
      ...(profile.tolerations.length > 0 ? { tolerations: profile.tolerations } : {}),
      ...(profile.runtimeClassName ? { runtimeClassName: profile.runtimeClassName } : {}),
      containers: [
        {
          name: CONTAINER_NAME,
          image: config.SANDBOX_IMAGE,
          imagePullPolicy: config.SANDBOX_IMAGE_PULL_POLICY,
          command: [...HOLD_COMMAND],
          workingDir: courseDir ?? HOME_DIR,
          env: environment(spec, config, courseDir),
          resources: { requests: profile.requests, limits: profile.limits },
          securityContext: {
            runAsNonRoot: true,
            runAsUser: SANDBOX_UID,
            runAsGroup: SANDBOX_UID,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
}
