import { describe, expect, it } from 'vitest';
import { finalName, parseFinalName, parseTempName, tempName } from './file-names.js';

describe('file names', () => {
  it('round-trip, zero-padded so they sort by offset', () => {
    const name = finalName({ topic: 'tributary.raw.logs', partition: 3, start: 7n, end: 1234n }, '.ndjson.gz');
    expect(name).toBe('tributary.raw.logs+3+00000000000000000007+00000000000000001234.ndjson.gz');
    expect(parseFinalName(name, '.ndjson.gz')).toEqual({ topic: 'tributary.raw.logs', partition: 3, start: 7n, end: 1234n });
    const temp = tempName({ topic: 't', partition: 0, start: 0n, end: 9n, bytes: 4096 }, '.ndjson.zst');
    expect(temp).toBe('t+0+00000000000000000000+00000000000000000009+4096.ndjson.zst');
    expect(parseTempName(temp, '.ndjson.zst')).toEqual({ topic: 't', partition: 0, start: 0n, end: 9n, bytes: 4096 });
  });

  it('keeps names of topics starting with "_" or "." visible to readers', () => {
    const name = finalName({ topic: '__raw', partition: 0, start: 1n, end: 2n }, '.ndjson');
    expect(name.startsWith('%5F%5Fraw+')).toBe(true);
    expect(parseFinalName(name, '.ndjson')?.topic).toBe('__raw');
  });

  it('ignores files of other formats and foreign names', () => {
    expect(parseFinalName('t+0+00000000000000000000+00000000000000000001.ndjson.gz', '.ndjson.zst')).toBeUndefined();
    expect(parseFinalName('part-00000.parquet', '.ndjson.gz')).toBeUndefined();
    expect(parseTempName('t+0+00000000000000000000+00000000000000000001.ndjson.gz', '.ndjson.gz')).toBeUndefined();
  });

  it('handles offsets beyond 2^53', () => {
    const name = finalName({ topic: 't', partition: 0, start: 9007199254740993n, end: 9223372036854775807n }, '.ndjson');
    expect(parseFinalName(name, '.ndjson')?.end).toBe(9223372036854775807n);
  });
});
