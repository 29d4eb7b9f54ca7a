import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { MetricRecord } from '../../shared/record/metric-record.js';
import { AlertEvaluator } from './evaluator.js';
import { buildPartials, type AlertPartial } from './partials.js';
import { RuleSet } from './rules/alert-rule.js';
import { validateRules } from './rules/config.js';

const rules = new RuleSet(
  validateRules(
    {
      groups: [
        {
          name: 'logs',
          interval: '1s',
          rules: [
            {
              alert: 'Errors',
              logs: { severity_at_least: 'ERROR' },
              group_by: ['service.name'],
              window: '5s',
              condition: '>= 20',
              for: '3s',
              annotations: { summary: '{{ $labels.service_name }}: {{ $value }}' },
            },
          ],
        },
        {
          name: 'metrics',
          interval: '1s',
          rules: [
            { alert: 'Requests', metric: 'requests_total', aggregate: 'rate', group_by: ['job'], window: '4s', condition: '> 5' },
            { alert: 'Gone', metric: 'up', group_by: ['instance'], absent: true, window: '3s' },
          ],
        },
      ],
    },
    'test.yaml',
  ),
);

const BASE = Date.parse('2026-11-24T00:00:00Z');

function log(service: string, atMs: number, severity = 17): LogRecord {
  const timestamp = new Date(BASE + atMs).toISOString();
  return {
    schema: 'tributary.log.v1',
    id: `${service}${atMs}`,
    timestamp,
    observed_timestamp: timestamp,
    severity_number: severity,
    body: 'x',
    attributes: {},
    resource: { 'service.name': service },
  };
}

function sample(name: string, labels: Record<string, string>, atMs: number, value: number): MetricRecord {
  const timestamp = new Date(BASE + atMs).toISOString();
  return {
    schema: 'tributary.metric.v1',
    id: `${name}${atMs}`,
    name,
    type: 'gauge',
    prometheus_type: 'gauge',
    timestamp,
    observed_timestamp: timestamp,
    value,
    attributes: {},
    resource: labels,
  };
}

/** Records spread over `partitions` sources (by a hash of the service/instance, as agents key frames), `perFrame` records to a frame. */
function spread(records: ReadonlyArray<LogRecord | MetricRecord>, partitions: number, perFrame: number): OutgoingRecord[][] {
  const bySource = new Map<number, OutgoingRecord[]>();
  for (const record of records) {
    const text = JSON.stringify(record.resource);
    let hash = 7;
    for (let index = 0; index < text.length; index++) hash = (hash * 31 + text.charCodeAt(index)) % 1_000_003;
    const owner = hash % partitions;
    const list = bySource.get(owner) ?? [];
    list.push({
      record,
      json: '',
      key: '',
      origin: { topic: 'raw', partition: owner, offset: String(Math.floor(list.length / perFrame)), event: list.length % perFrame },
    });
    bySource.set(owner, list);
  }
  return [...bySource.values()];
}

function workload(): Array<LogRecord | MetricRecord> {
  const records: Array<LogRecord | MetricRecord> = [];
  for (let ms = 0; ms < 20_000; ms += 100) {
    // api: 10 errors/s, then 2/s after 10 s; web: 3/s throughout; info lines never count.
    if (ms < 10_000 || ms % 500 === 0) records.push(log('api', ms));
    if (ms % 300 === 0) records.push(log('web', ms));
    records.push(log('api', ms, 9));
  }
  for (let second = 0; second < 20; second++) {
    for (const instance of ['a', 'b', 'c']) {
      // Each instance counts 4/s; instance b restarts (counter reset) at 8 s; instance c disappears at 12 s.
      if (instance === 'c' && second >= 12) continue;
      const value = instance === 'b' && second >= 8 ? (second - 8) * 4 : second * 4;
      records.push(sample('requests_total', { job: 'api', instance }, second * 1000, value));
      records.push(sample('up', { job: 'api', instance }, second * 1000, 1));
    }
  }
  // Sources send in time order.
  return records.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}

