import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { duration } from '../../../shared/config/schema.js';
import { parseYaml, validateConfig } from '../../../shared/config/load.js';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import type { OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import type { MetricRecord } from '../../../shared/record/metric-record.js';
import { normalizeSeverity } from '../../processors/parse/severity.js';
import { AlertEvaluator } from '../evaluator.js';
import { buildPartials } from '../partials.js';
import { RuleSet } from './alert-rule.js';
import { loadRulesFiles } from './config.js';
import { parseSelector } from './selector.js';

/**
 * `tributary rules test FILE`: unit tests for rules, in the spirit of
 * `promtool test rules`. Time 0 is the Unix epoch; input series use
 * promtool's expanding notation (`1+2x3` = 1 3 5 7, `5x2` = 5 5 5, `_` = no
 * sample); input logs are lines at given times. The records run through the
 * same partial aggregation and evaluator as in the collector (with no
 * evaluation delay: time is virtual), and the alerts firing at each
 * `eval_time` are compared with the expected ones.
 */

const seriesInputSchema = z.strictObject({
  series: z.string().min(1),
  values: z.string(),
  /** counter: the values are a cumulative counter (for rate rules). */
  type: z.enum(['gauge', 'counter']).default('gauge'),
});

const logInputSchema = z.strictObject({
  at: duration().default(0),
  /** How many identical lines, `every` apart. */
  count: z.number().int().min(1).default(1),
  every: duration().default(1000),
  severity: z.string().optional(),
  body: z.string().default(''),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  resource: z.record(z.string(), z.string()).default({}),
});

const expectedAlertSchema = z.strictObject({
  exp_labels: z.record(z.string(), z.string()).default({}),
  exp_annotations: z.record(z.string(), z.string()).optional(),
});

const testCaseSchema = z.strictObject({
  name: z.string().default(''),
  /** Spacing of input_series values. */
  interval: duration().default(60_000),
  input_series: z.array(seriesInputSchema).default([]),
  input_logs: z.array(logInputSchema).default([]),
  alert_rule_test: z
    .array(
      z.strictObject({
        eval_time: duration(),
        alertname: z.string().min(1),
        /** The alerts of that name firing at eval_time; empty means none. */
        exp_alerts: z.array(expectedAlertSchema).default([]),
      }),
    )
    .default([]),
});

const testFileSchema = z.strictObject({
  rule_files: z.array(z.string().min(1)).min(1),
  tests: z.array(testCaseSchema).min(1),
});

type TestCase = z.output<typeof testCaseSchema>;

/** promtool's notation: `1+2x3` → 1 3 5 7; `7-1x2` → 7 6 5; `3x2` → 3 3 3; `_` → no sample; `_x3` → four gaps. */
export function expandValues(text: string): Array<number | undefined> {
  const out: Array<number | undefined> = [];
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const gap = /^_(?:x(\d+))?$/.exec(token);
    if (gap) {
      for (let index = 0; index <= Number(gap[1] ?? 0); index++) out.push(undefined);
      continue;
    }
    const series = /^(-?[\d.e+]+?)(?:([+-])([\d.e+]+))?x(\d+)$/.exec(token);
    if (series) {
      const start = Number(series[1]);
      const step = series[3] === undefined ? 0 : Number(series[3]) * (series[2] === '-' ? -1 : 1);
      for (let index = 0; index <= Number(series[4]); index++) out.push(start + step * index);
      continue;
    }
    const value = Number(token);
    if (token === '' || Number.isNaN(value)) throw new Error(`cannot read value "${token}" (expected a number, a+bxn, axn or _)`);
    out.push(value);
  }
  return out;
}

