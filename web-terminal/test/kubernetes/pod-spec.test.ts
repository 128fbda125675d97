// The session pod as plain JSON: compared against literal objects, inputs never mutated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadKubernetesConfig } from '../../src/runtime/kubernetes/config.ts';
import { activeDeadlineSeconds, buildSandboxPod, inScope, ownerPatch, podName, scopeSelector, userHashLabel } from '../../src/runtime/kubernetes/pod-spec.ts';
import { patchPod } from '../fakes/kube-apiserver/patch.ts';
import { execArgv, HOLD_COMMAND } from '../../src/runtime/kubernetes/session-command.ts';
import { podVerdict } from '../../src/runtime/kubernetes/pod-status.ts';
import type { SandboxSpec } from '../../src/runtime/types.ts';

const createdAt = new Date('2030-01-01T10:00:00.000Z');
const spec = (overrides: Partial<SandboxSpec> = {}): SandboxSpec => ({
  sessionId: 'abc123',
  userHash: 'f'.repeat(64),
  credential: 'cc-cred',
  command: ['claude'],
  env: { EXTRA: '1', ANTHROPIC_BASE_URL: 'http://evil' },
  course: null,
  profile: 'default',
  cols: 80,
  rows: 24,
  createdAt,
  expiresAt: new Date(createdAt.getTime() + 7200_500),
  ...overrides,
});

const restrictedContainerContext = {
  runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, allowPrivilegeEscalation: false, privileged: false,
  readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
};
// The sandbox contract (src/sandbox/contract.ts): the session's own names first, the contract's last (they win).
const env = (extra: Record<string, string> = {}, runtime: Record<string, string> = {}, workdir = '/workspace') => Object.entries({
  ...extra,
  ...runtime,
  HOME: '/home/sandbox',
  TERM: 'xterm-256color',
  LANG: 'C.UTF-8',
  CLAUDECODE_SESSION_ID: 'abc123',
  CLAUDECODE_WORKDIR: workdir,
  ANTHROPIC_API_KEY: 'cc-cred',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
  ANTHROPIC_BASE_URL: 'http://api-proxy.claudecode-system.svc.cluster.local:8080',
}).map(([name, value]) => ({ name, value }));

