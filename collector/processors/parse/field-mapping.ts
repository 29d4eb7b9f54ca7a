import { TributaryError } from '../../../shared/errors.js';
import { dataObject } from '../../../shared/record/key-path.js';
import { setDataKey } from '../data-keys.js';
import { normalizeSeverity } from './severity.js';
import { parseTimestamp, type TimestampOptions } from './timestamp.js';
import type { ParsedFields } from './types.js';

/**
 * Shared by the structured parsers (json, logfmt, regex): which extracted key
 * becomes the record's timestamp, severity, body and trace context, and how
 * the rest become attributes. One implementation so that `level=warn` in
 * logfmt, `{"level":"warn"}` in JSON and `(?<level>\w+)` in a regex behave the
 * same way.
 */

/** The config options every structured parser accepts (lower_snake_case, as in the YAML). */
export interface FieldMappingOptions {
  /** Key holding the event time; replaces the default candidates. */
  timestamp_field?: string;
  /** Format for `parseTimestamp` (Joda-like pattern or a named format); default: auto-detect. */
  timestamp_format?: string;
  /** Zone for timestamps without an offset; default UTC. */
  timezone?: string;
  /** Key holding the level; replaces the default candidates. */
  severity_field?: string;
  /** Key holding the message; replaces the default candidates. */
  message_field?: string;
}

/**
 * Default candidates, tried in order; the first one whose value can be used
 * wins. These cover the common app-log conventions: pino/bunyan (`time`,
 * `level`, `msg`), logrus/zap (`ts`, `level`, `msg`), Python logging
 * (`levelname`), ECS (`@timestamp`, `log.level`, `message`, `trace.id`),
 * Docker's json-file driver (`log`, `time`) and OpenTelemetry-ish SDKs
 * (`trace_id`, `traceId`).
 */
export const DEFAULT_TIMESTAMP_FIELDS: readonly string[] = ['timestamp', 'time', 'ts', '@timestamp', 'date'];
export const DEFAULT_SEVERITY_FIELDS: readonly string[] = ['level', 'severity', 'lvl', 'log.level', 'levelname'];
export const DEFAULT_MESSAGE_FIELDS: readonly string[] = ['message', 'msg', 'log'];
export const TRACE_ID_FIELDS: readonly string[] = ['trace_id', 'traceId', 'trace.id'];
export const SPAN_ID_FIELDS: readonly string[] = ['span_id', 'spanId', 'span.id'];

/** A mapping resolved once in the factory, so the per-line path does no option handling. */
export interface FieldMapping {
  readonly timestampFields: readonly string[];
  readonly severityFields: readonly string[];
  readonly messageFields: readonly string[];
  readonly timestampOptions: TimestampOptions;
}

export function resolveFieldMapping(options: FieldMappingOptions): FieldMapping {
  const timestampOptions: TimestampOptions = {};
  if (options.timestamp_format !== undefined) timestampOptions.format = options.timestamp_format;
  if (options.timezone !== undefined) timestampOptions.timezone = options.timezone;
  return {
    timestampFields: options.timestamp_field === undefined ? DEFAULT_TIMESTAMP_FIELDS : [options.timestamp_field],
    severityFields: options.severity_field === undefined ? DEFAULT_SEVERITY_FIELDS : [options.severity_field],
    messageFields: options.message_field === undefined ? DEFAULT_MESSAGE_FIELDS : [options.message_field],
    timestampOptions,
  };
}

/**
 * A bad parser option, thrown only by factories (never by `parse`). `key` is
 * the option's name relative to the parser's config block, so the config
 * schema can report the error on that key path (`...parser.pattern`).
 */
export class ParserConfigError extends TributaryError {
  readonly key: string;

  constructor(key: string, message: string) {
    super('CONFIG_INVALID', message, { context: { key } });
    this.name = 'ParserConfigError';
    this.key = key;
  }
}

/**
 * The values a parser extracted, keyed by (possibly dotted) name. Values are
 * leaves (string/number/boolean/null) or, for JSON with `flatten: false` and
 * beyond `max_depth`, objects/arrays. A Map, not an object, so keys such as
 * `__proto__` or `constructor` from untrusted input are just keys.
 */
export type ExtractedValues = Map<string, unknown>;

/**
 * Moves the mapped fields out of `values` into `ParsedFields` and turns what
 * remains into attributes. A candidate whose value cannot be used (a timestamp
 * that does not parse, an unknown level, a malformed trace id) stays an
 * attribute, so no data is lost and the next candidate gets its chance.
 * `values` is consumed (mutated); callers pass a fresh map per line.
 */
