import { describe, expect, it } from 'vitest';
import { configProblems } from '../../test/helpers/records.js';
import { GROK_PATTERNS } from './parse/grok-patterns.js';
import { ParserConfigError } from './parse/field-mapping.js';
import { compileRegexPattern, resolveLibraryPattern } from './parse/regex.js';
import { catastrophicBacktrackingProblem } from './regex-safety.js';
import { validateConfig } from '../../shared/config/load.js';
import { z } from 'zod';
import { enrichOperationSchema } from './enrich/config.js';
import { routeRuleSchema } from './route/config.js';

/** The check as the regex parser runs it: grok references summarised by their library patterns. */
const problemOf = (pattern: string) => catastrophicBacktrackingProblem(pattern, '', resolveLibraryPattern);

describe('catastrophic backtracking check', () => {
  it.each(['(a+)+$', '(a*)*b', '(\\w+\\s?)*$', '^(?:[a-z]+\\.?)+@', '(a|ab)*c', '(\\w|\\d)+!', '(?:x+x+)+y', '((ab)*)+c', '(?<word>\\w+ ?)+$'])(
    '13.8: rejects %s',
    (pattern) => {
      expect(problemOf(pattern)).toMatch(/backtrack catastrophically/);
    },
  );

  // Found by npm run fuzz: the first took 38 s on a 28-character line while grok references counted as one character.
  it.each(['%{PATH}*%{NOTSPACE:a:float}+%{IPV6:a}', '%{PATH}*x', '(?:%{NOTSPACE} ?)+$', '%{WORD}+!', '(?:%{INT}|%{NUMBER})+;', '%{UNKNOWN_NAME}*'])(
    '13.8: rejects a quantified grok reference that can split a line many ways: %s',
    (pattern) => {
      expect(problemOf(pattern)).toMatch(/backtrack catastrophically/);
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
    '(?:%{WORD},)*%{WORD}',
    '(?:%{INT}\\.)+%{INT}',
  ])('13.8: accepts %s', (pattern) => {
    expect(problemOf(pattern)).toBeUndefined();
  });

  it('13.8: every built-in grok pattern, referenced as users do, passes the check', () => {
    for (const name of GROK_PATTERNS.keys()) expect(problemOf(`^%{${name}:f} %{${name}}$`), name).toBeUndefined();
  });

  it('13.8: a grok reference the check cannot resolve may consume anything', () => {
    expect(catastrophicBacktrackingProblem('(?:%{WORD} )+')).toMatch(/backtrack catastrophically/);
    expect(problemOf('(?:%{WORD} )+')).toBeUndefined();
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
