import { describe, expect, it } from 'vitest';
import { collectorConfigSchema } from '../../config.js';
import { validateConfig } from '../../../shared/config/load.js';
import { Router } from './route.js';
import { configProblems, logRecord as record, metricRecord } from '../../../test/helpers/records.js';

const problemsOf = (extra: Record<string, unknown>) => configProblems(() => configOf(extra));

const outputs = { a: { type: 'file', path: '/tmp/a' }, b: { type: 'file', path: '/tmp/b' }, c: { type: 'file', path: '/tmp/c' } };

function configOf(extra: Record<string, unknown>) {
  return validateConfig(collectorConfigSchema, { kafka: { brokers: ['k:9092'] }, outputs, ...extra }, 'collector.yaml', {});
}

function routerOf(extra: Record<string, unknown>): Router {
  const config = configOf(extra);
  return new Router(config, Object.keys(config.outputs));
}

describe('Router', () => {
  it('sends everything to every output without rules', () => {
    const router = routerOf({});
    expect(router.trivial).toBe(true);
    expect(router.route(record())).toEqual(['a', 'b', 'c']);
  });

  it('sends unmatched records to default_outputs', () => {
    const router = routerOf({ routes: [{ match: { severity_at_least: 'ERROR' }, outputs: ['a'] }], default_outputs: ['b'] });
    expect(router.route(record({ severity_number: 17 }))).toEqual(['a']);
    expect(router.route(record({ severity_number: 24 }))).toEqual(['a']);
    expect(router.route(record({ severity_number: 16 }))).toEqual(['b']);
  });

  it('stops at the first matching rule unless it says continue', () => {
    const routes = [
      { match: { attributes: { team: 'shop' } }, outputs: ['a'], continue: true },
      { match: { body_regex: 'timeout' }, outputs: ['b', 'a'] },
      { match: {}, outputs: ['c'] },
    ];
    const router = routerOf({ routes });
    expect(router.route(record({ attributes: { team: 'shop' }, body: 'db timeout' }))).toEqual(['a', 'b']);
    expect(router.route(record({ attributes: { team: 'shop' } }))).toEqual(['a', 'c']);
    expect(router.route(record({ body: 'timeout' }))).toEqual(['b', 'a']);
    expect(router.route(record())).toEqual(['c']);
  });

  it('requires every condition of a rule to hold', () => {
    const router = routerOf({
      routes: [{ match: { severity_at_least: 'WARN', resource: { 'service.name': 'api' }, attributes: { 'http.method': 'GET' } }, outputs: ['a'] }],
      default_outputs: ['c'],
    });
    const matching = record({ severity_number: 13, resource: { 'service.name': 'api' }, attributes: { 'http.method': 'GET' } });
    expect(router.route(matching)).toEqual(['a']);
    expect(router.route({ ...matching, severity_number: 12 })).toEqual(['c']);
    expect(router.route({ ...matching, resource: { 'service.name': 'web' } })).toEqual(['c']);
    expect(router.route({ ...matching, attributes: {} })).toEqual(['c']);
  });

  it('maps each severity level to the start of its OpenTelemetry range', () => {
    const levels = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };
    for (const [level, number] of Object.entries(levels)) {
      const router = routerOf({ routes: [{ match: { severity_at_least: level }, outputs: ['a'] }], default_outputs: ['b'] });
      expect(router.route(record({ severity_number: number })), level).toEqual(['a']);
      expect(router.route(record({ severity_number: number - 1 })), level).toEqual(['b']);
    }
  });
});

describe('Router on metric records', () => {
  const metric = metricRecord({ attributes: { code: '500' }, resource: { job: 'api', 'service.name': 'api' } });

  it('matches metric records by attributes and resource, like log records', () => {
    const router = routerOf({
      routes: [
        { match: { resource: { job: 'api' }, attributes: { code: '500' } }, outputs: ['a'] },
        { match: { resource: { job: 'web' } }, outputs: ['b'] },
      ],
      default_outputs: ['c'],
    });
    expect(router.route(metric)).toEqual(['a']);
    expect(router.route({ ...metric, resource: { job: 'web' } })).toEqual(['b']);
    expect(router.route({ ...metric, attributes: {} })).toEqual(['c']);
  });

  it('never matches a metric record on severity or body, which only logs have', () => {
    const router = routerOf({
      routes: [
        { match: { severity_at_least: 'TRACE' }, outputs: ['a'] },
        { match: { body_regex: '.*' }, outputs: ['b'] },
      ],
      default_outputs: ['c'],
    });
    expect(router.route(metric)).toEqual(['c']);
    expect(router.route(record({ severity_number: 1 }))).toEqual(['a']);
    expect(router.route(record({ severity_number: 0 }))).toEqual(['b']);
  });

  it('splits logs from metrics with match.record', () => {
    const router = routerOf({
      routes: [
        { match: { record: 'metrics' }, outputs: ['a'] },
        { match: { record: 'logs', resource: { job: 'api' } }, outputs: ['b'] },
      ],
      default_outputs: ['c'],
    });
    expect(router.route(metric)).toEqual(['a']);
    expect(router.route(record({ resource: { job: 'api' } }))).toEqual(['b']);
    expect(router.route(record())).toEqual(['c']);
  });
});

describe('routes config', () => {
  it('fills defaults', () => {
    const config = configOf({ routes: [{ outputs: ['a'] }] });
    expect(config.routes).toEqual([{ match: {}, outputs: ['a'], continue: false }]);
    expect(config.enrich).toEqual([]);
    expect(config.default_outputs).toBeUndefined();
  });

  it('points at every unknown output id', () => {
    expect(problemsOf({ routes: [{ outputs: ['a'] }, { outputs: ['b', 'nope'] }], default_outputs: ['zzz'] })).toEqual([
      { path: 'routes[1].outputs[1]', message: 'unknown output "nope"; outputs are: a, b, c' },
      { path: 'default_outputs[0]', message: 'unknown output "zzz"; outputs are: a, b, c' },
    ]);
  });

  it('rejects a metrics-only rule that asks for a severity or a body, which it could never match', () => {
    expect(problemsOf({ routes: [{ match: { record: 'metrics', severity_at_least: 'WARN', body_regex: 'x' }, outputs: ['a'] }] })).toEqual([
      { path: 'routes[0].match.severity_at_least', message: 'severity_at_least only matches log records, but this rule takes only metrics' },
      { path: 'routes[0].match.body_regex', message: 'body_regex only matches log records, but this rule takes only metrics' },
    ]);
    expect(problemsOf({ routes: [{ match: { record: 'traces' }, outputs: ['a'] }] })[0]?.path).toBe('routes[0].match.record');
  });

  it('rejects a bad body_regex, an unknown level and unknown keys', () => {
    expect(problemsOf({ routes: [{ match: { body_regex: '[' }, outputs: ['a'] }] })[0]?.path).toBe('routes[0].match.body_regex');
    expect(problemsOf({ routes: [{ match: { severity_at_least: 'WARNING' }, outputs: ['a'] }] })[0]?.path).toBe('routes[0].match.severity_at_least');
    expect(problemsOf({ routes: [{ match: {}, outputs: ['a'], stop: true }] })[0]?.path).toBe('routes[0].stop');
  });
});
