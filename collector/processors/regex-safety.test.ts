import { describe, expect, it } from 'vitest';
import { configProblems } from '../../test/helpers/records.js';
import { GROK_PATTERNS } from './parse/grok-patterns.js';
import { ParserConfigError } from './parse/field-mapping.js';
import { compileRegexPattern } from './parse/regex.js';
import { catastrophicBacktrackingProblem } from './regex-safety.js';
import { validateConfig } from '../../shared/config/load.js';
import { z } from 'zod';
import { enrichOperationSchema } from './enrich/config.js';
import { routeRuleSchema } from './route/config.js';

describe('catastrophic backtracking check', () => {
  it.each(['(a+)+$', '(a*)*b', '(\\w+\\s?)*$', '^(?:[a-z]+\\.?)+@', '(a|ab)*c', '(\\w|\\d)+!', '(?:x+x+)+y', '((ab)*)+c', '(?<word>\\w+ ?)+$'])(
    '13.8: rejects %s',
    (pattern) => {
      expect(catastrophicBacktrackingProblem(pattern)).toMatch(/backtrack catastrophically/);
    },
  );

  it.each([
    '^(?<ts>\\S+) \\[(?<level>\\w+)\\] (?<msg>.*)$',
    '(?:[^,]*,)*',
    '(?:/[^/]*)+',
    '(?:%{WORD} )+',
    '^%{IPORHOST:client} - (?<user>\\S+) \\[%{HTTPDATE:time}\\] "(?<request>[^"]*)"',
    '(?:\\d{1,3}\\.){3}\\d{1,3}',
    '(a|b)*c',
    'password=\\S+',
    '[A-Z]{2}\\d{6}',
  ])('13.8: accepts %s', (pattern) => {
    expect(catastrophicBacktrackingProblem(pattern)).toBeUndefined();
  });

  it('13.8: every built-in grok pattern passes the check it applies to user patterns', () => {
    for (const name of GROK_PATTERNS.keys()) expect(catastrophicBacktrackingProblem(`%{${name}}`), name).toBeUndefined();
  });

  it('13.8: a regex parser pattern, a redact pattern and a route body_regex of that shape are config errors on their key', () => {
    expect(() => compileRegexPattern('^(?<words>(\\w+\\s?)*)$')).toThrow(ParserConfigError);
    const enrichProblems = configProblems(() =>
      validateConfig(z.strictObject({ enrich: z.array(enrichOperationSchema) }), { enrich: [{ redact: { patterns: ['(a+)+@'] } }] }, 'collector.yaml', {}),
    );
    expect(enrichProblems.map((problem) => problem.path)).toEqual(['enrich[0].redact.patterns[0]']);
    expect(enrichProblems[0]?.message).toMatch(/backtrack catastrophically/);
    const routeProblems = configProblems(() =>
      validateConfig(
        z.strictObject({ routes: z.array(routeRuleSchema) }),
        { routes: [{ match: { body_regex: '(x|xy)+z' }, outputs: ['a'] }] },
        'collector.yaml',
        {},
      ),
    );
    expect(routeProblems.map((problem) => problem.path)).toEqual(['routes[0].match.body_regex']);
  });
});