/** Partials of each source in its order, `stepSize` records a step (not a multiple of the frame size: a frame may span steps). */
function partialsOf(sources: OutgoingRecord[][], stepSize: number): AlertPartial[][] {
  return sources.map((source) => {
    const steps: AlertPartial[] = [];
    for (let start = 0; start < source.length; start += stepSize) steps.push(...buildPartials(rules, source.slice(start, start + stepSize)).partials);
    return steps;
  });
}

function run(perSource: AlertPartial[][], replay = false): string[] {
  const evaluator = new AlertEvaluator(rules, { generator: 't', evaluationDelayMs: 0 });
  // Round-robin across sources: a different interleaving from source-by-source.
  const longest = Math.max(...perSource.map((list) => list.length));
  for (let index = 0; index < longest; index++) {
    for (const list of perSource) {
      const partial = list[index];
      if (partial === undefined) continue;
      evaluator.apply(partial);
      if (replay) evaluator.apply(partial);
    }
  }
  return evaluator
    .evaluate(BASE + 30_000)
    .map((alert) => `${alert.changed_at} ${alert.rule} ${alert.state} ${JSON.stringify(alert.labels)} ${alert.value} ${JSON.stringify(alert.annotations)}`);
}

describe('AlertEvaluator', () => {
  const records = workload();
  const reference = run(partialsOf(spread(records, 1, 50), 1000));

  it('raises the alerts the records call for', () => {
    expect(reference.filter((line) => line.includes('logs/Errors'))).toEqual([
      // 10 + 3.33 errors/s: the 5 s window reaches 20 for api at 2 s; pending for 3 s, then firing.
      expect.stringMatching(/^2026-11-24T00:00:02.000Z logs\/Errors pending .*"service_name":"api".* 20 /),
      expect.stringMatching(/^2026-11-24T00:00:05.000Z logs\/Errors firing .*"api".* 50 .*"api: 50"/),
      // after 10 s api logs 2 errors/s: the window falls below 20 at 14 s.
      expect.stringMatching(/^2026-11-24T00:00:14.000Z logs\/Errors resolved .*"api"/),
      // web's 3.33/s reaches 17 in 5 s, never 20.
    ]);
    const requests = reference.filter((line) => line.includes('metrics/Requests')).sort();
    // Increases between the samples in the 4 s window over 4 s: 3 instances × 2 × 4 / 4 s = 6/s at 3 s. b's reset
    // (to 0 at 8 s) is not a drop; c leaving at 12 s keeps 2 × 3 × 4 / 4 = 6; once data ends (20 s) it falls to 4.
    expect(requests).toEqual([
      expect.stringMatching(/^2026-11-24T00:00:03.000Z metrics\/Requests firing .* 6 /),
      expect.stringMatching(/^2026-11-24T00:00:21.000Z metrics\/Requests resolved /),
    ]);
    const gone = reference.filter((line) => line.includes('metrics/Gone')).sort();
    expect(gone).toEqual([
      expect.stringMatching(/^2026-11-24T00:00:15.000Z metrics\/Gone firing .*"instance":"c"/),
      expect.stringMatching(/^2026-11-24T00:00:23.000Z metrics\/Gone firing .*"instance":"a"/),
      expect.stringMatching(/^2026-11-24T00:00:23.000Z metrics\/Gone firing .*"instance":"b"/),
    ]);
  });

  it('gives the same alerts however records are spread over partitions, frames and steps', () => {
    // Alerts of different keys come out in no particular order; each key's changes are in time order.
    expect(run(partialsOf(spread(records, 3, 7), 49)).sort()).toEqual([...reference].sort());
    expect(run(partialsOf(spread(records, 6, 1), 13)).sort()).toEqual([...reference].sort());
  });

  it('ignores replayed partials (a step re-consumed after a crash)', () => {
    expect(run(partialsOf(spread(records, 3, 7), 49), true).sort()).toEqual([...reference].sort());
  });

  it('applies every part of a frame spread over steps, and skips exactly the parts replayed', () => {
    // 50-record frames in 17-record steps: most frames reach the evaluator in three or four parts.
    expect(run(partialsOf(spread(records, 3, 50), 17)).sort()).toEqual([...reference].sort());
    expect(run(partialsOf(spread(records, 3, 50), 17), true).sort()).toEqual([...reference].sort());
  });

  it('reads a checkpoint written before event indices (an offset alone) as whole frames applied', () => {
    const evaluator = new AlertEvaluator(rules, { generator: 't', evaluationDelayMs: 0 });
    const origin = (offset: string, event: number) => ({ topic: 'raw', partition: 0, offset, event });
    const [first] = buildPartials(rules, [{ record: log('api', 0), json: '', key: '', origin: origin('4', 0) }]).partials;
    if (first === undefined) throw new Error('no partial');
    evaluator.apply(first);
    const [[id, state]] = evaluator.takeDirty() as [[string, NonNullable<ReturnType<AlertEvaluator['takeDirty']>[number][1]>]];
    expect(state.applied).toEqual({ 'raw/0': '4-0' });
    const restored = new AlertEvaluator(rules, { generator: 't', evaluationDelayMs: 0 });
    restored.restore(id, { ...structuredClone(state), applied: { 'raw/0': '4' } });
    const later = buildPartials(rules, [
      { record: log('api', 10), json: '', key: '', origin: origin('4', 7) },
      { record: log('api', 20), json: '', key: '', origin: origin('5', 0) },
    ]).partials;
    for (const partial of later) restored.apply(partial);
    expect(restored.stats.replayedFrames).toBe(1);
    expect(Object.values(restored.takeDirty()[0]?.[1]?.slices ?? {}).reduce((sum, slice) => sum + slice.count, 0)).toBe(2);
  });

  it('continues the same way from a checkpointed state restored elsewhere', () => {
    const partials = partialsOf(spread(records, 3, 7), 49);
    const first = new AlertEvaluator(rules, { generator: 't', evaluationDelayMs: 0 });
    const half = partials.map((list) => list.slice(0, Math.floor(list.length / 2)));
    for (const list of half) for (const partial of list) first.apply(partial);
    const before = first.evaluate(BASE + 6_000);
    // Another collector takes over: the checkpoint, then every partial again (uncommitted ones are replayed).
    const second = new AlertEvaluator(rules, { generator: 't', evaluationDelayMs: 0 });
    for (const [id, state] of first.takeDirty()) if (state !== undefined) second.restore(id, JSON.parse(JSON.stringify(state)) as typeof state);
    for (const list of partials) for (const partial of list) second.apply(partial);
    const after = second.evaluate(BASE + 30_000);
    const format = (alert: { changed_at: string; rule: string; state: string }) => `${alert.changed_at} ${alert.rule} ${alert.state}`;
    expect([...before, ...after].map(format).sort()).toEqual(reference.map((line) => line.split(' ').slice(0, 3).join(' ')).sort());
  });

  it('counts samples that arrive after their windows were evaluated as late', () => {
    const evaluator = new AlertEvaluator(rules, { generator: 't', evaluationDelayMs: 0 });
    const early = buildPartials(rules, [{ record: log('api', 0), json: '', key: '', origin: { topic: 'raw', partition: 0, offset: '0', event: 0 } }]).partials;
    for (const partial of early) evaluator.apply(partial);
    evaluator.evaluate(BASE + 20_000);
    const late = buildPartials(rules, [
      { record: log('api', 1000), json: '', key: '', origin: { topic: 'raw', partition: 0, offset: '1', event: 0 } },
    ]).partials;
    for (const partial of late) evaluator.apply(partial);
    expect(evaluator.stats.lateSamples).toBe(1);
  });
});

