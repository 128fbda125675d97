// Configuration of the Kubernetes runtime (RUNTIME=kubernetes). Composed into the service config.
import { z } from 'zod';
import { intVar, optionalString } from '../../config/env.ts';

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
};
