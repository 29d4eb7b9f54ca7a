import picomatch from 'picomatch';
import { z } from 'zod';
import type { LogRecord } from '../../../shared/record/log-record.js';
import { copyDataKeys, hasDataKey } from '../data-keys.js';
import { parserSchema } from './config.js';
import { createParser } from './create-parser.js';
import type { LineParser, ParsedFields } from './types.js';

/**
 * Which parser handles a record, chosen per source (the agent's source id),
 * file glob, container name or resource attributes. The first rule whose
 * conditions all hold wins; a record no rule matches keeps its raw body.
 */
export const parseRuleSchema = z.strictObject({
  match: z
    .strictObject({
      /** The agent-side source id (`tributary.source.name`). */
      source: z.string().min(1).optional(),
      /** Glob on `log.file.path`. */
      path: z.string().min(1).optional(),
      /** `k8s.container.name`. */
      container: z.string().min(1).optional(),
      /** Exact values of resource attributes, e.g. { service.name: shop }. */
      resource: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
  parser: parserSchema,
});

export type ParseRuleConfig = z.output<typeof parseRuleSchema>;

interface CompiledRule {
  matches(record: LogRecord): boolean;
  parser: LineParser;
}

function compile(rule: ParseRuleConfig): CompiledRule {
  const { source, path, container, resource } = rule.match;
  const pathMatches = path === undefined ? undefined : picomatch(path, { dot: true });
  return {
    parser: createParser(rule.parser),
    matches: (record) =>
      (source === undefined || record.attributes['tributary.source.name'] === source) &&
      (pathMatches === undefined || pathMatches(String(record.attributes['log.file.path'] ?? ''))) &&
      (container === undefined || record.resource['k8s.container.name'] === container) &&
      (resource === undefined || Object.entries(resource).every(([key, value]) => hasDataKey(record.resource, key) && record.resource[key] === value)),
  };
}

export class ParserSelector {
  private readonly rules: CompiledRule[];
  /** Records of one file share everything rules look at, so the choice is cached per file and resource. */
  private readonly cache = new Map<string, LineParser | null>();

  constructor(rules: readonly ParseRuleConfig[]) {
    this.rules = rules.map(compile);
  }

  select(record: LogRecord): LineParser | undefined {
    if (this.rules.length === 0) return undefined;
    const key = `${String(record.attributes['tributary.source.name'])}\u0000${String(record.attributes['log.file.path'])}\u0000${JSON.stringify(record.resource)}`;
    let parser = this.cache.get(key);
    if (parser === undefined) {
      parser = this.rules.find((rule) => rule.matches(record))?.parser ?? null;
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, parser);
    }
    return parser ?? undefined;
  }
}

/**
 * Parses the record's body and merges what was found. A line that does not
 * parse keeps its raw body and gains `tributary.parse_error`; it is never dropped.
 * A time field that does not parse leaves the record's time as it was and sets
 * {@link TIMESTAMP_FALLBACK_ATTRIBUTE}; the pipeline counts such records
 * (discarded-events family, reason `timestamp_fallback`).
 */
export function applyParser(record: LogRecord, parser: LineParser): boolean {
  const result = parser.parse(record.body);
  if (!result.ok) {
    record.attributes['tributary.parse_error'] = `${parser.name}: ${result.error}`;
    return false;
  }
  mergeParsed(record, parser.name, result.fields);
  return true;
}

/**
 * Set when a time string was found but did not parse, so the record kept its
 * observed (or container runtime) time: `<parser>:<field>`, e.g. `json:time`.
 */
export const TIMESTAMP_FALLBACK_ATTRIBUTE = 'tributary.timestamp_fallback';

function mergeParsed(record: LogRecord, parserName: string, fields: ParsedFields): void {
  if (fields.timestampFallback !== undefined) record.attributes[TIMESTAMP_FALLBACK_ATTRIBUTE] = `${parserName}:${fields.timestampFallback}`;
  if (fields.timestamp !== undefined) record.timestamp = fields.timestamp;
  if (fields.severityNumber !== undefined) record.severity_number = fields.severityNumber;
  if (fields.severityText !== undefined) record.severity_text = fields.severityText;
  if (fields.body !== undefined) record.body = fields.body;
  if (fields.traceId !== undefined) record.trace_id = fields.traceId;
  if (fields.spanId !== undefined) record.span_id = fields.spanId;
  // Not Object.assign: a `__proto__` key would call the setter and swap the record's prototype.
  copyDataKeys(record.attributes, fields.attributes);
  if (fields.resource) copyDataKeys(record.resource, fields.resource);
}