export function applyFieldMapping(values: ExtractedValues, mapping: FieldMapping): ParsedFields {
  const fields: ParsedFields = { attributes: dataObject() };

  const timestamp = takeFirst(values, mapping.timestampFields, (value) => {
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    // Strings go through as written: parseTimestamp recognises epoch digits
    // itself and keeps all 19 digits of a nanosecond epoch, which a JS number would not.
    return parseTimestamp(value, mapping.timestampOptions);
  });
  if (timestamp !== undefined) fields.timestamp = timestamp;
  else {
    // A time that is there but does not parse must not pass silently as the observed time.
    const unparsed = mapping.timestampFields.find((name) => {
      const value = lookup(values, name)?.value;
      return typeof value === 'string' || typeof value === 'number';
    });
    if (unparsed !== undefined) fields.timestampFallback = unparsed;
  }

  const severity = takeFirst(values, mapping.severityFields, (value) => {
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    const normalized = normalizeSeverity(value);
    // The OpenTelemetry data model: SeverityText is the level as the source wrote it; only the number is normalized.
    return normalized === undefined ? undefined : { number: normalized.number, text: String(value) };
  });
  if (severity !== undefined) {
    fields.severityText = severity.text;
    fields.severityNumber = severity.number;
  }

  const body = takeFirst(values, mapping.messageFields, (value) => {
    if (typeof value === 'string') return stripTrailingNewline(value);
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined; // an object under `log`/`message` is structure, not a message: keep it as attributes
  });
  if (body !== undefined) fields.body = body;

  const traceId = takeFirst(values, TRACE_ID_FIELDS, (value) => hexId(value, 32));
  if (traceId !== undefined) fields.traceId = traceId;
  const spanId = takeFirst(values, SPAN_ID_FIELDS, (value) => hexId(value, 16));
  if (spanId !== undefined) fields.spanId = spanId;

  for (const [key, value] of values) {
    const attribute = toAttributeValue(value);
    if (attribute !== undefined) setAttribute(fields.attributes, key, attribute);
  }
  return fields;
}

/** string/number/boolean as they are; null/undefined dropped; anything else as JSON text. */
export function toAttributeValue(value: unknown): string | number | boolean | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  try {
    // JSON.stringify returns undefined for functions and symbols; those are dropped like null.
    return JSON.stringify(value);
  } catch {
    // Only reachable for cyclic values, which JSON.parse never produces; keep the parser total anyway.
    return '[unserializable]';
  }
}

/**
 * Keys come from the line (`{"x.__proto__.time":…}`, logfmt
 * `constructor.prototype.x=1`): stored as own keys with every unsafe segment
 * renamed (see data-keys.ts), so no consumer can walk them into a prototype.
 */
export function setAttribute(target: Record<string, string | number | boolean>, key: string, value: string | number | boolean): void {
  setDataKey(target, key, value);
}

function takeFirst<T>(values: ExtractedValues, candidates: readonly string[], convert: (value: unknown) => T | undefined): T | undefined {
  for (const name of candidates) {
    const found = lookup(values, name);
    if (found === undefined) continue;
    const converted = convert(found.value);
    if (converted !== undefined) {
      found.remove();
      return converted;
    }
  }
  return undefined;
}

interface Found {
  value: unknown;
  remove(): void;
}

/**
 * A dotted name is looked up as a literal key first (flattened JSON, logfmt
 * `trace.id=…`, regex captures), then as a path into nested objects (JSON
 * with `flatten: false`, e.g. ECS `{"log":{"level":"warn"}}`). Removing a
 * nested leaf prunes parents it leaves empty, so no `"log":"{}"` attribute
 * remains.
 */
function lookup(values: ExtractedValues, name: string): Found | undefined {
  if (values.has(name)) {
    const value = values.get(name);
    if (value === null || value === undefined) return undefined;
    return { value, remove: () => values.delete(name) };
  }
  const segments = name.split('.');
  const top = segments[0];
  if (segments.length < 2 || top === undefined) return undefined;
  const chain: Record<string, unknown>[] = [];
  let current: unknown = values.get(top);
  for (const segment of segments.slice(1)) {
    if (!isPlainObject(current) || !Object.hasOwn(current, segment)) return undefined;
    chain.push(current);
    current = current[segment];
  }
  if (current === null || current === undefined) return undefined;
  return {
    value: current,
    remove: () => {
      for (let i = chain.length - 1; i >= 0; i--) {
        const parent = chain[i];
        const key = segments[i + 1];
        if (parent === undefined || key === undefined) return;
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removing one parsed key from our own copy of the line
        delete parent[key];
        if (Object.keys(parent).length > 0) return;
      }
      values.delete(top);
    },
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** W3C Trace Context: fixed-length lowercase hex, not all zeros (the "invalid" id). */
function hexId(value: unknown, length: number): string | undefined {
  if (typeof value !== 'string' || value.length !== length || !/^[0-9a-fA-F]+$/.test(value)) return undefined;
  const lower = value.toLowerCase();
  return /^0+$/.test(lower) ? undefined : lower;
}

/** Docker's json-file driver stores each line with its newline; the body should not end in one. */
function stripTrailingNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}
