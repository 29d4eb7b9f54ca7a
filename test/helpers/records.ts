import { expect } from 'vitest';
import { ConfigError } from '../../shared/config/load.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { MetricRecord } from '../../shared/record/metric-record.js';

/** A valid tributary.log.v1 record for processor tests; overrides replace whole fields. */
export function logRecord(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    schema: 'tributary.log.v1',
    id: '0'.repeat(32),
    timestamp: '2026-11-23T12:00:00.000Z',
    observed_timestamp: '2026-11-23T12:00:00.000Z',
    severity_number: 9,
    body: 'hello',
    attributes: {},
    resource: {},
    ...overrides,
  };
}

/** A valid tributary.metric.v1 record (a gauge) for processor tests; overrides replace whole fields. */
export function metricRecord(overrides: Partial<MetricRecord> = {}): MetricRecord {
  return {
    schema: 'tributary.metric.v1',
    id: '0'.repeat(32),
    name: 'up',
    type: 'gauge',
    prometheus_type: 'gauge',
    timestamp: '2026-11-23T12:00:00.000Z',
    observed_timestamp: '2026-11-23T12:00:00.000Z',
    value: 1,
    attributes: {},
    resource: {},
    ...overrides,
  };
}

/** The problems a config validation reports, or [] when it passes. */
export function configProblems(validate: () => unknown): { path: string; message: string }[] {
  try {
    validate();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  return [];
}
