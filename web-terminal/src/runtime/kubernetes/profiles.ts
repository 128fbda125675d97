// Named resource profiles a session may ask for: `default` always, `gpu` when the operator allows it.
import type { KubernetesConfig, Toleration } from './config.ts';

export interface SandboxProfile {
  requests: Record<string, string>;
  limits: Record<string, string>;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  runtimeClassName: string | undefined;
}

export const PROFILE_NAMES = ['default', 'gpu'] as const;

/** Profiles the operator allows, always including `default`. */
export function allowedProfiles(config: KubernetesConfig): string[] {
  return ['default', ...config.SANDBOX_PROFILES_ALLOWED.filter((p) => p !== 'default')];
}

/** The pod settings of `name`; throws for a profile the operator did not allow. */
export function resolveProfile(name: string, config: KubernetesConfig): SandboxProfile {
  if (!allowedProfiles(config).includes(name)) throw new Error(`profile "${name}" is not allowed`);
  const base: SandboxProfile = {
    requests: { cpu: config.SANDBOX_CPU_REQUEST, memory: config.SANDBOX_MEMORY_REQUEST },
    limits: { cpu: config.SANDBOX_CPU_LIMIT, memory: config.SANDBOX_MEMORY_LIMIT },
    nodeSelector: { ...config.SANDBOX_NODE_SELECTOR },
    tolerations: config.SANDBOX_TOLERATIONS.map((t) => ({ ...t })),
    runtimeClassName: config.SANDBOX_RUNTIME_CLASS,
  };
  if (name === 'default') return base;
  // gpu: extended resources are requested through limits (requests default to them and must not differ).
  const gpus = String(config.SANDBOX_GPU_COUNT);
  return {
    requests: { ...base.requests, 'nvidia.com/gpu': gpus },
    limits: { ...base.limits, 'nvidia.com/gpu': gpus },
    nodeSelector: { ...base.nodeSelector, ...config.SANDBOX_GPU_NODE_SELECTOR },
    tolerations: [...base.tolerations, ...config.SANDBOX_GPU_TOLERATIONS.map((t) => ({ ...t }))],
    runtimeClassName: config.SANDBOX_GPU_RUNTIME_CLASS ?? base.runtimeClassName,
  };
}