function inputRecords(test: TestCase): OutgoingRecord[] {
  const timed: Array<{ timeMs: number; record: LogRecord | MetricRecord }> = [];
  test.input_series.forEach((input, seriesIndex) => {
    const selector = parseSelector(input.series);
    if (selector.metricName === undefined) throw new Error(`series ${input.series} needs a metric name`);
    const attributes: Record<string, string> = {};
    const resource: Record<string, string> = {};
    for (const matcher of selector.matchers) {
      if (matcher.op !== '=') throw new Error(`series ${input.series}: input labels are written name="value"`);
      // As the collector normalizes scrapes: job and instance describe the target (resource), the rest the series.
      (matcher.name === 'job' || matcher.name === 'instance' ? resource : attributes)[matcher.name] = matcher.value;
    }
    expandValues(input.values).forEach((value, index) => {
      if (value === undefined) return;
      const timeMs = index * test.interval;
      const timestamp = new Date(timeMs).toISOString();
      timed.push({
        timeMs,
        record: {
          schema: 'tributary.metric.v1',
          id: `s${seriesIndex}-${index}`,
          name: selector.metricName as string,
          type: input.type === 'counter' ? 'sum' : 'gauge',
          prometheus_type: input.type,
          ...(input.type === 'counter' ? { is_monotonic: true, aggregation_temporality: 'cumulative' as const } : {}),
          timestamp,
          observed_timestamp: timestamp,
          value,
          attributes,
          resource,
        },
      });
    });
  });
  test.input_logs.forEach((input, inputIndex) => {
    const severity = input.severity === undefined ? undefined : normalizeSeverity(input.severity);
    if (input.severity !== undefined && severity === undefined) throw new Error(`input_logs[${inputIndex}]: unknown severity "${input.severity}"`);
    for (let index = 0; index < input.count; index++) {
      const timeMs = input.at + index * input.every;
      const timestamp = new Date(timeMs).toISOString();
      timed.push({
        timeMs,
        record: {
          schema: 'tributary.log.v1',
          id: `l${inputIndex}-${index}`,
          timestamp,
          observed_timestamp: timestamp,
          severity_number: severity?.number ?? 0,
          ...(severity === undefined ? {} : { severity_text: severity.text }),
          body: input.body,
          attributes: input.attributes,
          resource: input.resource,
        },
      });
    }
  });
  timed.sort((a, b) => a.timeMs - b.timeMs);
  // Records of one instant make one frame, as one scrape does.
  const frameOf = new Map<number, number>();
  return timed.map(({ timeMs, record }) => {
    if (!frameOf.has(timeMs)) frameOf.set(timeMs, frameOf.size);
    return { record, json: '', key: '', origin: { topic: 'test', partition: 0, offset: String(frameOf.get(timeMs)), event: 0 } };
  });
}

/** The test's input aggregated into a fresh evaluator, ready to be evaluated forward in virtual time. */
export function evaluatorFor(rules: RuleSet, records: readonly OutgoingRecord[]): AlertEvaluator {
  const evaluator = new AlertEvaluator(rules, { generator: 'rules-test', evaluationDelayMs: 0 });
  for (const partial of buildPartials(rules, records).partials) evaluator.apply(partial);
  return evaluator;
}

export interface RulesTestResult {
  ok: boolean;
  /** One line per test case, then the differences of the failed ones. */
  report: string;
}

const show = (labels: Readonly<Record<string, string>>): string =>
  `{${Object.keys(labels)
    .sort()
    .map((name) => `${name}="${labels[name] ?? ''}"`)
    .join(', ')}}`;

export async function runRulesTests(file: string): Promise<RulesTestResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TributaryError('CONFIG_UNREADABLE', `cannot read rules test file ${file}: ${errorMessage(error)}`, { cause: error });
  }
  const spec = validateConfig(testFileSchema, parseYaml(text, file), file);
  const rules = new RuleSet(await loadRulesFiles(spec.rule_files.map((ruleFile) => resolve(dirname(file), ruleFile))));
  const lines: string[] = [];
  let failed = 0;
  spec.tests.forEach((test, testIndex) => {
    const name = test.name || `tests[${testIndex}]`;
    const failures: string[] = [];
    let records: OutgoingRecord[];
    try {
      records = inputRecords(test);
    } catch (error) {
      failures.push(`  input: ${errorMessage(error)}`);
      records = [];
    }
    const evaluator = evaluatorFor(rules, records);
    for (const check of [...test.alert_rule_test].sort((a, b) => a.eval_time - b.eval_time)) {
      evaluator.evaluate(check.eval_time);
      const firing = evaluator.firing().filter((alert) => alert.labels.alertname === check.alertname);
      const got = firing.map((alert) => {
        const { alertname: _alertname, ...labels } = alert.labels;
        return { labels, annotations: alert.annotations };
      });
      const unmatched = [...got];
      const missing = check.exp_alerts.filter((expected) => {
        const index = unmatched.findIndex(
          (alert) =>
            show(alert.labels) === show(expected.exp_labels) &&
            (expected.exp_annotations === undefined || show(alert.annotations) === show(expected.exp_annotations)),
        );
        if (index === -1) return true;
        unmatched.splice(index, 1);
        return false;
      });
      if (missing.length === 0 && unmatched.length === 0) continue;
      failures.push(
        `  alertname: ${check.alertname}, time: ${check.eval_time / 1000}s`,
        ...missing.map((alert) => `    expected, not firing: ${show(alert.exp_labels)}${alert.exp_annotations ? ` ${show(alert.exp_annotations)}` : ''}`),
        ...unmatched.map((alert) => `    firing, not expected: ${show(alert.labels)} ${show(alert.annotations)}`),
      );
    }
    if (failures.length > 0) failed++;
    lines.push(`${failures.length === 0 ? 'PASS' : 'FAIL'} ${name}`, ...failures);
  });
  lines.push(failed === 0 ? `${file}: SUCCESS` : `${file}: FAILED (${failed} of ${spec.tests.length} tests)`);
  return { ok: failed === 0, report: lines.join('\n') };
}
