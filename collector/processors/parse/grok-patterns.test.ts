import { describe, expect, it } from 'vitest';
import { expectLinearTime } from '../../../shared/test-support/boundary-contract.js';
import { adversarialLine, LINEAR_CHECK, scanAll, slowestUnit } from '../adversarial-lines.js';
import { GROK_PATTERNS } from './grok-patterns.js';
import { compileRegexPattern, createRegexParser } from './regex.js';

describe('grok library', () => {
  // Iterating the table means a slow pattern added later fails here without a new test.
  it.each([...GROK_PATTERNS.keys()])('13.8: %s runs in linear time on its most adversarial line', (name) => {
    const { regex } = compileRegexPattern(`%{${name}}`);
    const global = new RegExp(regex.source, 'g');
    const run = (line: string) => scanAll(global, line);
    const unit = slowestUnit(run);
    try {
      expectLinearTime((count) => adversarialLine(unit, count), run, LINEAR_CHECK(unit));
    } catch (error) {
      throw new Error(`%{${name}} on ${JSON.stringify(unit)} repeated: ${(error as Error).message}`);
    }
  });

  it('13.8: a 256 KiB hostile line through %{URI} and %{HOSTPORT} parses in well under a second', () => {
    for (const [pattern, unit] of [
      ['%{URI:url}', 'a'],
      ['%{HOSTPORT:hp}', 'a.'],
      ['%{URI:url}', 'a://a:'],
      ['%{QS:q}', '\\"'],
    ] as const) {
      const parser = createRegexParser({ pattern });
      const line = adversarialLine(unit, Math.floor((256 * 1024) / unit.length));
      const started = performance.now();
      parser.parse(line);
      expect(performance.now() - started, `${pattern} on ${unit}`).toBeLessThan(1000);
    }
  });

  it('keeps matching what the patterns are for after the linear-time rewrite', () => {
    const match = (pattern: string, line: string) => {
      const result = createRegexParser({ pattern }).parse(line);
      return result.ok ? result.fields.attributes : undefined;
    };
    expect(match('%{URI:u}', 'see https://user:pw@example.com:8443/a/b?c=1 now')).toEqual({ u: 'https://user:pw@example.com:8443/a/b?c=1' });
    expect(match('to %{HOSTPORT:hp}', 'to db-1.example.com:5432')).toEqual({ hp: 'db-1.example.com:5432' });
    expect(match('to %{HOSTPORT:hp}', 'to 10.0.0.1:80')).toEqual({ hp: '10.0.0.1:80' });
    expect(match('%{QS:q}', 'say "a \\" b" end')).toEqual({ q: '"a \\" b"' });
    expect(match('host=%{HOSTNAME:h}', 'host=web-1.local')).toEqual({ h: 'web-1.local' });
  });
});
