import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrorOf } from '../test-support/config-problems.js';
import { MAX_CONFIG_FILE_BYTES, parseYaml, readConfigText } from './load.js';
import { MAX_BYTE_SIZE, MAX_TIMER_MS, byteSize, duration } from './schema.js';

// What the agent's and the collector's schemas make of a document is tested beside them (agent/config.test.ts,
// collector/config.test.ts); here, the YAML reading and the duration and size helpers every schema uses.

describe('YAML', () => {
  it('reports syntax errors with the file', () => {
    expect(() => parseYaml('kafka: [unclosed', 'bad.yaml')).toThrow(/bad\.yaml: \(top level\): YAML syntax error/);
  });

  it('rejects duplicate keys', () => {
    expect(() => parseYaml('a: 1\na: 2\n', 'dup.yaml')).toThrow('dup.yaml: (top level): YAML line 2, column 1: duplicate key (map keys must be unique)');
    // As object keys 1 and "1" are one key.
    expect(() => parseYaml('1: a\n"1": b\n', 'dup.yaml')).toThrow(/duplicate key/);
  });
});

describe('13.16: bounded durations and sizes', () => {
  it('13.16: helpers default to 0 … 2^31-1 ms and 0 … 1 TiB, and take explicit bounds', () => {
    expect(duration().safeParse('24d20h31m23s647ms')).toEqual({ success: true, data: MAX_TIMER_MS });
    expect(duration().safeParse('24d20h31m23s648ms').success).toBe(false);
    expect(duration({ min: 1000, max: 60_000 }).safeParse('999ms').success).toBe(false);
    expect(duration({ min: 1000, max: 60_000 }).safeParse('1m').success).toBe(true);
    expect(byteSize().safeParse('1024GiB')).toEqual({ success: true, data: MAX_BYTE_SIZE });
    expect(byteSize().safeParse('1025GiB').success).toBe(false);
    expect(byteSize({ min: 1 }).safeParse(0).success).toBe(false);
  });
});

