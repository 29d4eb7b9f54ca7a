import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitUtf8, truncateUtf8 } from './utf8.js';

/** The plain definition, one code point at a time: what fitUtf8 must match. */
function byCodePoints(text: string, room: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > room) break;
    out += char;
    bytes += size;
  }
  return out;
}

describe('fitUtf8', () => {
  it('keeps a text that fits, with its size', () => {
    expect(fitUtf8('', 0)).toEqual({ text: '', bytes: 0, cut: false });
    expect(fitUtf8('abc', 3)).toEqual({ text: 'abc', bytes: 3, cut: false });
    expect(fitUtf8('aé€😀', 10)).toEqual({ text: 'aé€😀', bytes: 10, cut: false });
  });

  it('cuts between characters, never inside one', () => {
    expect(fitUtf8('abc', 2)).toEqual({ text: 'ab', bytes: 2, cut: true });
    expect(fitUtf8('aé', 2)).toEqual({ text: 'a', bytes: 1, cut: true });
    expect(fitUtf8('a€', 3)).toEqual({ text: 'a', bytes: 1, cut: true });
    // A surrogate pair is one 4-byte character: it goes whole or not at all.
    expect(fitUtf8('a😀b', 4)).toEqual({ text: 'a', bytes: 1, cut: true });
    expect(fitUtf8('a😀b', 5)).toEqual({ text: 'a😀', bytes: 5, cut: true });
    expect(fitUtf8('é', 0)).toEqual({ text: '', bytes: 0, cut: true });
  });

  it('treats a negative room as none', () => {
    expect(fitUtf8('abc', -1)).toEqual({ text: '', bytes: 0, cut: true });
    expect(fitUtf8('', -1)).toEqual({ text: '', bytes: 0, cut: false });
  });

  it('counts a lone surrogate as Buffer.byteLength does (3 bytes) and leaves it as it is', () => {
    expect(fitUtf8('a\uD800b', 4)).toEqual({ text: 'a\uD800', bytes: 4, cut: true });
    expect(fitUtf8('a\uDC00', 3)).toEqual({ text: 'a', bytes: 1, cut: true });
    expect(fitUtf8('\uD800\uD800\uDC00', 7)).toEqual({ text: '\uD800\uD800\uDC00', bytes: 7, cut: false });
  });

  it('is the longest prefix of whole characters that fits (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 0, max: 64 }), (text, room) => {
        const fitted = fitUtf8(text, room);
        expect(text.startsWith(fitted.text)).toBe(true);
        expect(fitted.bytes).toBe(Buffer.byteLength(fitted.text));
        expect(fitted.bytes).toBeLessThanOrEqual(room);
        expect(fitted.text).toBe(byCodePoints(text, room));
        expect(fitted.cut).toBe(fitted.text.length < text.length);
        if (fitted.cut) {
          // The next whole character would not fit, and no pair was split.
          const next = String.fromCodePoint(text.codePointAt(fitted.text.length) ?? 0);
          const nextChar = text.slice(fitted.text.length, fitted.text.length + next.length);
          expect(fitted.bytes + Buffer.byteLength(nextChar)).toBeGreaterThan(room);
        }
      }),
    );
  });
});

describe('truncateUtf8', () => {
  it('is the text fitUtf8 keeps', () => {
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('hello', 10)).toBe('hello');
    expect(truncateUtf8('日本語', 7)).toBe('日本');
  });
});
