// Validates real API responses against docs/openapi.yaml, so the documentation cannot drift from the code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const OPENAPI_PATH = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));
const DOC_ID = 'openapi.json';

type OpenApiDoc = {
  paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }> }>>;
  components?: { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
};

let cached: { doc: OpenApiDoc; ajv: Ajv2020 } | undefined;
const validators = new Map<string, ValidateFunction>();

export function loadOpenApi(): { doc: OpenApiDoc; ajv: Ajv2020 } {
  if (cached) return cached;
  const doc = parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDoc;
  // strict: false because the document carries OpenAPI keywords (paths, info, ...) next to the schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema(doc as object, DOC_ID);
  cached = { doc, ajv };
  return cached;
}

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Asserts that `body` is what docs/openapi.yaml promises for `method pathTemplate -> status`.
 * pathTemplate uses the document's form, e.g. '/api/progress/{courseId}'. A 204 must have no body.
 */
export function assertMatchesOpenApi(method: string, pathTemplate: string, status: number, body: unknown): void {
  const { doc, ajv } = loadOpenApi();
  const lower = method.toLowerCase();
  const operation = doc.paths[pathTemplate]?.[lower];
  assert.ok(operation, `openapi.yaml has no operation ${method.toUpperCase()} ${pathTemplate}`);
  let response = operation.responses?.[String(status)];
  assert.ok(response, `openapi.yaml documents no ${status} response for ${method.toUpperCase()} ${pathTemplate}`);
  let schemaPath = `#/${pointer('paths', pathTemplate, lower, 'responses', String(status))}`;
  if (response.$ref) {
    schemaPath = response.$ref;
    const name = response.$ref.split('/').pop() ?? '';
    response = doc.components?.responses?.[name];
    assert.ok(response, `dangling reference ${schemaPath}`);
  }
  if (!response.content) {
    assert.ok(body === undefined || body === '' || (typeof body === 'object' && body !== null && Object.keys(body).length === 0), `${status} documents no body, got ${JSON.stringify(body)}`);
    return;
  }
  const json = response.content['application/json'];
  assert.ok(json?.schema, `${method.toUpperCase()} ${pathTemplate} ${status} has no application/json schema`);
  const ref = `${DOC_ID}${schemaPath}/${pointer('content', 'application/json', 'schema')}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.getSchema(ref);
    assert.ok(validate, `cannot compile ${ref}`);
    validators.set(ref, validate);
  }
  if (!validate(body)) {
    assert.fail(`${method.toUpperCase()} ${pathTemplate} ${status} does not match openapi.yaml: ${ajv.errorsText(validate.errors)}\nbody: ${JSON.stringify(body)}`);
  }
}

/** Validates a value against a named component schema (e.g. a WebSocket event message). */
export function assertMatchesSchema(componentName: string, value: unknown): void {
  const { ajv } = loadOpenApi();
  const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/${componentName}`);
  assert.ok(validate, `openapi.yaml has no schema ${componentName}`);
  if (!validate(value)) assert.fail(`value does not match ${componentName}: ${ajv.errorsText(validate.errors)}\nvalue: ${JSON.stringify(value)}`);
}
