/**
 * The cost of alerting, in process (no Kafka): with 100 rules loaded,
 *  - per 1,000 active series: stage one (a scrape's samples → partial
 *    aggregates) and stage two (partials applied, one evaluation round);
 *  - per 10,000 log lines (one second at 10,000 lines/s): the same two stages.
 * Each measured over many simulated seconds after a warm-up; CPU time of this
 * single thread, so "ms per second of data" is also the share of a core.
 *
 *   npm run bench:alerting
 *
 * Prints a table and appends JSON lines to bench/results/alerting-evaluation.ndjson.
 */
import { performance } from 'node:perf_hooks';
import { AlertEvaluator } from '../../collector/alerting/evaluator.js';
import { buildPartials } from '../../collector/alerting/partials.js';
import { RuleSet } from '../../collector/alerting/rules/alert-rule.js';
import { validateRules } from '../../collector/alerting/rules/config.js';
import type { OutgoingRecord } from '../../shared/pipeline/record-sink.js';
import { appendResults, machine, printTable } from '../lib/harness.js';

const RULES = 100;
const METRIC_NAMES = 20;

/** 50 metric rules over 20 metric names (aggregates, group_by, rates) and 50 log rules (severity, matchers, body). */
function ruleSet(): RuleSet {
  const metricRules = Array.from({ length: RULES / 2 }, (_, index) => ({
    alert: `Metric${index}`,
    metric: `bench_metric_${index % METRIC_NAMES}{shard=~"${index % 3}.*"}`,
    aggregate: (['last', 'avg', 'max', 'sum', 'rate'] as const)[index % 5],
    window: '30s',
    ...(index % 2 === 0 ? { group_by: ['instance'] } : {}),
    condition: '> 1e12',
    for: '1m',
  }));
  const logRules = Array.from({ length: RULES / 2 }, (_, index) => ({
    alert: `Log${index}`,
    logs: {
      severity_at_least: (['WARN', 'ERROR'] as const)[index % 2],
      match: [`service.name="svc-${index % 10}"`],
      ...(index % 3 === 0 ? { body_regex: `timeout|refused ${index}` } : {}),
    },
    window: '1m',
    group_by: ['host.name'],
    condition: '> 1e9',
  }));
  return new RuleSet(validateRules({ groups: [{ name: 'bench', interval: '10s', rules: [...metricRules, ...logRules] }] }, 'bench rules'));
}

function seriesRecords(series: number, second: number, offset: number): OutgoingRecord[] {
  const timestamp = new Date(Date.UTC(2026, 10, 24) + second * 1000).toISOString();
  return Array.from({ length: series }, (_, index) => ({
    record: {
      schema: 'tributary.metric.v1' as const,
      id: `${index}-${second}`,
      name: `bench_metric_${index % METRIC_NAMES}`,
      type: 'sum' as const,
      prometheus_type: 'counter' as const,
      timestamp,
      observed_timestamp: timestamp,
      value: second * 10 + index,
      attributes: { shard: String(index % 7), path: `/api/${index % 50}` },
      resource: { job: 'bench', instance: `host-${index % 40}:9100` },
    },
    json: '',
    key: '',
    origin: { topic: 'raw', partition: index % 6, offset: String(offset), event: 0 },
  }));
}

function logRecords(lines: number, second: number, offset: number): OutgoingRecord[] {
  return Array.from({ length: lines }, (_, index) => {
    const timestamp = new Date(Date.UTC(2026, 10, 24) + second * 1000 + (index % 1000)).toISOString();
    return {
      record: {
        schema: 'tributary.log.v1' as const,
        id: `${index}-${second}`,
        timestamp,
        observed_timestamp: timestamp,
        severity_number: [9, 13, 17][index % 3] as number,
        body: index % 5 === 0 ? `upstream timeout after ${index} ms` : `GET /api/${index % 50} 200`,
        attributes: { 'http.route': `/api/${index % 50}` },
        resource: { 'service.name': `svc-${index % 10}`, 'host.name': `host-${index % 40}` },
      },
      json: '',
      key: '',
      origin: { topic: 'raw', partition: index % 6, offset: String(offset + Math.floor(index / 500)), event: index % 500 },
    };
  });
}

interface Measured {
  stage1Ms: number;
  stage2Ms: number;
  partials: number;
  alerts: number;
}

/** `seconds` simulated seconds of `make(second)`; stage one per second, stage two (apply + evaluate) per second too. */
function measure(rules: RuleSet, seconds: number, make: (second: number, offset: number) => OutgoingRecord[]): Measured {
  const evaluator = new AlertEvaluator(rules, { generator: 'bench', evaluationDelayMs: 0 });
  const warmup = 5;
  let stage1 = 0;
  let stage2 = 0;
  let partials = 0;
  let offset = 0;
  for (let second = 0; second < warmup + seconds; second++) {
    const records = make(second, offset);
    offset += 100;
    const cpu1 = process.cpuUsage();
    const built = buildPartials(rules, records).partials;
    const cpu2 = process.cpuUsage();
    // Partials travel as JSON through Kafka; parsing them is stage two's share of that.
    for (const partial of built) evaluator.apply(JSON.parse(JSON.stringify(partial)) as typeof partial);
    evaluator.evaluate(Date.UTC(2026, 10, 24) + second * 1000);
    const cpu3 = process.cpuUsage();
    if (second < warmup) continue;
    stage1 += (cpu2.user + cpu2.system - cpu1.user - cpu1.system) / 1000;
    stage2 += (cpu3.user + cpu3.system - cpu2.user - cpu2.system) / 1000;
    partials += built.length;
  }
  return { stage1Ms: stage1 / seconds, stage2Ms: stage2 / seconds, partials: partials / seconds, alerts: evaluator.size };
}

const rules = ruleSet();
const started = performance.now();
const series = measure(rules, 60, (second, offset) => seriesRecords(1000, second, offset));
const logs = measure(rules, 30, (second, offset) => logRecords(10_000, second, offset));
const results = [
  { bench: 'alerting-evaluation', case: '1,000 active series, 1 sample/s each', rules: RULES, ...series, ...machine(), at: new Date().toISOString() },
  { bench: 'alerting-evaluation', case: '10,000 log lines/s', rules: RULES, ...logs, ...machine(), at: new Date().toISOString() },
];
printTable(
  ['case (100 rules)', 'stage 1 ms/s', 'stage 2 ms/s', 'total ms per second of data', 'partials/s', 'alerts tracked'],
  results.map((result) => [
    result.case,
    result.stage1Ms.toFixed(2),
    result.stage2Ms.toFixed(2),
    (result.stage1Ms + result.stage2Ms).toFixed(2),
    Math.round(result.partials),
    result.alerts,
  ]),
);
process.stdout.write(`(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
await appendResults('alerting-evaluation.ndjson', results);
