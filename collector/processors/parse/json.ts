import { applyFieldMapping, isPlainObject, ParserConfigError, resolveFieldMapping, type ExtractedValues, type FieldMappingOptions } from './field-mapping.js';
import type { LineParser, ParseResult } from './types.js';

export interface JsonParserOptions extends FieldMappingOptions {
  /** Nested objects become dotted keys (`http.request.method`); default true. Arrays always stay JSON text. */
  flatten?: boolean;
  /** Levels of nesting turned into dotted keys; deeper objects stay JSON text under their dotted prefix. Default 5. */
  max_depth?: number;
}

export const JSON_DEFAULT_MAX_DEPTH = 5;

/**
 * Parses one JSON object per line (pino, bunyan, zap, logrus, ECS, Docker
 * json-file...). Flattening to dotted keys matches how OpenTelemetry names
 * attributes, and keeps attribute values scalar as `ParsedFields` requires.
 *
 * Known limitation: integers beyond 2^53 (some 64-bit ids) lose precision in
 * JSON.parse; Node 20 has no access to the source text of a number.
 */
export function createJsonParser(options: JsonParserOptions = {}): LineParser {
  const flatten = options.flatten ?? true;
  const maxDepth = options.max_depth ?? JSON_DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new ParserConfigError('max_depth', `max_depth must be a positive integer, got ${JSON.stringify(maxDepth)}`);
  }
  const mapping = resolveFieldMapping(options);

  return {
    name: 'json',
    parse(line: string): ParseResult {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        // JSON.parse messages name the position; the line itself stays with the record, not in the error.
        return { ok: false, error: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
      }
      if (!isPlainObject(parsed)) {
        return { ok: false, error: `not a JSON object (got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed})` };
      }
      const values: ExtractedValues = new Map();
      if (flatten) flattenInto(values, parsed, '', 1, maxDepth);
      else for (const [key, value] of Object.entries(parsed)) values.set(key, value);
      return { ok: true, fields: applyFieldMapping(values, mapping) };
    },
  };
}

/**
 * `{"a":{"b":{"c":1}}}` → `a.b.c = 1`. An object at depth `maxDepth`, an
 * empty object and any array are stored whole (they become JSON text), so
 * nothing is silently dropped and the attribute count stays bounded. When a
 * literal dotted key collides with a flattened path, the later one in the
 * document wins, as with duplicate JSON keys.
 */
function flattenInto(out: ExtractedValues, object: Record<string, unknown>, prefix: string, depth: number, maxDepth: number): void {
  for (const [key, value] of Object.entries(object)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlainObject(value) && depth < maxDepth && Object.keys(value).length > 0) {
      flattenInto(out, value, name, depth + 1, maxDepth);
    } else {
      out.set(name, value);
    }
  }
}
