import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateConfig } from '../../../shared/config/load.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import type { MetricRecord } from '../../../shared/record/metric-record.js';
import { expectLinearTime, expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { BUILT_IN_PATTERNS, enrichOperationSchema } from './config.js';
import { adversarialLine, LINEAR_CHECK, slowestUnit } from '../adversarial-lines.js';
import { createEnricher } from './enrich.js';
import { configProblems, logRecord, metricRecord } from '../../../test/helpers/records.js';

const schema = z.strictObject({ enrich: z.array(enrichOperationSchema) });

const problemsOf = (enrich: unknown[]) => configProblems(() => parse(enrich));
const record = (overrides: Partial<LogRecord> = {}) => logRecord({ attributes: { 'log.file.path': '/x.log' }, resource: { 'host.name': 'h' }, ...overrides });

function parse(enrich: unknown[]): z.output<typeof schema>['enrich'] {
  return validateConfig(schema, { enrich }, 'collector.yaml', {}).enrich;
}

function enrich<T extends LogRecord | MetricRecord>(operations: unknown[], input: T): { record: T; redactions: number } {
  const { redactions } = createEnricher(parse(operations))(input);
  return { record: input, redactions };
}

describe('enrich: add', () => {
  it('adds attributes and resource values, keeping existing ones by default', () => {
    const { record: out } = enrich(
      [{ add: { attributes: { team: 'shop', 'log.file.path': 'other' }, resource: { 'deployment.environment': 'prod' } } }],
      record(),
    );
    expect(out.attributes).toEqual({ 'log.file.path': '/x.log', team: 'shop' });
    expect(out.resource).toEqual({ 'host.name': 'h', 'deployment.environment': 'prod' });
  });

  it('replaces existing values with overwrite: true', () => {
    const { record: out } = enrich([{ add: { resource: { 'host.name': 'x' } }, overwrite: true }], record());
    expect(out.resource).toEqual({ 'host.name': 'x' });
  });
});

describe('enrich: rename', () => {
  it('moves a value, splitting the path on the first dot only', () => {
    const { record: out } = enrich([{ rename: { from: 'attributes.log.file.path', to: 'attributes.file.path' } }], record());
    expect(out.attributes).toEqual({ 'file.path': '/x.log' });
  });

  it('moves between attributes and resource, stringifying for the resource', () => {
    const { record: out } = enrich(
      [{ rename: { from: 'attributes.code', to: 'resource.code' } }, { rename: { from: 'resource.host.name', to: 'attributes.host' } }],
      record({ attributes: { code: 7 } }),
    );
    expect(out.attributes).toEqual({ host: 'h' });
    expect(out.resource).toEqual({ code: '7' });
  });

  it('does nothing when the source is missing', () => {
    const { record: out } = enrich([{ rename: { from: 'attributes.nope', to: 'attributes.yes' } }], record());
    expect(out.attributes).toEqual({ 'log.file.path': '/x.log' });
  });
});

describe('enrich: drop', () => {
  it('removes attributes and resource values; missing ones are ignored', () => {
    const { record: out } = enrich([{ drop: ['attributes.log.file.path', 'resource.host.name', 'attributes.absent'] }], record());
    expect(out.attributes).toEqual({});
    expect(out.resource).toEqual({});
  });
});

describe('enrich: redact', () => {
  it('redacts every built-in pattern in the body and string attributes by default, counting matches', () => {
    const { record: out, redactions } = enrich(
      [{ redact: { patterns: ['email', 'bearer_token', 'credit_card', 'ipv4'] } }],
      record({
        body: 'user a.b+c@example.co.uk from 10.0.0.255 paid with 4111 1111 1111 1111 (order 1234567890123)',
        attributes: { header: 'Authorization: Bearer eyJhbGciOi.J9-_x=', port: 8080, ok: true },
        resource: { ip: '10.1.1.1' },
      }),
    );
    // The order number fails the Luhn check and is kept; the resource is not searched by default.
    expect(out.body).toBe('user [REDACTED] from [REDACTED] paid with [REDACTED] (order 1234567890123)');
    expect(out.attributes).toEqual({ header: 'Authorization: Bearer [REDACTED]', port: 8080, ok: true });
    expect(out.resource).toEqual({ ip: '10.1.1.1' });
    expect(redactions).toBe(4);
  });

  it('does not take version numbers or out-of-range octets for addresses', () => {
    const { record: out, redactions } = enrich([{ redact: { patterns: ['ipv4'] } }], record({ body: 'v1.2.3.4.5 and 256.1.1.1 and 192.168.1.1.' }));
    expect(out.body).toBe('v1.2.3.4.5 and 256.1.1.1 and [REDACTED].');
    expect(redactions).toBe(1);
  });

  it('uses custom regexes, a custom replacement and only the listed fields', () => {
    const { record: out, redactions } = enrich(
      [{ redact: { patterns: ['secret=\\w+', 'x*'], fields: ['attributes.query', 'resource.token'], replacement: '***' } }],
      record({ body: 'secret=abc', attributes: { query: 'a=1&secret=s3cr3t&secret=b' }, resource: { token: 'secret=t' } }),
    );
    expect(out.body).toBe('secret=abc');
    expect(out.attributes).toEqual({ query: 'a=1&***&***' });
    expect(out.resource).toEqual({ token: '***' });
    expect(redactions).toBe(3);
  });

  it('gives the same result on every record (global regexes carry no state)', () => {
    const enricher = createEnricher(parse([{ redact: { patterns: ['email'] } }]));
    for (let index = 0; index < 3; index++) {
      const input = record({ body: 'to x@y.io' });
      expect(enricher(input).redactions).toBe(1);
      expect(input.body).toBe('to [REDACTED]');
    }
  });
});

describe('enrich: redact in linear time', () => {
  // Every built-in, so a slow pattern added later fails here without a new test.
  it.each([...BUILT_IN_PATTERNS])('13.8: the %s redactor runs in linear time on its most adversarial line', (pattern) => {
    const redact = createEnricher(parse([{ redact: { patterns: [pattern], fields: ['body'] } }]));
    const run = (line: string) => redact(record({ body: line }));
    const unit = slowestUnit(run);
    expectLinearTime((count) => adversarialLine(unit, count), run, LINEAR_CHECK(unit));
  });

  it('13.8: a 256 KiB line of e-mail or bearer-token bait is redacted in well under a second', () => {
    for (const [pattern, unit] of [
      ['email', 'a'],
      ['bearer_token', ' '],
      ['email', 'a.a@'],
    ] as const) {
      const redact = createEnricher(parse([{ redact: { patterns: [pattern] } }]));
      const line = (pattern === 'bearer_token' ? 'Bearer' : '') + adversarialLine(unit, Math.floor((256 * 1024) / unit.length));
      const started = performance.now();
      redact(record({ body: line }));
      expect(performance.now() - started, `${pattern} on ${JSON.stringify(unit)}`).toBeLessThan(1000);
    }
  });

  it('still redacts e-mail addresses and bearer tokens, keeping the word Bearer', () => {
    const { record: out, redactions } = enrich(
      [{ redact: { patterns: ['email', 'bearer_token'] } }],
      record({ body: 'mail a.b+c@example.co.uk, Authorization: Bearer abc.DEF-123_x/y+z== done' }),
    );
    expect(out.body).toBe('mail [REDACTED], Authorization: Bearer [REDACTED] done');
    expect(redactions).toBe(2);
  });
});

describe('enrich on metric records', () => {
  const metric = () => metricRecord({ attributes: { method: 'GET', pod: 'api-7f9', user: 'ops@example.com' }, resource: { job: 'api' } });

  it('adds, renames and drops attributes (series labels) and resource values', () => {
    const { record: out } = enrich(
      [
        { add: { attributes: { team: 'shop' }, resource: { 'deployment.environment': 'prod' } } },
        { rename: { from: 'attributes.pod', to: 'resource.k8s.pod.name' } },
        { rename: { from: 'resource.job', to: 'attributes.job' } },
        { drop: ['attributes.method'] },
      ],
      metric(),
    );
    expect(out.attributes).toEqual({ user: 'ops@example.com', team: 'shop', job: 'api' });
    expect(out.resource).toEqual({ 'deployment.environment': 'prod', 'k8s.pod.name': 'api-7f9' });
  });

  it('redacts label values by default, and skips body, which metric records do not have', () => {
    expect(enrich([{ redact: { patterns: ['email'] } }], metric())).toMatchObject({ record: { attributes: { user: '[REDACTED]' } }, redactions: 1 });
    const { record: out, redactions } = enrich([{ redact: { patterns: ['email'], fields: ['body', 'attributes.user'] } }], metric());
    expect(out).not.toHaveProperty('body');
    expect(out.attributes.user).toBe('[REDACTED]');
    expect(redactions).toBe(1);
  });
});

describe('enrich config', () => {
  it('applies operations in order', () => {
    const { record: out } = enrich(
      [
        { add: { attributes: { mail: 'ops@example.com' } } },
        { rename: { from: 'attributes.mail', to: 'attributes.contact' } },
        { redact: { patterns: ['email'] } },
      ],
      record({ attributes: {} }),
    );
    expect(out.attributes).toEqual({ contact: '[REDACTED]' });
  });

  it('fills defaults', () => {
    expect(parse([{ add: { attributes: { a: 'b' } } }, { redact: { patterns: ['email'] } }])).toEqual([
      { add: { attributes: { a: 'b' } }, overwrite: false },
      { redact: { patterns: ['email'], replacement: '[REDACTED]' } },
    ]);
  });

  it('reports a custom regex that does not compile on its key', () => {
    const problems = problemsOf([{ redact: { patterns: ['email', '(unclosed'] } }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('enrich[0].redact.patterns[1]');
    expect(problems[0]?.message).toMatch(/^invalid regular expression: Unterminated group/);
  });

  it('rejects bad paths and unknown operations', () => {
    expect(problemsOf([{ drop: ['attributes.a', 'body'] }]).map((problem) => problem.path)).toContain('enrich[0].drop[1]');
    expect(problemsOf([{ rename: { from: 'attributes', to: 'resource.x' } }]).map((problem) => problem.path)).toContain('enrich[0].rename.from');
    expect(problemsOf([{ upsert: { a: 'b' } }])).not.toEqual([]);
  });

  it('13.1: rename/add/drop/redact paths with a __proto__, constructor or prototype segment are config errors on their key', () => {
    const paths = (operations: unknown[]) => problemsOf(operations).map((problem) => problem.path);
    expect(paths([{ rename: { from: 'attributes.x.__proto__.time', to: 'attributes.t' } }])).toContain('enrich[0].rename.from');
    expect(paths([{ rename: { from: 'attributes.t', to: 'resource.constructor.prototype.x' } }])).toContain('enrich[0].rename.to');
    expect(paths([{ drop: ['attributes.prototype'] }])).toContain('enrich[0].drop[0]');
    expect(paths([{ redact: { patterns: ['email'], fields: ['attributes.a.__proto__'] } }])).toContain('enrich[0].redact.fields[0]');
    // zod's record leaves a literal `__proto__` key out of its output: it never reaches a record.
    const added = expectPrototypesUntouched(() => parse([{ add: { attributes: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> } }]));
    expect(added).toEqual([{ add: { attributes: { a: 'b' } }, overwrite: false }]);
    expect(problemsOf([{ add: { resource: { 'a.constructor': 'x' } } }])).not.toEqual([]);
  });

  it('13.1: add and rename see own keys only and never touch a prototype', () => {
    const { record: out } = expectPrototypesUntouched(() =>
      enrich(
        [{ add: { attributes: { toString: 'kept', valueOf: 'v' } } }, { rename: { from: 'attributes.valueOf', to: 'attributes.hasOwnProperty' } }],
        record({ attributes: {} }),
      ),
    );
    // `'toString' in {}` is true: an add guarded by `in` would have skipped it.
    expect(out.attributes).toEqual({ toString: 'kept', hasOwnProperty: 'v' });
  });
});