// 400k samples take seconds just to build (slice maps keyed by epoch milliseconds are dictionary-mode objects).
describe('13.15: bounded alert state', { timeout: 120_000 }, () => {
  const errorsRule = rules.rules.find((rule) => rule.id.endsWith('Errors'));
  if (errorsRule === undefined) throw new Error('the Errors rule is missing');
  const errors = errorsRule;
  const SAMPLES = 400_000;

  /** `count` one-sample slices, `perPartial` to a partial, at `startOf(i)`, for `keyOf(i)`. */
  function partialsOf(count: number, perPartial: number, startOf: (index: number) => number, keyOf: (index: number) => string): AlertPartial[] {
    const partials: AlertPartial[] = [];
    for (let first = 0; first < count; first += perPartial) {
      const slicesByKey = new Map<string, Record<string, { count: number }>>();
      for (let index = first; index < Math.min(count, first + perPartial); index++) {
        const key = keyOf(index);
        let slices = slicesByKey.get(key);
        if (slices === undefined) slicesByKey.set(key, (slices = {}));
        slices[String(startOf(index))] = { count: 1 };
      }
      for (const [key, slices] of slicesByKey) {
        partials.push({ rule: errors.id, key, labels: { service_name: key }, source: 'raw/0', frames: [{ offset: String(first), slices }] });
      }
    }
    return partials;
  }

  it('13.15: 400k future-dated samples are refused and counted, and leave no state', () => {
    const evaluator = new AlertEvaluator(rules, { generator: 'test', evaluationDelayMs: 0, clock: () => BASE });
    // One second apart, from an hour ahead: each used to hold its own slice until its time came.
    for (const partial of partialsOf(
      SAMPLES,
      1000,
      (index) => BASE + 3_600_000 + index * 1000,
      () => 'checkout',
    ))
      evaluator.apply(partial);
    expect(evaluator.stats.refusedSamples).toEqual({ future: SAMPLES, slice_limit: 0, alert_limit: 0 });
    expect(evaluator.size).toBe(0);
    // Within the allowed skew (5 minutes by default) a sample is kept.
    evaluator.apply(
      partialsOf(
        1,
        1,
        () => BASE + 299_000,
        () => 'checkout',
      )[0] as AlertPartial,
    );
    expect(evaluator.size).toBe(1);
    expect(evaluator.stats.refusedSamples.future).toBe(SAMPLES);
  });

  it('13.15: slices per alert are capped, the rest refused and counted', () => {
    const evaluator = new AlertEvaluator(rules, {
      generator: 'test',
      evaluationDelayMs: 0,
      clock: () => BASE,
      maxFutureSkewMs: 30 * 86_400_000,
      maxSlicesPerAlert: 1000,
    });
    for (const partial of partialsOf(
      SAMPLES,
      1000,
      (index) => BASE + index * 1000,
      () => 'checkout',
    ))
      evaluator.apply(partial);
    expect(evaluator.size).toBe(1);
    const id = evaluator.takeDirty()[0]?.[0] as string;
    expect(evaluator.slicesOf(id)).toBe(1000);
    expect(evaluator.stats.refusedSamples).toEqual({ future: 0, slice_limit: SAMPLES - 1000, alert_limit: 0 });
  });

  it('13.15: alerts (group keys) per rule are capped, the rest refused and counted; forgotten alerts free their place', () => {
    const evaluator = new AlertEvaluator(rules, { generator: 'test', evaluationDelayMs: 0, clock: () => BASE, maxAlertsPerRule: 100 });
    for (const partial of partialsOf(
      SAMPLES,
      1000,
      () => BASE,
      (index) => `service-${index}`,
    ))
      evaluator.apply(partial);
    expect(evaluator.size).toBe(100);
    expect(evaluator.alertsOf(errors.id)).toBe(100);
    expect(evaluator.stats.refusedSamples).toEqual({ future: 0, slice_limit: 0, alert_limit: SAMPLES - 100 });
    // Past every window the inactive alerts are forgotten, and new group keys are accepted again.
    evaluator.evaluate(BASE + 60_000);
    expect(evaluator.alertsOf(errors.id)).toBe(0);
    evaluator.apply(
      partialsOf(
        1,
        1,
        () => BASE + 60_000,
        () => 'new',
      )[0] as AlertPartial,
    );
    expect(evaluator.alertsOf(errors.id)).toBe(1);
  });
});