describe('buildSandboxPod', () => {
  it('builds the default pod (PSS restricted, no token, TTL deadline)', () => {
    const input = spec();
    const frozen = structuredClone(input);
    const config = loadKubernetesConfig({});
    const configCopy = structuredClone(config);
    assert.deepEqual(buildSandboxPod(input, config, 'web-terminal-5f7c-a1b2c3'), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'claudecode-session-abc123',
        namespace: 'claudecode-sandboxes',
        labels: {
          'app.kubernetes.io/name': 'claudecode-sandbox',
          'app.kubernetes.io/component': 'sandbox',
          'app.kubernetes.io/managed-by': 'claudecode-web-terminal',
          'claudecode.io/session-id': 'abc123',
          'claudecode.io/user-hash': 'f'.repeat(63),
          'claudecode.io/scope': 'default',
          'claudecode.io/profile': 'default',
        },
        annotations: {
          'claudecode.io/created-at': '2030-01-01T10:00:00.000Z',
          'claudecode.io/expires-at': '2030-01-01T12:00:00.500Z',
          'claudecode.io/profile': 'default',
          'claudecode.io/user-hash': 'f'.repeat(64),
          'claudecode.io/session-command': '["claude"]',
          'claudecode.io/instance': 'web-terminal-5f7c-a1b2c3',
        },
      },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        hostNetwork: false,
        hostPID: false,
        hostIPC: false,
        restartPolicy: 'Never',
        activeDeadlineSeconds: 7201,
        terminationGracePeriodSeconds: 2,
        securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'sandbox',
          image: 'claudecode/sandbox:0.1.0',
          imagePullPolicy: 'IfNotPresent',
          command: [...HOLD_COMMAND],
          workingDir: '/home/sandbox',
          env: env({ EXTRA: '1' }),
          resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '2Gi' } },
          securityContext: restrictedContainerContext,
          volumeMounts: [{ name: 'home', mountPath: '/home/sandbox' }, { name: 'tmp', mountPath: '/tmp' }],
        }],
        volumes: [
          { name: 'home', emptyDir: { sizeLimit: '512Mi' } },
          { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
        ],
      },
    });
    assert.deepEqual(input, frozen);
    assert.deepEqual(config, configCopy);
  });

  it('gpu profile, scheduling knobs and a course from a read-only PVC', () => {
    const config = loadKubernetesConfig({
      SANDBOX_PROFILES_ALLOWED: 'gpu',
      SANDBOX_NODE_SELECTOR: '{"pool":"sandboxes"}',
      SANDBOX_TOLERATIONS: '[{"key":"sandbox","operator":"Exists","effect":"NoSchedule"}]',
      SANDBOX_RUNTIME_CLASS: 'gvisor',
      SANDBOX_GPU_NODE_SELECTOR: '{"nvidia.com/gpu.present":"true"}',
      SANDBOX_COURSES_PVC: 'courses',
      SANDBOX_IMAGE_PULL_POLICY: 'Never',
    });
    const pod = buildSandboxPod(spec({ profile: 'gpu', course: { id: 'intro', contentDir: '/srv/courses/intro' } }), config);
    const podSpec = pod.spec!;
    const container = podSpec.containers[0]!;
    assert.deepEqual(podSpec.nodeSelector, { pool: 'sandboxes', 'nvidia.com/gpu.present': 'true' });
    assert.deepEqual(podSpec.tolerations, [
      { key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    assert.equal(podSpec.runtimeClassName, 'nvidia');
    assert.equal(container.imagePullPolicy, 'Never');
    assert.deepEqual(container.resources, {
      requests: { cpu: '250m', memory: '512Mi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '1', memory: '2Gi', 'nvidia.com/gpu': '1' },
    });
    assert.equal(container.workingDir, '/courses/intro');
    assert.deepEqual(container.volumeMounts?.at(-1), { name: 'courses', mountPath: '/courses', readOnly: true });
    assert.deepEqual(podSpec.volumes?.at(-1), { name: 'courses', persistentVolumeClaim: { claimName: 'courses', readOnly: true } });
    const courseEnv = env({ EXTRA: '1' }, { COURSE_DIR: '/courses/intro' }, '/courses/intro');
    courseEnv.push({ name: 'COURSE_ID', value: 'intro' });
    assert.deepEqual(container.env, courseEnv);
    assert.equal(pod.metadata?.annotations?.['claudecode.io/course-id'], 'intro');
    assert.equal(pod.metadata?.labels?.['claudecode.io/profile'], 'gpu', 'an adopted pod keeps its profile');
  });

  it('labels the pod with its scope; the selector of a scope finds only its pods', () => {
    const laptop = loadKubernetesConfig({ K8S_SCOPE: 'dev-alice' });
    const pod = buildSandboxPod(spec(), laptop);
    assert.equal(pod.metadata?.labels?.['claudecode.io/scope'], 'dev-alice');
    assert.equal(scopeSelector('dev-alice'), 'app.kubernetes.io/managed-by=claudecode-web-terminal,claudecode.io/scope=dev-alice');
    assert.equal(scopeSelector('default'), 'app.kubernetes.io/managed-by=claudecode-web-terminal');
    const unlabelled = { metadata: { labels: { 'app.kubernetes.io/managed-by': 'claudecode-web-terminal' } } };
    assert.equal(inScope(unlabelled, 'default'), true, 'pods from before scopes belong to default');
    assert.equal(inScope(unlabelled, 'dev-alice'), false);
    assert.equal(inScope(pod, 'default'), false);
    assert.equal(inScope(pod, 'dev-alice'), true);
  });

  it('refuses a profile that is not allowed and ids that cannot name a pod', () => {
    assert.throws(() => buildSandboxPod(spec({ profile: 'gpu' }), loadKubernetesConfig({})), /not allowed/);
    assert.throws(() => podName('Has_Upper'), /session id/);
    assert.throws(() => podName('x'.repeat(64)), /session id/);
    assert.equal(userHashLabel('ab-'), 'ab');
  });

  it('never puts anything but the session credential in the pod', () => {
    const text = JSON.stringify(buildSandboxPod(spec(), loadKubernetesConfig({})));
    assert.doesNotMatch(text, /sk-ant-/);
    assert.doesNotMatch(text, /serviceAccountName|hostPath|privileged":true/);
  });

  it('derives activeDeadlineSeconds from the session lifetime, rounded up, at least 1', () => {
    assert.equal(activeDeadlineSeconds(createdAt, new Date(createdAt.getTime() + 1)), 1);
    assert.equal(activeDeadlineSeconds(createdAt, createdAt), 1);
    assert.equal(activeDeadlineSeconds(createdAt, new Date(createdAt.getTime() + 3600_000)), 3600);
  });

  it('a warm pod is made with user hash `unclaimed`; the claim patches owner, start, end, and a shorter deadline', () => {
    const warm = buildSandboxPod(spec({ userHash: 'unclaimed', expiresAt: new Date(createdAt.getTime() + 2 * 7200_000) }), loadKubernetesConfig({}));
    assert.equal(warm.metadata?.labels?.['claudecode.io/user-hash'], 'unclaimed');
    assert.equal(warm.spec?.activeDeadlineSeconds, 14_400);
    const claimedAt = new Date(createdAt.getTime() + 600_000);
    const owner = { userHash: 'b'.repeat(64), claimedAt, expiresAt: new Date(claimedAt.getTime() + 7200_000) };
    const startedAt = new Date(createdAt.getTime() + 5_000);
    const patch = ownerPatch(owner, startedAt, 14_400);
    assert.deepEqual(patch, {
      metadata: {
        labels: { 'claudecode.io/user-hash': 'b'.repeat(63) },
        annotations: { 'claudecode.io/user-hash': 'b'.repeat(64), 'claudecode.io/created-at': claimedAt.toISOString(), 'claudecode.io/expires-at': owner.expiresAt.toISOString() },
      },
      spec: { activeDeadlineSeconds: 7_795 }, // counted from the pod's start: 600 - 5 + 7200 s
    });
    // The deadline is never made longer (the apiserver refuses it).
    assert.equal('spec' in ownerPatch(owner, startedAt, 100), false);
    // What the fake apiserver (and a real one) does with it.
    const patched = patchPod(structuredClone(warm), 'application/merge-patch+json', JSON.stringify(patch));
    assert.equal('kind' in patched && patched.kind === 'Status', false);
    const pod = patched as typeof warm;
    assert.equal(pod.metadata?.labels?.['claudecode.io/user-hash'], 'b'.repeat(63));
    assert.equal(pod.metadata?.labels?.['claudecode.io/session-id'], 'abc123', 'other labels kept');
    assert.equal(pod.metadata?.annotations?.['claudecode.io/expires-at'], owner.expiresAt.toISOString());
    assert.equal(pod.spec?.activeDeadlineSeconds, 7_795);
    assert.deepEqual(pod.spec?.containers, warm.spec?.containers);
    const refused = (body: unknown) => (patchPod(structuredClone(warm), 'application/merge-patch+json', JSON.stringify(body)) as { code?: number }).code;
    assert.equal(refused({ spec: { activeDeadlineSeconds: 20_000 } }), 422, 'a longer deadline is refused');
    assert.equal(refused({ spec: { containers: [] } }), 422);
    assert.equal(refused({ metadata: { name: 'other' } }), 422);
  });

  it('wraps the program in the dtach attach script, with or without the entrypoint', () => {
    const argv = execArgv(['claude', '--x'], '/usr/local/bin/sandbox-entrypoint');
    assert.deepEqual(argv.slice(0, 2), ['/bin/sh', '-c']);
    assert.match(argv[2]!, /dtach -A "\$d\/sock" -E -z -r winch/);
    assert.deepEqual(argv.slice(3), ['claudecode-session', '/usr/local/bin/sandbox-entrypoint', 'claude', '--x']);
    assert.deepEqual(execArgv(['claude'], '').slice(3), ['claudecode-session', 'claude']);
  });
});

describe('podVerdict', () => {
  const base = { metadata: { name: 'p' }, spec: { containers: [{ name: 'sandbox' }] } };
  it('names each failure', () => {
    assert.equal((podVerdict({ ...base, status: { phase: 'Failed', reason: 'DeadlineExceeded' } }) as { reason: string }).reason, 'deadline_exceeded');
    assert.equal((podVerdict({ ...base, status: { phase: 'Failed', containerStatuses: [{ name: 'sandbox', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] } }) as { reason: string }).reason, 'oom_killed');
    assert.equal((podVerdict({ ...base, status: { phase: 'Pending', containerStatuses: [{ name: 'sandbox', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError' } } }] } }) as { reason: string }).reason, 'container_crashed');
    assert.deepEqual(podVerdict({ ...base, status: { phase: 'Pending' } }), { kind: 'starting', progress: null });
  });
});
