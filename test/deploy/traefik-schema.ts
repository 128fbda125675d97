// HAND-WRITTEN, PARTIAL schema for the Traefik custom resources these manifests use.
// The Kubernetes OpenAPI schema (schema-validate.ts) knows only built-in kinds and refuses custom
// resources by design: nothing would check them. This module covers exactly the fields we use of
// Traefik's traefik.io/v1alpha1 Middleware (the forwardAuth and errors middlewares), strictly:
// an unknown or misspelled field, a wrong type or another middleware type is reported, so that a
// typo cannot pass silently and be ignored by Traefik. It is not Traefik's CRD schema; when a
// manifest needs another field, add it here after checking Traefik's reference documentation
// (doc.traefik.io/traefik/reference/routing-configuration/http/middlewares/).
import { z } from 'zod';
import type { KubeObject } from './render.ts';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const labelMap = z.record(z.string(), z.string());

const metadata = z.strictObject({
  name: dnsLabel, // Traefik references it as <namespace>-<name>@kubernetescrd
  namespace: dnsLabel,
  labels: labelMap.optional(),
  annotations: labelMap.optional(),
});

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/);

/** forwardAuth: the fields of Traefik's ForwardAuth we set. */
const forwardAuth = z.strictObject({
  address: z.url({ protocol: /^https?$/ }),
  trustForwardHeader: z.boolean().optional(),
  authResponseHeaders: z.array(headerName).min(1).optional(),
  authRequestHeaders: z.array(headerName).optional(),
});

/** errors: status codes or ranges ("401", "500-599"), the service and the page to fetch. */
const errors = z.strictObject({
  status: z.array(z.string().regex(/^\d{3}(-\d{3})?$/)).min(1),
  service: z.strictObject({ name: dnsLabel, port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]), namespace: dnsLabel.optional() }),
  query: z.string().startsWith('/').optional(),
});

/** Exactly one middleware type per Middleware object, as Traefik requires. */
const middlewareSpec = z.strictObject({ forwardAuth: forwardAuth.optional(), errors: errors.optional() })
  .refine((spec) => Object.keys(spec).length === 1, { message: 'exactly one middleware type (forwardAuth or errors)' });

const middleware = z.strictObject({
  apiVersion: z.literal('traefik.io/v1alpha1'),
  kind: z.literal('Middleware'),
  metadata,
  spec: middlewareSpec,
});

/** The custom resources this module can check, by `apiVersion kind`. */
const schemas: Record<string, z.ZodType> = { 'traefik.io/v1alpha1 Middleware': middleware };

/** True when `obj` is a custom resource this module has a (hand-written) schema for. */
export function hasTraefikSchema(obj: KubeObject): boolean {
  return `${obj.apiVersion} ${obj.kind}` in schemas;
}

/** Problems with one Traefik object against the hand-written schema; [] when valid. */
export function validateTraefikObject(obj: KubeObject): string[] {
  const where = `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? '?'}`;
  const schema = schemas[`${obj.apiVersion} ${obj.kind}`];
  if (!schema) return [`${where}: no hand-written schema for ${obj.apiVersion} ${obj.kind}`];
  const result = schema.safeParse(obj);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${where}: /${issue.path.join('/')} ${issue.message} (hand-written Traefik schema)`);
}
