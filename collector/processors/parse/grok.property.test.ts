import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectOnlyTypedErrors, expectPrototypesUntouched, propertyParameters, propertyTimeoutMs } from '../../../shared/test-support/boundary-contract.js';
import { ParserConfigError } from './field-mapping.js';
import { GROK_PATTERNS } from './grok-patterns.js';
import { compileRegexPattern } from './regex.js';
import { expectParserContract, hostileLine } from './parser-contract.js';
import { createRegexParser } from './regex.js';

const NAMES = [...GROK_PATTERNS.keys()];
const patternPiece = fc.oneof(
  fc.constantFrom(...NAMES).map((name) => `%{${name}}`),
  fc
    .tuple(fc.constantFrom(...NAMES), fc.constantFrom('a', 'b.c', '__proto__', 'x.constructor', '@t'), fc.constantFrom('', ':int', ':float', ':bad'))
    .map(([name, field, type]) => `%{${name}:${field}${type}}`),
  fc.constantFrom(' ', '^', '$', '\\s+', '(', ')', '|', '*', '+', '(?<f>', '%{', '}', '[', ']', '\\'),
);

describe('grok library boundary', () => {
  it(
    'compiling any pattern throws only ParserConfigError, and a compiled pattern parses hostile lines within the parser contract',
    () => {
      fc.assert(
        fc.property(
          fc.array(patternPiece, { minLength: 1, maxLength: 6 }),
          hostileLine(['http://a.', '10.0.0.1:80', '"q\\"', 'Jan  1 00:00:00']),
          (pieces, line) => {
            const pattern = pieces.join('');
            const compiled = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => compileRegexPattern(pattern), [ParserConfigError]));
            if (compiled instanceof ParserConfigError) {
              expect(compiled.key).toBe('pattern');
              return;
            }
            if (compiled instanceof Error) throw compiled;
            expectParserContract(createRegexParser({ pattern }), line);
          },
        ),
        propertyParameters('grok library', 150),
      );
    },
    propertyTimeoutMs(),
  );
});
