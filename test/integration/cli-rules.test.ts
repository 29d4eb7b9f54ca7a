import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';
import { runCli } from '../helpers/processes.js';

const fixture = (name: string) => join('test', 'fixtures', 'config', name);
const RULE_PROBLEM =
  'groups[0].rules[1].for (alert "DiskFull" in group "node"): expected a duration such as "500ms", "5s" or "1m", from 0ms to 24d20h31m23s647ms';

describe('tributary rules and alerting configuration (the compiled CLI)', () => {
  it('runs rule unit tests and says SUCCESS', async () => {
    const result = await runCli(['rules', 'test', join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.test.yaml')]);
    expect(result.stdout).toContain('alerts.test.yaml: SUCCESS');
    expect(result.code).toBe(0);
  });

  it('checks a rule file and names the rule and the key path of a mistake', async () => {
    const good = await runCli(['rules', 'check', join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.yaml')]);
    expect(good).toMatchObject({ code: 0 });
    expect(good.stdout).toContain('4 rules valid');
    const bad = await runCli(['rules', 'check', fixture('rules-malformed.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${fixture('rules-malformed.yaml')}: ${RULE_PROBLEM}`);
  });

  it('fails validation and start-up of a collector whose rule file is malformed', async () => {
    const validate = await runCli(['validate', '--config', fixture('collector-bad-rules.yaml')]);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(RULE_PROBLEM);
    // Before touching Kafka (the broker address is unreachable): the rules are read first.
    const start = await runCli(['collector', '--config', fixture('collector-bad-rules.yaml')]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(RULE_PROBLEM);
  });
});

describe('tributary rules check on hostile rule files', () => {
  it('13.17: YAML the library would throw on (unresolved alias, deep nesting, explicit keys) is a configuration error naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-rules-'));
    try {
      const cases: Array<[string, RegExp]> = [
        ['groups: *nowhere\n', /\(top level\): YAML (could not be read|syntax error): .*alias/i],
        [`groups: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, /\(top level\): YAML line 1, column \d+: nested deeper than 64 levels/],
        ['? groups\n: []\n', /\(top level\): YAML line 1, column 1: explicit \(`\?`\) mapping keys are not supported/],
      ];
      for (const [index, [text, expected]] of cases.entries()) {
        const file = join(dir, `rules-${index}.yaml`);
        await writeFile(file, text);
        const result = await runCli(['rules', 'check', file]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`${file}: (top level): YAML`);
        expect(result.stderr).toMatch(expected);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
