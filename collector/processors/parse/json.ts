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
 * Deepest nesting of arrays and objects a line may have. V8's JSON.parse recurses: a hostile line of 100,000
 * `[` costs it about 30 ms on a stack overflow path (against 0.3 ms for a tenth of it), so one such line per
 * frame would be a cheap way to slow a collector. No log line needs this depth.
 */
export const JSON_MAX_NESTING = 512;

/** Nesting depth of `line`'s arrays and objects outside strings, stopping once it passes `limit`. */
function nestingExceeds(line: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < line.length; index++) {
    const code = line.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return false;
}

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
      // A line shorter than the limit cannot nest past it: most lines skip the scan.
      if (line.length > JSON_MAX_NESTING && nestingExceeds(line, JSON_MAX_NESTING)) {
        return { ok: false, error: `not parsed: JSON nested deeper than ${JSON_MAX_NESTING} levels` };
      }
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
