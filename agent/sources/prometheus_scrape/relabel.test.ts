import { describe, expect, it } from 'vitest';
import { relabelRuleSchema, type RelabelRule } from './config.js';
import { compileRelabelRules } from './relabel.js';

function rules(...input: Array<Record<string, unknown>>): RelabelRule[] {
  return input.map((rule) => relabelRuleSchema.parse(rule));
}

function relabel(labels: Record<string, string>, ...input: Array<Record<string, unknown>>): Record<string, string> | undefined {
  const relabeler = compileRelabelRules(rules(...input));
  if (relabeler === undefined) throw new Error('no rules');
  return relabeler(labels);
}

describe('metric_relabel_configs', () => {
  it('is absent without rules, so scrapes skip the work', () => {
    expect(compileRelabelRules([])).toBeUndefined();
  });

  it('keeps only series whose joined source labels match the whole regex', () => {
    const rule = { action: 'keep', source_labels: ['__name__', 'mode'], regex: 'node_cpu_seconds_total;(idle|user)' };
    expect(relabel({ __name__: 'node_cpu_seconds_total', mode: 'idle' }, rule)).toEqual({ __name__: 'node_cpu_seconds_total', mode: 'idle' });
    expect(relabel({ __name__: 'node_cpu_seconds_total', mode: 'system' }, rule)).toBeUndefined();
    // Anchored: a partial match is no match, as in Prometheus.
    expect(relabel({ __name__: 'x_node_cpu_seconds_total', mode: 'idle' }, rule)).toBeUndefined();
  });

  it('drops matching series and treats a missing label as empty', () => {
    const rule = { action: 'drop', source_labels: ['__name__'], regex: 'go_.*' };
    expect(relabel({ __name__: 'go_goroutines' }, rule)).toBeUndefined();
    expect(relabel({ __name__: 'up' }, rule)).toEqual({ __name__: 'up' });
    expect(relabel({ __name__: 'a' }, { action: 'drop', source_labels: ['missing'], regex: '' })).toBeUndefined();
  });

  it('replaces with group references in the replacement and the target label, and deletes on an empty result', () => {
    const labels = { __name__: 'http_requests_total', path: '/api/v1/users', code: '200' };
    expect(relabel(labels, { source_labels: ['path'], regex: '/api/(v\\d+)/.*', target_label: 'api_version', replacement: '${1}' })).toEqual({
      ...labels,
      api_version: 'v1',
    });
    expect(relabel(labels, { source_labels: ['code'], regex: '(\\d)\\d\\d', target_label: 'class_$1', replacement: '${1}xx' })).toEqual({
      ...labels,
      class_2: '2xx',
    });
    // As in Go's Regexp.Expand, `$1xx` names a group "1xx", which does not exist: empty, so nothing is set.
    expect(relabel(labels, { source_labels: ['code'], regex: '(\\d)\\d\\d', target_label: 'class', replacement: '$1xx' })).toEqual(labels);
    expect(relabel(labels, { source_labels: ['code'], regex: '.*', target_label: 'path', replacement: '' })).toEqual({
      __name__: 'http_requests_total',
      code: '200',
    });
    // No match leaves the series alone.
    expect(relabel(labels, { source_labels: ['code'], regex: '5..', target_label: 'error', replacement: 'yes' })).toEqual(labels);
  });

  it('renames the series through __name__ and does not modify its input', () => {
    const labels = { __name__: 'old_name', job: 'app' };
    expect(relabel(labels, { source_labels: ['__name__'], regex: 'old_(.*)', target_label: '__name__', replacement: 'new_$1' })).toEqual({
      __name__: 'new_name',
      job: 'app',
    });
    expect(labels).toEqual({ __name__: 'old_name', job: 'app' });
  });

  it('labeldrop, labelkeep and labelmap work on label names and never remove __name__', () => {
    const labels = { __name__: 'm', pod_name: 'p1', pod_ip: '10.0.0.1', env: 'prod' };
    expect(relabel(labels, { action: 'labeldrop', regex: 'pod_.*' })).toEqual({ __name__: 'm', env: 'prod' });
    expect(relabel(labels, { action: 'labelkeep', regex: 'env' })).toEqual({ __name__: 'm', env: 'prod' });
    expect(relabel(labels, { action: 'labelmap', regex: 'pod_(.*)', replacement: 'k8s_$1' })).toEqual({ ...labels, k8s_name: 'p1', k8s_ip: '10.0.0.1' });
  });

  it('applies rules in order', () => {
    expect(
      relabel(
        { __name__: 'm', a: 'x' },
        { source_labels: ['a'], target_label: 'b', replacement: '$1-copy' },
        { action: 'keep', source_labels: ['b'], regex: 'x-copy' },
      ),
    ).toEqual({ __name__: 'm', a: 'x', b: 'x-copy' });
  });

  it('rejects rules that cannot work at config time', () => {
    expect(relabelRuleSchema.safeParse({ action: 'replace', source_labels: ['a'] }).error?.issues[0]?.message).toBe('action replace needs target_label');
    expect(relabelRuleSchema.safeParse({ action: 'keep' }).error?.issues[0]?.message).toBe('action keep needs source_labels');
    expect(relabelRuleSchema.safeParse({ action: 'drop', source_labels: ['a'], regex: '(' }).error?.issues[0]?.message).toMatch(/^invalid regular expression/);
  });
});
