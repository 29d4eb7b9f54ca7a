import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectLinearTime } from '../../../../shared/test-support/boundary-contract.js';
import type { MetricFamily } from '../../../metric-families/families.js';
import { MAX_STORED_PROBLEMS, formatFromContentType, parseExposition, type ExpositionFormat, type ParsedExposition } from './exposition-parser.js';
import { parseGoFloat } from './go-float.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
/** `UPDATE_EXPOSITION_CORPUS=1 npx vitest run --project unit <this file>` rewrites the expected files; review the diff, then prettier them. */
const UPDATE = process.env.UPDATE_EXPOSITION_CORPUS === '1';

/** JSON for a parse result: non-finite numbers as "NaN", "+Inf", "-Inf" and negative zero as "-0", which JSON cannot hold. */
function toJson(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return '+Inf';
    if (value === -Infinity) return '-Inf';
    return Object.is(value, -0) ? '-0' : value;
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, toJson(member)]));
  return value;
}

/** One corpus case: `<name>.prom` (text format) or `<name>.om` (OpenMetrics), and what it parses to in `<that file>.json`. */
interface CorpusCase {
  file: string;
  format: ExpositionFormat;
  text: string;
  expectedPath: string;
}

/**
 * What `<name>.json` holds. Small cases list every family; real captures
 * (`summary` present) give counts and a few families checked in full, by name.
 */
interface Expected {
  description: string;
  samples: number;
  problemCount: number;
  problems: unknown[];
  families?: unknown[];
  summary?: Summary;
  spotChecks?: unknown[];
}

interface Summary {
  families: number;
  series: number;
  familiesByType: Record<string, number>;
  seriesByKind: Record<string, number>;
}

function corpus(): CorpusCase[] {
  return readdirSync(TESTDATA)
    .filter((file) => file.endsWith('.prom') || file.endsWith('.om'))
    .sort()
    .map((file) => ({
      file,
      format: file.endsWith('.om') ? 'openmetrics' : 'prometheus-text',
      text: readFileSync(join(TESTDATA, file), 'utf8'),
      expectedPath: join(TESTDATA, `${file}.json`),
    }));
}

function summarize(families: readonly MetricFamily[]): Summary {
  const familiesByType: Record<string, number> = {};
  const seriesByKind: Record<string, number> = {};
  let series = 0;
  for (const family of families) {
    familiesByType[family.type] = (familiesByType[family.type] ?? 0) + 1;
    for (const member of family.series) {
      seriesByKind[member.kind] = (seriesByKind[member.kind] ?? 0) + 1;
      series++;
    }
  }
  return { families: families.length, series, familiesByType, seriesByKind };
}

function spotCheckNames(expected: Expected): string[] {
  return (expected.spotChecks ?? []).map((family) => (family as { name: string }).name);
}

function actualFor(parsed: ParsedExposition, expected: Expected): Expected {
  const head = {
    description: expected.description,
    samples: parsed.samples,
    problemCount: parsed.problemCount,
    problems: toJson(parsed.problems) as unknown[],
  };
  if (expected.summary === undefined) return { ...head, families: toJson(parsed.families) as unknown[] };
  const names = spotCheckNames(expected);
  const spotChecks = names.map((name) => toJson(parsed.families.find((family) => family.name === name)));
  return { ...head, summary: summarize(parsed.families), spotChecks };
}

describe('exposition corpus (testdata/)', () => {
  const cases = corpus();

  it('has the cases this suite promises', () => {
    expect(cases.map((entry) => entry.file)).toEqual([
      'node-exporter-1.5.prom',
      'om-after-eof.om',
      'om-basic.om',
      'om-malformed.om',
      'om-missing-eof.om',
      'prometheus-2.42-self.prom',
      'python-client-0.16.om',
      'python-client-0.16.prom',
      'text-basic.prom',
      'text-grouping.prom',
      'text-histogram.prom',
      'text-malformed.prom',
      'text-summary.prom',
      'text-values.prom',
    ]);
  });

  for (const entry of cases) {
    const label = `${entry.file} (${entry.format})`;

    it(`parses ${label} as expected`, () => {
      const expected = JSON.parse(readFileSync(entry.expectedPath, 'utf8')) as Expected;
      const actual = actualFor(parseExposition(entry.text, entry.format), expected);
      if (UPDATE) {
        writeFileSync(entry.expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
        return;
      }
      expect(actual).toStrictEqual(expected);
    });

    it(`parses ${label} with CRLF line endings exactly as with LF`, () => {
      const withLf = parseExposition(entry.text, entry.format);
      const withCrlf = parseExposition(entry.text.replaceAll('\n', '\r\n'), entry.format);
      expect(toJson(withCrlf)).toStrictEqual(toJson(withLf));
    });
  }
});

/**
 * The same exposition with every other sample line written unusually (blanks
 * around `{` and before commas), which the fast paths that compare a line with
 * the one before do not take: the result must not change.
 */
function respaced(text: string): string {
  let sample = 0;
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('#') || !line.includes('{') || line.includes('\\"') || sample++ % 2 === 1) return line;
      return line.replace('{', ' { ').replaceAll('",', '" ,');
    })
    .join('\n');
}

