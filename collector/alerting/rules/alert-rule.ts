import type { NormalizedRecord } from '../../../shared/pipeline/record-sink.js';
import { minimumSeverityNumber } from '../../processors/route/config.js';
import { parseCondition, type Aggregate, type AlertRuleConfig, type Comparison, type RuleGroupConfig, type RulesFile } from './config.js';
import { matches, parseMatcher, parseSelector, type LabelLookup, type LabelMatcher } from './selector.js';
import { compileTemplate, type CompiledTemplate } from './template.js';

/** What one record contributes to a rule: which alert (group key), when, and its value. */
export interface RuleSample {
  /** The group key: group_by values joined; equal keys are one alert. */
  readonly key: string;
  /** The group's labels (names sanitized for Alertmanager: `host.name` → `host_name`). */
  readonly labels: Readonly<Record<string, string>>;
  /** Event time, ms since the epoch. */
  readonly timeMs: number;
  /** Undefined for rules that count records. */
  readonly value?: number;
  /** Rate rules over counters: the series, so resets are detected per series. */
  readonly series?: string;
}

/** Alertmanager (0.25, Debian's) accepts only legacy label names. */
export function sanitizeLabelName(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

export function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

function lookupOf(record: NormalizedRecord): LabelLookup {
  return (name) => {
    const attribute = record.attributes[name];
    if (attribute !== undefined) return String(attribute);
    return record.resource[name];
  };
}

/** A rule from a rules file, compiled: matching, grouping and the parameters the evaluator needs. */
export class AlertRule {
  /** `group/alert`: unique in a rule set, the key of its state. */
  readonly id: string;
  readonly name: string;
  readonly groupName: string;
  readonly signal: 'metrics' | 'logs';
  readonly kind: 'threshold' | 'absent';
  readonly aggregate: Aggregate;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly tumbling: boolean;
  readonly condition?: { op: Comparison; threshold: number };
  readonly forMs: number;
  readonly keepFiringForMs: number;
  /** alertname, severity and the rule's labels; group labels are added per alert. */
  readonly staticLabels: Readonly<Record<string, string>>;
  readonly annotations: ReadonlyArray<readonly [string, CompiledTemplate]>;
  /** Metric rules only: the metric name, to index rules by name. */
  readonly metricName?: string;
  private readonly matchers: readonly LabelMatcher[];
  private readonly minimumSeverity: number;
  private readonly bodyContains?: string;
  private readonly bodyRegex?: RegExp;
  private readonly valueFrom?: string;
  private readonly groupBy?: readonly string[];

  constructor(config: AlertRuleConfig, group: RuleGroupConfig) {
    this.name = config.alert;
    this.groupName = group.name;
    this.id = `${group.name}/${config.alert}`;
    this.signal = config.metric !== undefined ? 'metrics' : 'logs';
    this.kind = config.absent ? 'absent' : 'threshold';
    this.aggregate = config.aggregate ?? (this.signal === 'metrics' ? 'last' : config.value_from !== undefined ? 'sum' : 'count');
    this.intervalMs = group.interval;
    this.windowMs = config.window ?? group.interval;
    this.tumbling = config.window_type === 'tumbling';
    if (config.condition !== undefined) this.condition = parseCondition(config.condition);
    this.forMs = config.for;
    this.keepFiringForMs = config.keep_firing_for;
    this.staticLabels = { alertname: config.alert, severity: config.severity, ...config.labels };
    this.annotations = Object.entries(config.annotations).map(([name, text]) => [name, compileTemplate(text)] as const);
    if (config.metric !== undefined) {
      const selector = parseSelector(config.metric);
      this.metricName = selector.metricName;
      this.matchers = selector.matchers;
    } else {
      this.matchers = (config.logs?.match ?? []).map(parseMatcher);
    }
    this.minimumSeverity = config.logs?.severity_at_least === undefined ? 0 : minimumSeverityNumber(config.logs.severity_at_least);
    this.bodyContains = config.logs?.body_contains;
    if (config.logs?.body_regex !== undefined) this.bodyRegex = new RegExp(config.logs.body_regex, 'u');
    this.valueFrom = config.value_from;
    this.groupBy = config.group_by;
  }

  /** Whether the aggregate needs sample values (and which): counting rules carry none. */
  get usesValues(): boolean {
    return this.kind === 'threshold' && !(this.signal === 'logs' && this.valueFrom === undefined);
  }

  /** What the record contributes, or undefined when the rule does not select it. */
  sample(record: NormalizedRecord, timeMs: number): RuleSample | undefined {
    let value: number | undefined;
    if (this.signal === 'metrics') {
      if (record.schema !== 'tributary.metric.v1') return undefined;
      if (this.metricName !== undefined && record.name !== this.metricName) return undefined;
      if (this.usesValues) {
        // Histograms and summaries have no single value; NaN and ±Inf would poison sums and averages.
        if (typeof record.value !== 'number') return undefined;
        value = record.value;
      }
    } else {
      if (record.schema !== 'tributary.log.v1') return undefined;
      if (record.severity_number < this.minimumSeverity) return undefined;
      if (this.bodyContains !== undefined && !record.body.includes(this.bodyContains)) return undefined;
      if (this.bodyRegex !== undefined && !this.bodyRegex.test(record.body)) return undefined;
      if (this.valueFrom !== undefined && this.kind === 'threshold') {
        const raw = record.attributes[this.valueFrom];
        const numeric = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
        if (!Number.isFinite(numeric)) return undefined;
        value = numeric;
      }
    }
    const lookup = lookupOf(record);
    for (const matcher of this.matchers) if (!matches(matcher, lookup)) return undefined;
    const { key, labels } = this.groupOf(record, lookup);
    const series = this.aggregate === 'rate' && this.signal === 'metrics' ? seriesIdentity(record) : undefined;
    return { key, labels, timeMs, value, series };
  }

  private groupOf(record: NormalizedRecord, lookup: LabelLookup): { key: string; labels: Record<string, string> } {
    const labels: Record<string, string> = {};
    let key = '';
    if (this.groupBy !== undefined) {
      for (const name of this.groupBy) {
        const value = lookup(name) ?? '';
        key += `${value}\u0000`;
        // Prometheus drops empty labels; the key above still tells "missing" from other values.
        if (value !== '') labels[sanitizeLabelName(name)] = value;
      }
      return { key, labels };
    }
    if (this.signal === 'logs') return { key, labels };
    // A metric rule without group_by is per series, as a PromQL alert expression is.
    const identity = seriesIdentity(record);
    for (const [name, value] of Object.entries(record.resource)) labels[sanitizeLabelName(name)] = value;
    for (const [name, value] of Object.entries(record.attributes)) labels[sanitizeLabelName(name)] = String(value);
    return { key: identity, labels };
  }
}

function seriesIdentity(record: NormalizedRecord): string {
  const parts = [record.schema === 'tributary.metric.v1' ? record.name : ''];
  for (const name of Object.keys(record.resource).sort()) parts.push(`r:${name}=${record.resource[name] ?? ''}`);
  for (const name of Object.keys(record.attributes).sort()) parts.push(`a:${name}=${String(record.attributes[name])}`);
  return parts.join('\u0000');
}

/** The loaded rule set, indexed so a record is tested only against rules that can select it. */
export class RuleSet {
  readonly rules: readonly AlertRule[];
  private readonly byId = new Map<string, AlertRule>();
  private readonly metricRulesByName = new Map<string, AlertRule[]>();
  private readonly metricRulesAnyName: AlertRule[] = [];
  private readonly logRules: AlertRule[] = [];

  constructor(file: RulesFile) {
    this.rules = file.groups.flatMap((group) => group.rules.map((rule) => new AlertRule(rule, group)));
    for (const rule of this.rules) {
      this.byId.set(rule.id, rule);
      if (rule.signal === 'logs') this.logRules.push(rule);
      else if (rule.metricName === undefined) this.metricRulesAnyName.push(rule);
      else {
        const list = this.metricRulesByName.get(rule.metricName) ?? [];
        list.push(rule);
        this.metricRulesByName.set(rule.metricName, list);
      }
    }
  }

  get(id: string): AlertRule | undefined {
    return this.byId.get(id);
  }

  /** Rules that may select the record (a superset; `sample` decides). */
  candidates(record: NormalizedRecord): readonly AlertRule[] {
    if (record.schema === 'tributary.log.v1') return this.logRules;
    const named = this.metricRulesByName.get(record.name);
    if (this.metricRulesAnyName.length === 0) return named ?? [];
    return named === undefined ? this.metricRulesAnyName : [...named, ...this.metricRulesAnyName];
  }
}
