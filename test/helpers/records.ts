import { expect } from 'vitest';
import { ConfigError } from '../../shared/config/load.js';
import type { LogRecord } from '../../shared/record/log-record.js';

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