function comparable(parsed: ParsedExposition): unknown {
  return toJson({
    families: parsed.families,
    samples: parsed.samples,
    problemCount: parsed.problemCount,
    lines: parsed.problems.map((problem) => problem.line),
  });
}

describe('fast paths', () => {
  for (const entry of corpus()) {
    it(`give what the general path gives for ${entry.file}`, () => {
      const changed = respaced(entry.text);
      expect(changed).not.toBe(entry.text);
      expect(comparable(parseExposition(changed, entry.format))).toStrictEqual(comparable(parseExposition(entry.text, entry.format)));
    });
  }

  it('unescape label values on lines that repeat the label names of the line before', () => {
    const { families } = parseExposition(
      ['m{a="plain",b="1"} 1', 'm{a="with \\"quotes\\"",b="2"} 2', 'm{a="back\\\\slash",b="3"} 3'].join('\n'),
      'prometheus-text',
    );
    expect(families[0]?.series.map((series) => series.labels)).toStrictEqual([
      { a: 'plain', b: '1' },
      { a: 'with "quotes"', b: '2' },
      { a: 'back\\slash', b: '3' },
    ]);
  });

  it('find a duplicate label whose name the line before had at the same position', () => {
    const parsed = parseExposition(['m{a="1",b="2"} 1', 'm{b="1",b="2"} 2', 'm{a="1",b="2",a="3"} 3'].join('\n'), 'prometheus-text');
    expect(parsed.samples).toBe(1);
    expect(parsed.problems.map((problem) => [problem.line, problem.reason])).toStrictEqual([
      [2, 'duplicate label name "b"'],
      [3, 'duplicate label name "a"'],
    ]);
  });

  it('give what the general path gives for histograms and summaries of many series', () => {
    const lines: string[] = ['# TYPE h histogram'];
    for (let index = 0; index < 300; index++) {
      const labels = `job="j${index % 7}",pod="p${index}"`;
      // Every fifth series repeats an earlier one's labels, so its lines join that series out of order.
      const same = index % 5 === 4 ? `job="j${(index - 4) % 7}",pod="p${index - 4}"` : labels;
      for (const le of ['0.1', '1', '10', '+Inf'])
        lines.push(`h_bucket{${same},le="${le === '+Inf' ? le : String(Number(le) * (index % 5 === 4 ? 2 : 1))}"} ${index}`);
      lines.push(`h_sum{${same}} ${index / 2}`, `h_count{${same}} ${index}`);
    }
    lines.push('# TYPE s summary');
    for (let index = 0; index < 100; index++) {
      for (const quantile of ['0.5', '0.9']) lines.push(`s{pod="p${index}",quantile="${quantile}"} ${index}`);
      lines.push(`s_sum{pod="p${index}"} 1`, `s_count{pod="p${index}"} 2`);
    }
    const text = lines.join('\n');
    const parsed = parseExposition(text, 'prometheus-text');
    expect(parsed.samples).toBe(300 * 6 + 100 * 4);
    expect(parsed.families.map((family) => family.series.length)).toEqual([240, 100]);
    expect(comparable(parseExposition(respaced(text), 'prometheus-text'))).toStrictEqual(comparable(parsed));
  });
});

