import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { packageRoot } from '../../shared/paths.js';

/** Validates against the published JSON Schemas in shared/record/schemas, as a consumer in any language would. */
function compile(name: string) {
  // ajv and ajv-formats are CommonJS; their default exports are the constructor and plugin.
  // Strict, but union types ("string or number or boolean" attribute values) are part of the schema by design.
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'shared', 'record', 'schemas', `${name}.json`), 'utf8')) as object;
  return ajv.compile(schema);
}

const logRecordValidator = compile('tributary.log.v1');

/** Returns undefined when valid, else ajv's error text naming the failing paths. */
export function logRecordErrors(record: unknown): string | undefined {
  if (logRecordValidator(record)) return undefined;
  return JSON.stringify(logRecordValidator.errors);
}
