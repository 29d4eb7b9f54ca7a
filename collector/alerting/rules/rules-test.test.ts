import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../shared/paths.js';
import { expandValues, runRulesTests } from './rules-test.js';

describe('rules test', () => {
  it('passes the example rules and their tests', async () => {
    const result = await runRulesTests(join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.test.yaml'));
    expect(result.report).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  it('expands promtool value notation', () => {
    expect(expandValues('1+2x3 _ 7-1x2 3x1 _x1')).toEqual([1, 3, 5, 7, undefined, 7, 6, 5, 3, 3, undefined, undefined]);
    expect(() => expandValues('1 two')).toThrow(/cannot read value "two"/);
  });

  it('reports the expected and the actual alerts when a test fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-rules-'));
    await writeFile(
      join(dir, 'rules.yaml'),
      'groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: Hot\n        metric: temp\n        condition: "> 50"\n',
    );
    await writeFile(
      join(dir, 'test.yaml'),
      [
        'rule_files: [rules.yaml]',
        'tests:',
        '  - name: wrong expectation',
        '    interval: 1s',
        "    input_series: [{ series: 'temp{room=\"a\"}', values: '60x5' }]",
        '    alert_rule_test:',
        '      - eval_time: 3s',
        '        alertname: Hot',
        '        exp_alerts: [{ exp_labels: { severity: warning, room: b } }]',
      ].join('\n'),
    );
    const result = await runRulesTests(join(dir, 'test.yaml'));
    expect(result.ok).toBe(false);
    expect(result.report).toContain('FAIL wrong expectation');
    expect(result.report).toContain('expected, not firing: {room="b", severity="warning"}');
    expect(result.report).toContain('firing, not expected: {room="a", severity="warning"}');
  });
});