describe('parseExposition', () => {
  it('keeps labels in exposition order, le and quantile left out', () => {
    const { families } = parseExposition(
      [
        '# TYPE h histogram',
        'h_bucket{z="1",le="1",a="2"} 1',
        'h_bucket{z="1",le="+Inf",a="2"} 1',
        '# TYPE s summary',
        's{quantile="0.5",b="1",a="2"} 1',
        'g{c="1",b="2",a="3"} 1',
      ].join('\n'),
      'prometheus-text',
    );
    expect(families.map((family) => family.series.map((series) => Object.keys(series.labels)))).toEqual([[['z', 'a']], [['b', 'a']], [['c', 'b', 'a']]]);
  });

  it('stores a __proto__ label as an own property instead of replacing the prototype', () => {
    const [family] = parseExposition('x{__proto__="p",a="b"} 1\n', 'prometheus-text').families;
    const labels = family?.series[0]?.labels ?? {};
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.entries(labels)).toEqual([
      ['__proto__', 'p'],
      ['a', 'b'],
    ]);
  });

  it('parses a last line without a newline', () => {
    const parsed = parseExposition('a 1\nb 2', 'prometheus-text');
    expect(parsed.samples).toBe(2);
    expect(parsed.families.map((family) => family.name)).toEqual(['a', 'b']);
  });

  it('reads an empty text exposition as empty, and an empty OpenMetrics one as missing # EOF on line 1', () => {
    expect(parseExposition('', 'prometheus-text')).toStrictEqual({ families: [], samples: 0, problems: [], problemCount: 0 });
    expect(parseExposition('', 'openmetrics')).toStrictEqual({
      families: [],
      samples: 0,
      problems: [{ line: 1, reason: 'missing # EOF', text: '' }],
      problemCount: 1,
    });
    expect(parseExposition('a 1\n', 'openmetrics').problems).toStrictEqual([{ line: 2, reason: 'missing # EOF', text: '' }]);
  });

  it('stores the first 100 problems and counts them all', () => {
    const lines = ['good 1'];
    for (let index = 0; index < 250; index++) lines.push(`bad{ ${index}`);
    lines.push('good 2');
    const parsed = parseExposition(lines.join('\n'), 'prometheus-text');
    expect(parsed.samples).toBe(2);
    expect(parsed.problemCount).toBe(250);
    expect(parsed.problems).toHaveLength(MAX_STORED_PROBLEMS);
    expect(parsed.problems[0]).toStrictEqual({ line: 2, reason: 'expected a label name', text: 'bad{ 0' });
    expect(parsed.problems[99]).toStrictEqual({ line: 101, reason: 'expected a label name', text: 'bad{ 99' });
  });

  it('cuts the line quoted in a problem to 200 characters and a quoted token to 40', () => {
    const value = 'x'.repeat(300);
    const [problem] = parseExposition(`metric ${value}\n`, 'prometheus-text').problems;
    expect(problem?.text).toBe(`metric ${value}`.slice(0, 200));
    expect(problem?.reason).toBe(`invalid value "${'x'.repeat(40)}…"`);
  });

  it('stays linear on a line with thousands of labels', () => {
    const labels = Array.from({ length: 20_000 }, (_, index) => `l${index}="v${index}"`);
    const started = performance.now();
    const parsed = parseExposition(`wide{${labels.join(',')}} 1\nwide{${labels.join(',')},l7="again"} 2\n`, 'prometheus-text');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(parsed.samples).toBe(1);
    expect(Object.keys(parsed.families[0]?.series[0]?.labels ?? {})).toHaveLength(20_000);
    expect(parsed.problems.map((problem) => [problem.line, problem.reason])).toStrictEqual([[2, 'duplicate label name "l7"']]);
  });

  /** `count` histogram (or summary) series whose labels differ only in their names, each series' _sum after all buckets. */
  function sameValuesDifferentNames(count: number, type: 'histogram' | 'summary'): string {
    const lines = [`# TYPE h ${type}`];
    const member = type === 'histogram' ? 'h_bucket' : 'h';
    const bound = type === 'histogram' ? 'le="1"' : 'quantile="0.5"';
    for (let index = 0; index < count; index++) lines.push(`${member}{l${index}="v",${bound}} ${index}`);
    for (let index = 0; index < count; index++) lines.push(`h_sum{l${index}="v"} ${index}`);
    return `${lines.join('\n')}\n`;
  }

  it('13.5: groups histogram and summary series by label names and values, in linear time', () => {
    for (const type of ['histogram', 'summary'] as const) {
      const parsed = parseExposition(sameValuesDifferentNames(3, type), 'prometheus-text');
      expect(parsed.problemCount).toBe(0);
      expect(parsed.families[0]?.series.map((series) => [series.labels, series.kind === 'value' ? series.value : series.sum])).toStrictEqual([
        [{ l0: 'v' }, 0],
        [{ l1: 'v' }, 1],
        [{ l2: 'v' }, 2],
      ]);
      // Before the fix every series shared one hash chain: 40k series (2 MB) took 25 s, 4× the input 16× the time.
      expectLinearTime(
        (size) => sameValuesDifferentNames(size, type),
        (text) => parseExposition(text, 'prometheus-text'),
        {
          // A base long enough that a scavenge more or less on a loaded machine does not decide the ratio.
          minBaseMs: 100,
          maxBaseSize: 1 << 16,
          // Quadratic grouping gives ×16. Every series here has label names no other has, so V8 makes a hidden class per
          // labels object, which is itself slightly worse than linear (×6-9 measured under load, ×3.5 for the same parse
          // with prototype-free labels); the bound leaves room for that and still fails the chained grouping.
          maxRatio: 11,
        },
      );
    }
  }, 120_000);

  it('unescapes long label values and help text like short ones, in linear time', () => {
    const escaped = 'a\\\\b\\"c\\nd\\x'.repeat(300);
    const parsed = parseExposition(`# HELP m ${escaped}\nm{v="${escaped}"} 1\n`, 'prometheus-text');
    expect(parsed.problemCount).toBe(0);
    expect(parsed.families[0]?.series[0]?.labels.v).toBe('a\\b"c\nd\\x'.repeat(300));
    // The text format's help keeps \" as it is.
    expect(parsed.families[0]?.help).toBe('a\\b\\"c\nd\\x'.repeat(300));
    // A 1.5 MB HELP line of escapes took 0.8 s where a quarter of it took 7 ms (one rope level per escape).
    expectLinearTime(
      (size) => `# HELP a ${'\\n\\\\'.repeat(size * 8)}\na 1\n`,
      (text) => parseExposition(text, 'prometheus-text'),
      {
        minBaseMs: 30,
        maxRatio: 9,
      },
    );
  });

  it('finds duplicates among many labels whichever line came before', () => {
    const names = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index}="v"`);
    const lines = [
      `m{${names(40, 'a').join(',')}} 1`,
      // The same first 40 names, then new ones: the first 40 take the fast path, the rest are checked against all.
      `m{${[...names(40, 'a'), ...names(10, 'b')].join(',')}} 2`,
      `m{${[...names(40, 'a'), 'x="1"', 'a3="again"'].join(',')}} 3`,
      `m{${[...names(35, 'c'), 'x="1"', 'y="1"', 'z="1"'].join(',')}} 4`,
    ];
    const parsed = parseExposition(lines.join('\n'), 'prometheus-text');
    expect(parsed.samples).toBe(3);
    expect(parsed.problems.map((problem) => [problem.line, problem.reason])).toStrictEqual([[3, 'duplicate label name "a3"']]);
  });

  it('sorts out-of-order buckets and drops a repeated one', () => {
    const parsed = parseExposition(
      ['# TYPE h histogram', 'h_bucket{le="+Inf"} 3', 'h_bucket{le="2"} 2', 'h_bucket{le="2"} 9', 'h_bucket{le="1"} 1'].join('\n'),
      'prometheus-text',
    );
    expect(parsed.families[0]?.series[0]).toStrictEqual({
      kind: 'histogram',
      name: 'h',
      labels: {},
      buckets: [
        { le: 1, count: 1 },
        { le: 2, count: 2 },
        { le: Infinity, count: 3 },
      ],
    });
    expect(parsed.samples).toBe(3);
    expect(parsed.problems).toStrictEqual([{ line: 4, reason: 'repeated bucket le=2', text: 'h_bucket{le="2"} 9' }]);
  });

  it('rounds OpenMetrics timestamps to the millisecond', () => {
    const { families } = parseExposition('a 1 1520879607.789\nb 1 0.001\nc 1 -1.5\n# EOF\n', 'openmetrics');
    expect(families.map((family) => family.series[0]?.timestampMs)).toEqual([1520879607789, 1, -1500]);
  });

  it('parses a large exposition with exact counts', () => {
    const lines: string[] = ['# TYPE requests_total counter'];
    for (let index = 0; index < 5000; index++) lines.push(`requests_total{pod="p${index % 50}",path="/r/${index}"} ${index}`);
    lines.push('# TYPE latency_seconds histogram');
    for (let index = 0; index < 500; index++) {
      for (const le of ['0.1', '1', '+Inf']) lines.push(`latency_seconds_bucket{path="/r/${index}",le="${le}"} ${index}`);
      lines.push(`latency_seconds_sum{path="/r/${index}"} ${index * 0.5}`, `latency_seconds_count{path="/r/${index}"} ${index}`);
    }
    const parsed = parseExposition(lines.join('\n'), 'prometheus-text');
    expect(parsed.samples).toBe(5000 + 500 * 5);
    expect(parsed.problemCount).toBe(0);
    expect(parsed.families.map((family) => [family.name, family.series.length])).toEqual([
      ['requests_total', 5000],
      ['latency_seconds', 500],
    ]);
    expect(parsed.families[0]?.series[4999]).toStrictEqual({ kind: 'value', name: 'requests_total', labels: { pod: 'p49', path: '/r/4999' }, value: 4999 });
    expect(parsed.families[1]?.series[499]).toStrictEqual({
      kind: 'histogram',
      name: 'latency_seconds',
      labels: { path: '/r/499' },
      buckets: [
        { le: 0.1, count: 499 },
        { le: 1, count: 499 },
        { le: Infinity, count: 499 },
      ],
      sum: 249.5,
      count: 499,
    });
  });

  it('never throws on mangled input, and accounts for every line it drops', () => {
    const source = readFileSync(join(TESTDATA, 'om-basic.om'), 'utf8') + readFileSync(join(TESTDATA, 'text-histogram.prom'), 'utf8');
    const alphabet = ' \t\n{}",=#\\_:.+-eE0123456789abcINFNaN';
    let seed = 12345;
    const random = (): number => {
      // xorshift32: deterministic, so a failure reproduces.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < 300; round++) {
      const chars = Array.from(source);
      for (let edit = 0; edit < 1 + Math.floor(random() * 8); edit++) {
        const at = Math.floor(random() * chars.length);
        const replacement = alphabet[Math.floor(random() * alphabet.length)] ?? '';
        if (random() < 0.3) chars.splice(at, 1);
        else chars.splice(at, random() < 0.5 ? 1 : 0, replacement);
      }
      const mangled = chars.join('');
      for (const format of ['prometheus-text', 'openmetrics'] as const) {
        const parsed = parseExposition(mangled, format);
        const lines = mangled.split('\n').length;
        const problemLines = new Set(parsed.problems.map((problem) => problem.line));
        expect(parsed.samples + problemLines.size).toBeLessThanOrEqual(lines + 1);
        expect(parsed.problemCount).toBe(parsed.problems.length);
        for (const family of parsed.families) expect(family.series.length).toBeGreaterThan(0);
      }
    }
    // 600 parses: about a second alone, several on a loaded machine; the default 5 s is for single cases.
  }, 30_000);
});

describe('parseGoFloat', () => {
  const read = (token: string): number | undefined => parseGoFloat(`<${token}>`, 1, token.length + 1);

  it.each([
    ['0', 0],
    ['-0', -0],
    ['42', 42],
    ['-17.25', -17.25],
    ['+3', 3],
    ['1.', 1],
    ['.5', 0.5],
    ['-.5e1', -5],
    ['1e3', 1000],
    ['1E+06', 1e6],
    ['2.5e-3', 0.0025],
    ['0.1', 0.1],
    ['0.3', 0.3],
    ['123456789012345678', 123456789012345680],
    ['9007199254740993', 9007199254740992],
    // Seventeen digits, one past what a double holds: the nearest double prints shorter.
    ['0.0013463839999999998', 0.0013463839999999997],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['4.9e-324', 5e-324],
    ['1e-400', 0],
    ['1e22', 1e22],
    ['1e23', 1e23],
    ['Inf', Infinity],
    ['+inf', Infinity],
    ['-Inf', -Infinity],
    ['INFINITY', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
    ['nan', NaN],
  ])('reads %s', (token, expected) => {
    expect(read(token)).toBe(expected);
  });

  it.each([
    '',
    '+',
    '-',
    '.',
    'e5',
    '1e',
    '1e+',
    '1.2.3',
    '0x10',
    '0x1p-2',
    '1_000',
    '+NaN',
    '-nan',
    'Infin',
    'infinityy',
    '1e400',
    '-1e400',
    '12a',
    ' 1',
    '1 ',
    'NaNa',
  ])('refuses %j as Go does', (token) => {
    expect(read(token)).toBeUndefined();
  });

  it('matches Number() on many generated decimals', () => {
    let seed = 7;
    for (let index = 0; index < 20_000; index++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const mantissa = String(seed).slice(0, 1 + (seed % 17));
      const point = seed % (mantissa.length + 1);
      const exponent = (seed % 61) - 30;
      const token = `${mantissa.slice(0, point)}.${mantissa.slice(point)}e${exponent}`.replace(/^\./, '0.');
      expect(read(token)).toBe(Number(token));
    }
  });
});

describe('formatFromContentType', () => {
  it.each([
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['Application/OpenMetrics-Text', 'openmetrics'],
    [' application/openmetrics-text ;version=0.0.1', 'openmetrics'],
    ['text/plain; version=0.0.4; charset=utf-8', 'prometheus-text'],
    ['application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily', 'prometheus-text'],
    ['', 'prometheus-text'],
    [undefined, 'prometheus-text'],
  ])('%j → %s', (contentType, format) => {
    expect(formatFromContentType(contentType)).toBe(format);
  });
});
