import { defineDataKey, getOwnDataKey } from '../../../shared/record/key-path.js';
import type { Labels } from '../../metric-families/families.js';
import type { RelabelRule } from './config.js';

/** Prometheus's `$1`, `${1}`, `$name`, `${name}` and `$$` in replacements and target labels (Go's Regexp.Expand). */
const REFERENCE = /\$(?:\$|\{(\w+)\}|(\w+))/g;

function expand(template: string, match: RegExpExecArray): string {
  if (!template.includes('$')) return template;
  return template.replace(REFERENCE, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare ?? '';
    const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    return value ?? '';
  });
}

interface CompiledRule {
  readonly rule: RelabelRule;
  /** Anchored at both ends, as Prometheus anchors every relabel regex. */
  readonly regex: RegExp;
}

export type MetricRelabeler = (labels: Labels) => Labels | undefined;

/**
 * `metric_relabel_configs`: applied to each series' labels with `__name__`
 * holding its name; returns the new labels, or undefined when the series is
 * dropped. Rules are compiled once per job, not per series.
 */
export function compileRelabelRules(rules: readonly RelabelRule[]): MetricRelabeler | undefined {
  if (rules.length === 0) return undefined;
  const compiled: CompiledRule[] = rules.map((rule) => ({ rule, regex: new RegExp(`^(?:${rule.regex})$`) }));
  return (input) => {
    let labels: Labels = input;
    let copied = false;
    const writable = (): Labels => {
      if (!copied) {
        labels = { ...labels };
        copied = true;
      }
      return labels;
    };
    for (const { rule, regex } of compiled) {
      switch (rule.action) {
        case 'keep':
        case 'drop': {
          const matched = regex.test(sourceValue(labels, rule));
          if (matched === (rule.action === 'drop')) return undefined;
          break;
        }
        case 'replace': {
          const match = regex.exec(sourceValue(labels, rule));
          if (match === null) break;
          const target = expand(rule.target_label ?? '', match);
          const value = expand(rule.replacement, match);
          if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(target)) break; // Prometheus skips an expansion that is not a label name
          if (value === '') Reflect.deleteProperty(writable(), target);
          else defineDataKey(writable(), target, value);
          break;
        }
        case 'labeldrop':
        case 'labelkeep':
          for (const name of Object.keys(labels)) {
            if (name === '__name__') continue;
            if (regex.test(name) === (rule.action === 'labeldrop')) Reflect.deleteProperty(writable(), name);
          }
          break;
        case 'labelmap':
          for (const [name, value] of Object.entries(labels)) {
            const match = regex.exec(name);
            if (match !== null) defineDataKey(writable(), expand(rule.replacement, match), value);
          }
          break;
      }
    }
    return labels;
  };
}

function sourceValue(labels: Labels, rule: RelabelRule): string {
  // Own labels only: a source label named `constructor` must read as absent, not as Object's constructor.
  return rule.source_labels.map((name) => getOwnDataKey(labels, name) ?? '').join(rule.separator);
}
