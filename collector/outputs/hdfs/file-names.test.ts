import { describe, expect, it } from 'vitest';
import { WHOLE_FRAME, comparePositions } from '../../../shared/pipeline/source-position.js';
import { finalName, parseFinalName, parseTempName, tempName } from './file-names.js';

const at = (offset: bigint, event: number) => ({ offset, event });

describe('file names', () => {
  it('round-trip, offsets zero-padded so they sort, each with its event index', () => {
    const name = finalName({ topic: 'tributary.raw.logs', partition: 3, start: at(7n, 0), end: at(1234n, 499) }, '.ndjson.gz');
    expect(name).toBe('tributary.raw.logs+3+00000000000000000007-0+00000000000000001234-499.ndjson.gz');
    expect(parseFinalName(name, '.ndjson.gz')).toEqual({ topic: 'tributary.raw.logs', partition: 3, start: at(7n, 0), end: at(1234n, 499) });
    const temp = tempName({ topic: 't', partition: 0, start: at(0n, 17), end: at(9n, 3), bytes: 4096 }, '.ndjson.zst');
    expect(temp).toBe('t+0+00000000000000000000-17+00000000000000000009-3+4096.ndjson.zst');
    expect(parseTempName(temp, '.ndjson.zst')).toEqual({ topic: 't', partition: 0, start: at(0n, 17), end: at(9n, 3), bytes: 4096 });
  });

  it('reads names written before event indices as whole frames', () => {
    expect(parseFinalName('t+1+00000000000000000004+00000000000000000009.ndjson.gz', '.ndjson.gz')).toEqual({
      topic: 't',
      partition: 1,
      start: at(4n, 0),
      end: at(9n, WHOLE_FRAME),
    });
    expect(parseTempName('t+1+00000000000000000004+00000000000000000009+812.ndjson.gz', '.ndjson.gz')?.end).toEqual(at(9n, WHOLE_FRAME));
    // Finished under a new name, such a file still says it ends after its last frame's last event.
    const finished = finalName({ topic: 't', partition: 1, start: at(4n, 0), end: at(9n, WHOLE_FRAME) }, '.ndjson.gz');
    expect(finished).toBe('t+1+00000000000000000004-0+00000000000000000009.ndjson.gz');
    expect(parseFinalName(finished, '.ndjson.gz')?.end).toEqual(at(9n, WHOLE_FRAME));
    // A legacy end covers every event of its frame, and none of the next.
    expect(comparePositions(at(9n, 100_000), at(9n, WHOLE_FRAME))).toBeLessThan(0);
    expect(comparePositions(at(10n, 0), at(9n, WHOLE_FRAME))).toBeGreaterThan(0);
  });

  it('orders positions by offset, then by event', () => {
    expect(comparePositions(at(2n, 900), at(3n, 0))).toBeLessThan(0);
    expect(comparePositions(at(3n, 1), at(3n, 0))).toBeGreaterThan(0);
    expect(comparePositions(at(3n, 1), at(3n, 1))).toBe(0);
  });

  it('keeps names of topics starting with "_" or "." visible to readers', () => {
    const name = finalName({ topic: '__raw', partition: 0, start: at(1n, 0), end: at(2n, 0) }, '.ndjson');
    expect(name.startsWith('%5F%5Fraw+')).toBe(true);
    expect(parseFinalName(name, '.ndjson')?.topic).toBe('__raw');
  });

  it('ignores files of other formats and foreign names', () => {
    expect(parseFinalName('t+0+00000000000000000000-0+00000000000000000001-0.ndjson.gz', '.ndjson.zst')).toBeUndefined();
    expect(parseFinalName('part-00000.parquet', '.ndjson.gz')).toBeUndefined();
    expect(parseTempName('t+0+00000000000000000000-0+00000000000000000001-0.ndjson.gz', '.ndjson.gz')).toBeUndefined();
    expect(parseFinalName('t+0+00000000000000000000-0+00000000000000000001-0+77.ndjson.gz', '.ndjson.gz')).toBeUndefined();
  });

  it('handles offsets beyond 2^53', () => {
    const name = finalName({ topic: 't', partition: 0, start: at(9007199254740993n, 0), end: at(9223372036854775807n, 5) }, '.ndjson');
    expect(parseFinalName(name, '.ndjson')?.end).toEqual(at(9223372036854775807n, 5));
  });
});
