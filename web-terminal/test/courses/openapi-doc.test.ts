import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCatalog } from '../../src/http/errors.ts';
import { loadOpenApi } from '../helpers/openapi.ts';

test('the error codes in openapi.yaml are exactly the error catalog', () => {
  const { ajv } = loadOpenApi();
  const schema = ajv.getSchema('openapi.json#/components/schemas/Error')?.schema as {
    properties: { error: { properties: { code: { enum: string[] } } } };
  };
  assert.deepEqual([...schema.properties.error.properties.code.enum].sort(), Object.keys(errorCatalog).sort());
});

test('every documented JSON response schema compiles (no dangling references)', () => {
  const { doc, ajv } = loadOpenApi();
  let compiled = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const status of Object.keys(operation.responses ?? {})) {
        const base = `openapi.json#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}`;
        const response = operation.responses?.[status];
        if (!response?.content?.['application/json']) continue;
        assert.ok(ajv.getSchema(`${base}/content/application~1json/schema`), `${method} ${path} ${status}`);
        compiled += 1;
      }
    }
  }
  assert.ok(compiled > 10);
});
