import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/load.js';
import { validateRules } from './config.js';

function problemsOf(document: unknown): string {
  try {
    validateRules(document, 'rules.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the rules to be invalid');
}

const group = (rules: unknown[], extra: Record<string, unknown> = {}) => ({ groups: [{ name: 'node', interval: '10s', rules, ...extra }] });

describe('rules file validation', () => {
  it('names the file, the key path and the rule', () => {
    const message = problemsOf(
      group([
        { alert: 'Fine', metric: 'up', condition: '< 1' },
        { alert: 'HighCpu', metric: 'node_load1{job="node"', condition: '> 90', window: '15s' },
      ]),
    );
    expect(message).toContain('rules.yaml: groups[0].rules[1].metric (alert "HighCpu" in group "node"): missing closing "}"');
    expect(message).toContain(`rules.yaml: groups[0].rules[1].window (alert "HighCpu" in group "node"): the window must be a multiple of the group's interval`);
    expect(message).not.toContain('Fine');
  });

  it('rejects a condition, regex, template or key it cannot understand', () => {
    const message = problemsOf(
      group([
        {
          alert: 'Errors',
          logs: { body_regex: '(unclosed', severity_at_least: 'LOUD' },
          condition: 'above 5',
          annotations: { summary: '{{ $value.nope }}' },
          thresold: 3,
        },
      ]),
    );
    expect(message).toContain('groups[0].rules[0].condition (alert "Errors" in group "node"): expected a comparison and a number such as "> 90"');
    expect(message).toMatch(/groups\[0\]\.rules\[0\]\.logs\.body_regex \(alert "Errors" in group "node"\): invalid regular expression: /);
    expect(message).toContain('groups[0].rules[0].logs.severity_at_least (alert "Errors" in group "node")');
    expect(message).toContain('groups[0].rules[0].annotations.summary (alert "Errors" in group "node"): unknown template expression {{ $value.nope }}');
    expect(message).toContain('groups[0].rules[0].thresold (alert "Errors" in group "node"): unknown key');
  });

  it('requires one selector and one condition per rule, and unique names', () => {
    const message = problemsOf(
      group([
        { alert: 'Both', metric: 'up', logs: {}, condition: '> 1', absent: true },
        { alert: 'Both', metric: 'up', condition: '> 1' },
        { alert: 'LogAvg', logs: {}, aggregate: 'avg', condition: '> 1' },
      ]),
    );
    expect(message).toContain('groups[0].rules[0] (alert "Both" in group "node"): a rule needs exactly one of metric or logs');
    expect(message).toContain('groups[0].rules[0] (alert "Both" in group "node"): a rule needs exactly one of condition or absent: true');
    expect(message).toContain('groups[0].rules[1].alert (alert "Both" in group "node"): duplicate alert "Both" in group "node"');
    expect(message).toContain('groups[0].rules[2].aggregate (alert "LogAvg" in group "node"): log rules count lines (count, rate); avg needs value_from');
  });

  it('accepts a complete rule and fills in the defaults', () => {
    const rules = validateRules(group([{ alert: 'Up', metric: 'up', absent: true }]), 'rules.yaml');
    expect(rules.groups[0]?.rules[0]).toMatchObject({ for: 0, keep_firing_for: 0, severity: 'warning', window_type: 'sliding', labels: {}, annotations: {} });
  });
});
