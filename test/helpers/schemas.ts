import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { packageRoot } from '../../shared/paths.js';

/** Validates against the published JSON Schemas in shared/record/schemas, as a consumer in any language would. */
function compile(name: string) {
  // ajv and ajv-formats are CommonJS; their default exports are the constructor and plugin.
  // Strict, but union types ("string or number or boolean" attribute values) are part of the schema by design, and
  // strictRequired (off in ajv's defaults) rejects `required` in if/then branches naming properties defined at the top.
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
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

const metricRecordValidator = compile('tributary.metric.v1');

/**
 * Returns undefined when valid, else what is wrong: ajv's errors naming the
 * failing paths, or the histogram invariants JSON Schema cannot express
 * (bucket_counts has explicit_bounds.length + 1 entries summing to count,
 * bounds strictly ascending).
 */
export function metricRecordErrors(record: unknown): string | undefined {
  if (!metricRecordValidator(record)) return JSON.stringify(metricRecordValidator.errors);
  const histogram = (record as { histogram?: { count: number; explicit_bounds: number[]; bucket_counts: number[] } }).histogram;
  if (histogram === undefined) return undefined;
  const { count, explicit_bounds: bounds, bucket_counts: counts } = histogram;
  if (counts.length !== bounds.length + 1) return `histogram has ${bounds.length} bounds but ${counts.length} bucket counts (expected ${bounds.length + 1})`;
  const total = counts.reduce((sum, value) => sum + value, 0);
  if (total !== count) return `histogram bucket counts sum to ${total}, not count ${count}`;
  if (bounds.some((bound, index) => index > 0 && bound <= (bounds[index - 1] as number))) return `histogram bounds do not ascend: ${JSON.stringify(bounds)}`;
  return undefined;
}

const alertRecordValidator = compile('tributary.alert.v1');

/** Returns undefined when valid, else ajv's error text naming the failing paths. */
export function alertRecordErrors(record: unknown): string | undefined {
  if (alertRecordValidator(record)) return undefined;
  return JSON.stringify(alertRecordValidator.errors);
}
