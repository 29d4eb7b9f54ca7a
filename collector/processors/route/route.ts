import type { NormalizedRecord } from '../../../shared/pipeline/record-sink.js';
import { hasDataKey } from '../data-keys.js';
import { minimumSeverityNumber, type RecordKind, type RouteConfig, type RouteRuleConfig } from './config.js';

const SCHEMA_OF_KIND: Record<RecordKind, NormalizedRecord['schema']> = { logs: 'tributary.log.v1', metrics: 'tributary.metric.v1' };

interface CompiledRoute {
  matches(record: NormalizedRecord): boolean;
  outputs: readonly string[];
  continue: boolean;
}

function compile(rule: RouteRuleConfig): CompiledRoute {
  const { record: kind, severity_at_least: level, attributes, resource, body_regex: bodyRegex } = rule.match;
  const schema = kind === undefined ? undefined : SCHEMA_OF_KIND[kind];
  const minimum = level === undefined ? undefined : minimumSeverityNumber(level);
  const attributeEntries = attributes === undefined ? undefined : Object.entries(attributes);
  const resourceEntries = resource === undefined ? undefined : Object.entries(resource);
  // Not global: `test` on a global regex would carry lastIndex from one record to the next.
  const body = bodyRegex === undefined ? undefined : new RegExp(bodyRegex);
  return {
    outputs: rule.outputs,
    continue: rule.continue,
    // Severity and body exist only on log records: a condition on them is false for a metric record.
    matches: (record) =>
      (schema === undefined || record.schema === schema) &&
      (minimum === undefined || (record.schema === 'tributary.log.v1' && record.severity_number >= minimum)) &&
      (attributeEntries === undefined || attributeEntries.every(([key, value]) => hasDataKey(record.attributes, key) && record.attributes[key] === value)) &&
      (resourceEntries === undefined || resourceEntries.every(([key, value]) => hasDataKey(record.resource, key) && record.resource[key] === value)) &&
      (body === undefined || (record.schema === 'tributary.log.v1' && body.test(record.body))),
  };
}

/**
 * Chooses each record's outputs from the `routes` rules, compiled once. Without
 * rules every record goes to `default_outputs` (all outputs unless set).
 */
export class Router {
  private readonly routes: CompiledRoute[];
  /** Outputs of records no rule matches. */
  readonly defaults: readonly string[];

  constructor(config: RouteConfig, allOutputs: readonly string[]) {
    this.routes = config.routes.map(compile);
    this.defaults = config.default_outputs ?? allOutputs;
  }

  /** True when every record goes to the same outputs, so callers can skip per-record routing. */
  get trivial(): boolean {
    return this.routes.length === 0;
  }

  /** The output ids a record goes to, without duplicates, in first-mention order. */
  route(record: NormalizedRecord): readonly string[] {
    let selected: string[] | undefined;
    for (const route of this.routes) {
      if (!route.matches(record)) continue;
      if (selected === undefined) selected = [...route.outputs];
      else for (const id of route.outputs) if (!selected.includes(id)) selected.push(id);
      if (!route.continue) break;
    }
    return selected ?? this.defaults;
  }
}
