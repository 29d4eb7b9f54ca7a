import { describe, expect, it } from 'vitest';
import { parseByteSize, parseDuration } from './units.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1.5s', 1_500],
    ['1500', 1_500],
    [42, 42],
  ])('%s is %d ms', (text, expected) => expect(parseDuration(text)).toBe(expected));

  it.each(['', 'five seconds', '5 parsecs', '5s extra', '-1s', -5])('rejects %s', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('parseByteSize', () => {
  it.each([
    ['1MiB', 1_048_576],
    ['64KiB', 65_536],
    ['1MB', 1_000_000],
    ['512', 512],
    ['2 gib', 2 * 1024 ** 3],
    [1024, 1024],
  ])('%s is %d bytes', (text, expected) => expect(parseByteSize(text)).toBe(expected));

  it.each(['', 'lots', '1 parsec', '1.5.2MB', 1.5])('rejects %s', (text) => expect(parseByteSize(text)).toBeUndefined());
});
