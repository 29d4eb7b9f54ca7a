import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../agent/config.js';
import { validateRules } from '../collector/alerting/rules/config.js';
import { collectorConfigSchema } from '../collector/config.js';
import { ConfigError, parseYaml, validateConfig } from '../shared/config/load.js';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../shared/test-support/boundary-contract.js';

/**
 * Everything a config or rules file goes through after it is read: parse, then validate as all three kinds.
 * It lives beside the dispatcher because only here may one test see both tiers' schemas.
 */
function loadAll(text: string): void {
  const document = parseYaml(text, 'fuzz.yaml');
  for (const validate of [
    () => validateConfig(agentConfigSchema, document, 'fuzz.yaml', {}),
    () => validateConfig(collectorConfigSchema, document, 'fuzz.yaml', {}),
    () => validateRules(document, 'fuzz.yaml'),
  ]) {
    try {
      validate();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
    }
  }
}

/** YAML's structural pieces, so generated text reaches the parser's corners rather than one long scalar. */
const yamlPiece = fc.constantFrom(
  'a',
  'kafka',
  'sasl',
  'password',
  'groups',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  ':',
  ': ',
  ' ',
  '  ',
  '\n',
  '- ',
  '? ',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '&x ',
  '*x',
  '&y ',
  '*y',
  '"',
  "'",
  '# c',
  '|\n',
  '>-\n',
  '!!map ',
  '!!str ',
  '!!binary ',
  '!!set ',
  '<<: ',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '\t',
  '1e400',
  '0x10',
  '30d',
  '${X}',
  '\u0000',
  '\uFEFF',
);
const yamlText = fc.oneof(
  fc.array(yamlPiece, { maxLength: 120 }).map((pieces) => pieces.join('')),
  fc.string({ maxLength: 300 }),
);

/** Adversarial shapes for the linear-time check: each grows with `size` and is what a recursive or quadratic parser chokes on. */
const ADVERSARIAL: Record<string, (size: number) => string> = {
  'deep flow nesting': (size) => `${'['.repeat(size)}${']'.repeat(size)}`,
  'deep block nesting': (size) => Array.from({ length: size }, (_, depth) => `${' '.repeat(depth % 200)}k${depth}:`).join('\n'),
  'compact sequences': (size) => `${'- '.repeat(size)}x`,
  'nested complex keys': (size) => {
    let text = 'a';
    for (let level = 0; level < size; level++) text = `{${text}: ${level}}`;
    return `${text}: 1`;
  },
  'explicit keys': (size) => Array.from({ length: size }, (_, depth) => `${' '.repeat(depth % 100)}? &k${depth} [x]`).join('\n'),
  'many aliases': (size) => `a: &a x\nb: [${Array(size).fill('*a').join(', ')}]`,
  'many anchors and complex keys': (size) => `{${Array.from({ length: size }, (_, index) => `&a${index} [k${index}]: ${index}`).join(', ')}}`,
  'long flow sequence': (size) => `a: [${Array(size).fill('1').join(', ')}]`,
  'many keys': (size) => Array.from({ length: size }, (_, index) => `k${index}: v`).join('\n'),
  'long plain scalar': (size) => `a: ${'x '.repeat(size)}`,
};

/** Shapes that stay valid YAML within every limit, so they are parsed in full. */
const ACCEPTED_SHAPES: ReadonlySet<string> = new Set(['long flow sequence', 'many keys', 'long plain scalar']);

describe('config and rule loading: the boundary contract (13.17)', () => {
  it(
    '13.17: only ConfigError escapes, and no prototype changes, whatever the YAML',
    () => {
      fc.assert(
        fc.property(yamlText, (text) => {
          expectPrototypesUntouched(() => expectOnlyTypedErrors(() => loadAll(text), [ConfigError]));
        }),
        propertyParameters('config-load-typed-errors', 300),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    '13.17: documents with prototype-named keys at any depth never reach a prototype',
    () => {
      const key = fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'kafka', 'sources', 'groups');
      const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
        node: fc.oneof(
          { depthSize: 'small' },
          fc.string({ maxLength: 8 }),
          fc.integer(),
          fc.array(tie('node'), { maxLength: 3 }),
          fc.dictionary(key, tie('node'), { maxKeys: 3 }),
        ),
      })).node;
      fc.assert(
        fc.property(fc.dictionary(key, tree, { maxKeys: 4 }), (document) => {
          // JSON is YAML: the text has the keys literally, as a hostile file would.
          const text = JSON.stringify(document);
          expectPrototypesUntouched(() => expectOnlyTypedErrors(() => loadAll(text), [ConfigError]));
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }),
        propertyParameters('config-load-prototypes', 200),
      );
    },
    propertyTimeoutMs(),
  );

  it.each(Object.keys(ADVERSARIAL))(
    '13.17: time is linear in input size on %s',
    (shape) => {
      const make = ADVERSARIAL[shape] as (size: number) => string;
      expectLinearTime(make, (text) => expectOnlyTypedErrors(() => loadAll(text), [ConfigError]), {
        // Refused shapes stop at the first problem and never reach minBaseMs, so their growth is capped low;
        // accepted ones grow until the base run is long enough to measure.
        maxBaseSize: ACCEPTED_SHAPES.has(shape) ? 1 << 16 : 1 << 13,
        minBaseMs: 10,
        repetitions: 5,
      });
    },
    propertyTimeoutMs(60_000),
  );
});