describe('13.17: hostile YAML fails fast as a ConfigError naming the file', () => {
  it('13.17: an 832-byte document of nested complex keys fails fast (< 1 s) with a ConfigError', () => {
    let nested = 'a';
    while (`{${nested}: 1}`.length < 400) nested = `{${nested}: 1}`;
    let explicit = '';
    for (let depth = 0; explicit.length < 832 - nested.length - 8; depth++) explicit += `${' '.repeat(depth)}? &k${depth} [x]\n`;
    for (const text of [`${nested}: 1\n${explicit}`.slice(0, 832), `${nested}: 1\n`, explicit]) {
      const started = performance.now();
      const error = configErrorOf(() => parseYaml(text, 'rules.yaml'));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error.message).toMatch(/^invalid configuration in rules\.yaml:\n {2}rules\.yaml: \(top level\): YAML line \d+, column \d+: /);
    }
    expect(configErrorOf(() => parseYaml('[a, b]: 1\n', 'c.yaml')).problems).toEqual([
      { path: '', message: 'YAML line 1, column 1: mapping keys must be plain names, not collections (a stray { or [ ?)' },
    ]);
    expect(configErrorOf(() => parseYaml('? a\n: 1\n', 'c.yaml')).problems).toEqual([
      { path: '', message: 'YAML line 1, column 1: explicit (`?`) mapping keys are not supported; keys are plain names' },
    ]);
  });

  it('13.17: unresolved aliases, alias bombs, deep nesting and oversize text are ConfigErrors, not library exceptions', () => {
    expect(configErrorOf(() => parseYaml('a: *nowhere\n', 'c.yaml')).problems[0]?.message).toMatch(/^YAML (could not be read|syntax error): .*alias/i);
    // Ten levels of ten aliases each: the library's expansion limit refuses it (10^9 nodes otherwise).
    const levels = 'abcdefghij';
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, level) => `${levels[level + 1]}: &${levels[level + 1]} [${Array(10).fill(`*${levels[level]}`).join(', ')}]`),
    ].join('\n');
    expect(configErrorOf(() => parseYaml(bomb, 'c.yaml')).problems[0]?.message).toMatch(/^YAML could not be read: Excessive alias count/);
    const manyAliases = `a: &a x\nb: [${Array(101).fill('*a').join(', ')}]\n`;
    expect(configErrorOf(() => parseYaml(manyAliases, 'c.yaml')).problems[0]?.message).toMatch(/^YAML line 2, column \d+: more than 100 aliases/);
    expect(configErrorOf(() => parseYaml(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'c.yaml')).problems[0]?.message).toMatch(
      /nested deeper than 64 levels/,
    );
    expect(configErrorOf(() => parseYaml(`${'- '.repeat(100_000)}x`, 'c.yaml')).problems[0]?.message).toMatch(/nested deeper than 64 levels/);
    const deepBlock = Array.from({ length: 100 }, (_, depth) => `${' '.repeat(depth)}k${depth}:`).join('\n');
    expect(configErrorOf(() => parseYaml(deepBlock, 'c.yaml')).problems[0]?.message).toMatch(/nested deeper than 64 levels/);
    expect(configErrorOf(() => parseYaml(`a: "${'x'.repeat(MAX_CONFIG_FILE_BYTES)}"`, 'big.yaml')).problems[0]?.message).toBe(
      `the file is larger than ${MAX_CONFIG_FILE_BYTES} bytes`,
    );
  });

  it('13.17: a file over the size limit is refused before it is parsed, also from a stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-config-'));
    try {
      const big = join(dir, 'big.yaml');
      await writeFile(big, `a: "${'x'.repeat(MAX_CONFIG_FILE_BYTES)}"\n`);
      await expect(readConfigText(big)).rejects.toThrow(new RegExp(`big\\.yaml: \\(top level\\): the file is larger than ${MAX_CONFIG_FILE_BYTES} bytes`));
      const small = join(dir, 'small.yaml');
      await writeFile(small, 'a: 1\n');
      expect(await readConfigText(small)).toBe('a: 1\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('13.17: __proto__, constructor and prototype keys are refused and no prototype changes', () => {
    const error = configErrorOf(() => parseYaml('__proto__:\n  polluted: yes\nx:\n  constructor: 1\n', 'c.yaml'));
    expect(error.problems.map((problem) => problem.message)).toEqual([
      'YAML line 1, column 1: the key __proto__ is not allowed',
      'YAML line 4, column 3: the key constructor is not allowed',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('13.17: tagged keys that resolve to objects (found by npm run fuzz) are refused, not stringified with a process warning', () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const error = configErrorOf(() => parseYaml('!!binary aGk=: 1\nok: 2\n!!timestamp 2001-01-01: x\n', 'c.yaml'));
      expect(error.problems.map((problem) => problem.message)).toEqual([
        'YAML line 1, column 10: mapping keys must be plain names, not tagged values',
        'YAML line 3, column 13: mapping keys must be plain names, not tagged values',
      ]);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('keeps anchors, aliases, block scalars and flow collections working', () => {
    expect(parseYaml('base: &base {a: 1}\nuse: *base\ntext: |\n  {[ not flow\n    x\nlist:\n  - - 1\n    - 2\n', 'c.yaml')).toEqual({
      base: { a: 1 },
      use: { a: 1 },
      text: '{[ not flow\n  x\n',
      list: [[1, 2]],
    });
  });
});

describe('13.18: no secret in any configuration message', () => {
  const secret = 'Tr0ub4dor-and-3';

  it.each([`password: [${secret}`, `password: "${secret}\n  x: {`, `a:\n  - b\n password: ${secret}}}`, `a: b: ${secret}`, `{password: ${secret}}}`])(
    '13.18: a YAML syntax error in %j does not quote the password',
    (text) => {
      const error = configErrorOf(() => parseYaml(text, 'c.yaml'));
      expect(error.message).toMatch(/YAML syntax error/);
      expect(error.message).not.toContain(secret);
    },
  );
});
