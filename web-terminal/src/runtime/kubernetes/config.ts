// Configuration of the Kubernetes runtime (RUNTIME=kubernetes). Composed into the service config.
import { z } from 'zod';
import { intVar, listVar, optionalString } from '../../config/env.ts';

/** A Kubernetes resource quantity such as `500m`, `2Gi` or `1`. */
const quantity = (def: string) =>
  z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, 'must be a Kubernetes quantity such as 500m or 2Gi').default(def);

const toleration = z.strictObject({
  key: z.string().max(253).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});
export type Toleration = z.infer<typeof toleration>;

/** An environment variable holding JSON, validated against `schema`. */
const jsonVar = <T extends z.ZodType>(def: string, schema: T) =>
  z
    .string()
    .default(def)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const nodeSelector = z.record(z.string().max(253), z.string().max(63));
const runtimeClass = optionalString().pipe(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a RuntimeClass name').optional());

export const kubernetesConfigShape = {
  K8S_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name').default('claudecode-sandboxes')
    .describe('Namespace where session pods are created.'),
  SANDBOX_IMAGE: z.string().min(1).default('claudecode/sandbox:0.1.0').describe('Image of the session pods.'),
  SANDBOX_IMAGE_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent')
    .describe('imagePullPolicy of session pods (k3s with imported images: IfNotPresent or Never).'),
  SANDBOX_PROXY_URL: z.url().default('http://api-proxy.claudecode-system.svc.cluster.local:8080')
    .describe('ANTHROPIC_BASE_URL given to session pods: the api-proxy Service.'),
  START_TIMEOUT_SECONDS: intVar(120, 5, 3600).describe('How long a session pod may take to become ready.'),
  KUBECONFIG: optionalString().describe('Kubeconfig for development; in-cluster service account when unset.'),
  SANDBOX_ENTRYPOINT: z.string().default('/usr/local/bin/sandbox-entrypoint')
    .describe('Program in the sandbox image that prepares the session (writes the CLI seed) and then runs its arguments. Empty runs the session program directly.'),
  SANDBOX_CPU_REQUEST: quantity('250m').describe('CPU request of a session pod.'),
  SANDBOX_CPU_LIMIT: quantity('1').describe('CPU limit of a session pod.'),
  SANDBOX_MEMORY_REQUEST: quantity('512Mi').describe('Memory request of a session pod.'),
  SANDBOX_MEMORY_LIMIT: quantity('2Gi').describe('Memory limit of a session pod (going over it ends the session as oom_killed).'),
  SANDBOX_HOME_SIZE: quantity('512Mi').describe('Size limit of the session\'s home directory (an emptyDir).'),
  SANDBOX_TMP_SIZE: quantity('256Mi').describe('Size limit of the session\'s /tmp (an emptyDir).'),
  SANDBOX_NODE_SELECTOR: jsonVar('{}', nodeSelector)
    .describe('JSON object: nodeSelector of session pods, e.g. `{"claudecode.io/sandbox":"true"}`.'),
  SANDBOX_TOLERATIONS: jsonVar('[]', z.array(toleration).max(32))
    .describe('JSON array: tolerations of session pods, e.g. `[{"key":"sandbox","operator":"Exists","effect":"NoSchedule"}]`.'),
  SANDBOX_RUNTIME_CLASS: runtimeClass.describe('runtimeClassName of session pods (e.g. gvisor, kata); unset uses the node default.'),
  SANDBOX_PROFILES_ALLOWED: listVar().pipe(z.array(z.enum(['default', 'gpu'])))
    .describe('Comma-separated profiles a session may ask for besides `default` (the only other built-in one is `gpu`).'),
  SANDBOX_GPU_COUNT: intVar(1, 1, 16).describe('`gpu` profile: nvidia.com/gpu devices per session.'),
  SANDBOX_GPU_RUNTIME_CLASS: runtimeClass.default('nvidia')
    .describe('`gpu` profile: runtimeClassName (k3s registers `nvidia` when the NVIDIA container toolkit is installed).'),
  SANDBOX_GPU_NODE_SELECTOR: jsonVar('{}', nodeSelector).describe('`gpu` profile: JSON object, nodeSelector added to SANDBOX_NODE_SELECTOR.'),
  SANDBOX_GPU_TOLERATIONS: jsonVar('[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]', z.array(toleration).max(32))
    .describe('`gpu` profile: JSON array of tolerations added to SANDBOX_TOLERATIONS.'),
  SANDBOX_COURSES_PATH: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path').default('/courses')
    .describe('Where course content lives inside session pods (one folder per course id); the session starts in `<path>/<courseId>`.'),
  SANDBOX_COURSES_PVC: optionalString()
    .describe('PersistentVolumeClaim holding the courses, mounted read-only at SANDBOX_COURSES_PATH. Unset: the sandbox image bakes the courses in.'),
  K8S_SCOPE: z.string().max(39).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and inner dashes').default('default')
    .describe('Which session pods this instance manages: those labelled `claudecode.io/scope=<scope>` (pods without the label are `default`). Each scope has one active instance; a laptop uses its own, e.g. `dev-alice`.'),
  K8S_LEASE_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name').default('claudecode-system')
    .describe('Namespace of the Lease `claudecode-web-terminal-<scope>` that makes one instance per scope the active one.'),
  K8S_LEASE_DURATION_SECONDS: intVar(15, 2, 300).describe('How long a Lease holder that stopped renewing keeps it before a standby instance takes over.'),
  K8S_LEASE_RENEW_SECONDS: intVar(5, 1, 100).describe('How often the active instance renews its Lease (and a standby one tries to acquire it); below K8S_LEASE_DURATION_SECONDS.'),
  K8S_RECONCILE_SECONDS: intVar(60, 1, 3600).describe('How often the active instance deletes session pods of its scope that no live session owns.'),
  K8S_API_TIMEOUT_SECONDS: intVar(15, 1, 300).describe('Timeout of one Kubernetes API call (create, delete, list).'),
  SANDBOX_DELETE_GRACE_SECONDS: intVar(2, 0, 300).describe('Grace period given to a session pod when its session ends.'),
};

const kubernetesConfigSchema = z.object(kubernetesConfigShape);
export type KubernetesConfig = Readonly<z.infer<typeof kubernetesConfigSchema>>;

/** Parses just the Kubernetes part of the environment (tests and the benchmark; the service uses its full config). */
export function loadKubernetesConfig(env: Record<string, string | undefined> = {}): KubernetesConfig {
  const picked = Object.fromEntries(Object.keys(kubernetesConfigShape).map((k) => [k, env[k]]));
  return Object.freeze(kubernetesConfigSchema.parse(picked));
}
