import { describe, expect, it } from 'vitest';
import { codecFor } from './encoding.js';

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

describe('source encodings', () => {
  it('finds UTF-16LE newlines only at code-unit boundaries', () => {
    const codec = codecFor('utf-16le');
    // "\u0a0a" is one code unit whose bytes are 0A 0A: not a newline.
    const bytes = Buffer.from('a\u0a0ab\nc', 'utf16le');
    expect(codec.indexOfNewline(bytes, 0, 0)).toBe(6);
    expect(codec.decode(bytes.subarray(0, 6), 0)).toEqual({ text: 'a\u0a0ab', invalid: false });
  });

  it('handles UTF-16BE, the byte-order mark and CRLF', () => {
    const codec = codecFor('utf-16be');
    const bytes = utf16be('\ufeffhello\r\nnext');
    const newline = codec.indexOfNewline(bytes, 0, 0);
    expect(newline).toBe(14);
    expect(codec.decode(bytes.subarray(0, newline), 0).text).toBe('hello');
  });

  it('respects the alignment of the chunk in the file', () => {
    const codec = codecFor('utf-16le');
    const bytes = Buffer.from('x\ny', 'utf16le');
    // The same bytes starting at an odd file offset would put the newline unit off its boundary.
    expect(codec.indexOfNewline(bytes, 0, 0)).toBe(2);
    expect(codec.indexOfNewline(bytes.subarray(1), 0, 1)).toBe(1);
  });

  it('decodes Latin-1', () => {
    expect(codecFor('latin1').decode(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 5)).toEqual({ text: 'café', invalid: false });
  });

  it('flags invalid UTF-8 but not a genuine replacement character', () => {
    const codec = codecFor('utf-8');
    expect(codec.decode(Buffer.from([0x61, 0xc3, 0x28]), 10)).toEqual({ text: 'a\ufffd(', invalid: true });
    expect(codec.decode(Buffer.from('a\ufffdb'), 10)).toEqual({ text: 'a\ufffdb', invalid: false });
    expect(codec.decode(Buffer.from('\ufeffbom'), 0).text).toBe('bom');
  });
});
