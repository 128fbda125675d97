// Validates rendered objects against the official Kubernetes OpenAPI schema, offline.
// Custom resources are not in that schema and are refused, except the Traefik kinds that
// traefik-schema.ts checks against a hand-written, partial schema (labelled as such in every
// problem it reports).
// Two sources, both generated from the upstream OpenAPI document and shipped on npm:
// - kubernetes-models: the schema compiled to Ajv validators (types, enums, required fields,
//   formats); it does not reject unknown fields, the OpenAPI document does not say to;
// - @kubernetes/client-node: the field list of every model, used here to reject unknown
//   fields the way `kubectl apply --validate=strict` does (a typo such as `securityContex`
//   would otherwise pass silently and be dropped by the API server).
import * as client from '@kubernetes/client-node';
import type { KubeObject } from './render.ts';
import { hasTraefikSchema, validateTraefikObject } from './traefik-schema.ts';

interface AttributeType { baseName: string; type: string }
type ModelClass = { getAttributeTypeMap(): AttributeType[] };

const models = client as unknown as Record<string, ModelClass | undefined>;
const scalarTypes = new Set(['string', 'number', 'boolean', 'Date', 'IntOrString', 'any', 'object']);

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Model class name in client-node, e.g. apps/v1 Deployment -> V1Deployment. */
function modelName(obj: KubeObject): string {
  const { version } = splitApiVersion(obj.apiVersion);
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
}

/** Paths of fields that the model of `type` does not declare. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined || scalarTypes.has(type)) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}/${i}`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}/${k}`)) : [];
  }
  const model = models[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function') throw new Error(`no model for type ${type} at ${path}`);
  if (typeof value !== 'object' || Array.isArray(value)) return []; // a type error; the schema check reports it
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, v]) => {
    const fieldType = attributes.get(key);
    return fieldType === undefined ? [`${path}/${key}: unknown field`] : unknownFields(v, fieldType, `${path}/${key}`);
  });
}

interface ValidatingModel { new (data: unknown): { validate(): void } }
interface AjvError { instancePath?: string; message?: string; params?: unknown }

/** Problems with one object: schema violations and unknown fields; [] when valid. */
export async function validateObject(obj: KubeObject): Promise<string[]> {
  if (hasTraefikSchema(obj)) return validateTraefikObject(obj);
  const where = `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? '?'}`;
  let Model: ValidatingModel | undefined;
  try {
    const mod = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)) as Record<string, ValidatingModel>;
    Model = mod[obj.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`${where}: ${obj.apiVersion} ${obj.kind} is not in the Kubernetes API schema`];

  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (error) {
    const details = (error as { errors?: AjvError[] }).errors;
    if (!details) throw error;
    for (const e of details) problems.push(`${where}: ${e.instancePath || '/'} ${e.message ?? 'invalid'} ${JSON.stringify(e.params ?? {})}`);
  }
  const name = modelName(obj);
  if (!models[name]) return [...problems, `${where}: no field list for ${name}`];
  problems.push(...unknownFields(obj, name, '').map((p) => `${where}: ${p}`));
  return problems;
}
