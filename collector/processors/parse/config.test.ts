import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../../../shared/config/load.js';
import { parserSchema } from './config.js';
import { createParser } from './create-parser.js';

/** Validates `parser:` inside a document, the way a parse rule embeds it, and returns the reported problems. */
function problemsOf(parser: unknown): { path: string; message: string }[] {
  try {
    validateConfig(z.strictObject({ parser: parserSchema }), { parser }, 'collector.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('parserSchema', () => {
  it('fills defaults', () => {
    expect(parserSchema.parse({ type: 'json' })).toEqual({ type: 'json', flatten: true, max_depth: 5 });
    expect(parserSchema.parse({ type: 'syslog' })).toEqual({ type: 'syslog', format: 'auto' });
  });

  it('accepts every parser type', () => {
    for (const config of [
      { type: 'json', flatten: false, timestamp_field: 'ts', timezone: 'Europe/Berlin' },
      { type: 'logfmt', severity_field: 'lvl', timestamp_format: 'yyyy-MM-dd HH:mm:ss' },
      { type: 'regex', pattern: '^%{SYSLOGTIMESTAMP:timestamp} %{GREEDYDATA:message}$', timezone: '+02:00' },
      { type: 'syslog', format: 'rfc5424' },
      { type: 'access_log', format: 'nginx_combined' },
    ]) {
      expect(problemsOf(config), JSON.stringify(config)).toEqual([]);
    }
  });

  it('reports an invalid regex on the pattern key', () => {
    expect(problemsOf({ type: 'regex', pattern: '(?<a>x' })).toEqual([{ path: 'parser.pattern', message: 'invalid regular expression: Unterminated group' }]);
  });

  it('reports an unknown grok pattern on the pattern key', () => {
    const [problem, ...rest] = problemsOf({ type: 'regex', pattern: '%{IPADDR:client}' });
    expect(rest).toEqual([]);
    expect(problem?.path).toBe('parser.pattern');
    expect(problem?.message).toMatch(/^unknown grok pattern %\{IPADDR\}; known patterns: .*IPV4/);
  });

  it('reports a bad time zone and timestamp format on their keys', () => {
    const problems = problemsOf({ type: 'logfmt', timezone: 'Mars/Olympus', timestamp_format: 'yyyy-QQ' });
    expect(problems.map((problem) => problem.path).sort()).toEqual(['parser.timestamp_format', 'parser.timezone']);
  });

  it('rejects unknown keys, unknown types and unknown formats', () => {
    expect(problemsOf({ type: 'json', flaten: false })).toEqual([{ path: 'parser.flaten', message: expect.stringContaining('unknown key') as unknown }]);
    expect(problemsOf({ type: 'xml' })[0]?.path).toBe('parser.type');
    expect(problemsOf({ type: 'access_log', format: 'iis' })[0]?.path).toBe('parser.format');
    expect(problemsOf({ type: 'json', max_depth: 0 })[0]?.path).toBe('parser.max_depth');
  });
});

describe('createParser', () => {
  it('builds each parser type from validated config', () => {
    const names = [
      { type: 'json' },
      { type: 'logfmt' },
      { type: 'regex', pattern: '%{GREEDYDATA:message}' },
      { type: 'syslog', format: 'rfc3164' },
      { type: 'access_log', format: 'apache_common' },
    ].map((config) => createParser(parserSchema.parse(config)).name);
    expect(names).toEqual(['json', 'logfmt', 'regex', 'syslog_rfc3164', 'apache_common']);
  });

  it('parses end to end', () => {
    const parser = createParser(parserSchema.parse({ type: 'logfmt' }));
    expect(parser.parse('level=error msg=boom')).toEqual({ ok: true, fields: { severityText: 'error', severityNumber: 17, body: 'boom', attributes: {} } });
  });
});

describe('parsers never throw on input', () => {
  it('returns a result for arbitrary lines', () => {
    const parsers = [
      { type: 'json' },
      { type: 'json', flatten: false },
      { type: 'logfmt' },
      { type: 'regex', pattern: '^%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}$' },
    ].map((config) => createParser(parserSchema.parse(config)));
    // Deterministic pseudo-random lines over an alphabet full of syntax characters (LCG, fixed seed).
    const alphabet = ' ="\\{}[]:,.-_0123456789aeZTu\t\n\r\u00e9\ud83d';
    let seed = 42;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const lines = ['{"__proto__":null}', '{"a":{"b":[1,{"c":null}]}}', 'a="\\', '\\u', '{"ts":1e400}', '{"level":{}}', '{"time":-1}'];
    for (let n = 0; n < 2000; n++) {
      let line = '';
      for (let k = next() % 40; k > 0; k--) line += alphabet.charAt(next() % alphabet.length);
      lines.push(line);
    }
    for (const parser of parsers) {
      for (const line of lines) {
        const result = parser.parse(line);
        expect(typeof result.ok, `${parser.name}: ${JSON.stringify(line)}`).toBe('boolean');
      }
    }
  });
});
