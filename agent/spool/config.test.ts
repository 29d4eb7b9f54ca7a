import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../../shared/config/load.js';
import { spoolSchema } from './config.js';

/** Stands in for the metrics output, so key paths read as they will in a real config. */
const wrapper = z.strictObject({ spool: spoolSchema });

function problemsOf(spool: unknown): string[] {
  try {
    validateConfig(wrapper, { spool }, 'agent.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('spoolSchema', () => {
  it('fills defaults, leaving the directory to the agent', () => {
    expect(validateConfig(wrapper, {}, 'agent.yaml')).toEqual({ spool: { max_bytes: 268_435_456, segment_bytes: 4_194_304, fsync: true } });
  });

  it('parses sizes as users write them', () => {
    expect(spoolSchema.parse({ dir: '/var/spool/metrics', max_bytes: '1GiB', segment_bytes: '16MiB', fsync: false })).toEqual({
      dir: '/var/spool/metrics',
      max_bytes: 1_073_741_824,
      segment_bytes: 16_777_216,
      fsync: false,
    });
  });

  it('keeps segments a small fraction of the cap, so a full spool drops little at a time', () => {
    expect(problemsOf({ max_bytes: '1MiB', segment_bytes: '512KiB' })).toEqual([
      'spool.segment_bytes: must be at most a quarter of max_bytes (1048576 bytes), got 524288: a full spool drops whole segments, so a larger one would drop too much at once',
    ]);
    expect(spoolSchema.safeParse({ max_bytes: '1MiB', segment_bytes: '256KiB' }).success).toBe(true);
  });

  it('names what is wrong', () => {
    expect(problemsOf({ segment_bytes: 100 })).toEqual(['spool.segment_bytes: must be at least 1KiB']);
    expect(problemsOf({ max_bytes: 'lots' })).toEqual(['spool.max_bytes: expected a size such as "512KiB", "1MiB" or a number of bytes, from 1B to 1TiB']);
    expect(problemsOf({ dir: '' })).toHaveLength(1);
    expect(problemsOf({ fsync: 'yes' })).toHaveLength(1);
    expect(problemsOf({ max_size: '1GiB' })).toHaveLength(1);
  });
});
