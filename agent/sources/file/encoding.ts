/**
 * Source encodings. Lines are always split on bytes (so offsets stay file
 * offsets, which checkpoints and event ids depend on) and decoded afterwards.
 * UTF-16 needs its own newline search: 0x0A is half of many UTF-16 code units.
 */
export type SourceEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin1';

const REPLACEMENT = '\ufffd';
const UTF8_REPLACEMENT_BYTES = Buffer.from(REPLACEMENT);

export interface NewlineCodec {
  /** Bytes of one newline (1, or 2 for UTF-16). */
  readonly newlineBytes: number;
  /** Index in `chunk` of the first newline at or after `from`; `chunkOffset` is chunk[0]'s file offset (UTF-16 alignment). */
  indexOfNewline(chunk: Buffer, from: number, chunkOffset: number): number;
  /**
   * Decodes a line without its newline, and a byte-order mark at file offset 0. The splitter strips a
   * one-byte "\r" itself; UTF-16 strips its two-byte one here.
   */
  decode(bytes: Buffer, fileOffset: number): { text: string; invalid: boolean };
}

function utf8Decode(bytes: Buffer, fileOffset: number): { text: string; invalid: boolean } {
  let start = 0;
  if (fileOffset === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  const end = bytes.length;
  const text = bytes.toString('utf8', start, end);
  // toString replaces invalid sequences with U+FFFD; only a U+FFFD that was not in the bytes is an invalid one.
  const invalid = text.includes(REPLACEMENT) && countOf(text, REPLACEMENT) > countBytes(bytes.subarray(start, end), UTF8_REPLACEMENT_BYTES);
  return { text, invalid };
}

function countOf(text: string, needle: string): number {
  let count = 0;
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + needle.length)) count++;
  return count;
}

function countBytes(bytes: Buffer, needle: Buffer): number {
  let count = 0;
  for (let index = bytes.indexOf(needle); index !== -1; index = bytes.indexOf(needle, index + needle.length)) count++;
  return count;
}

function utf16Codec(bigEndian: boolean): NewlineCodec {
  // The newline code unit 0x000A: LE bytes 0A 00, BE bytes 00 0A, always starting at an even file offset.
  const newlineByteIndex = bigEndian ? 1 : 0;
  return {
    newlineBytes: 2,
    indexOfNewline(chunk, from, chunkOffset) {
      for (let index = chunk.indexOf(0x0a, from); index !== -1; index = chunk.indexOf(0x0a, index + 1)) {
        const unitStart = index - newlineByteIndex;
        if (unitStart < from || (chunkOffset + unitStart) % 2 !== 0) continue;
        const other = chunk[bigEndian ? unitStart : unitStart + 1];
        if (other === 0x00) return unitStart;
        if (other === undefined) return -1; // the other half is in the next chunk
      }
      return -1;
    },
    decode(bytes, fileOffset) {
      let view = bytes.subarray(0, bytes.length - (bytes.length % 2));
      if (bigEndian) view = Buffer.from(view).swap16();
      let text = view.toString('utf16le');
      if (fileOffset === 0 && text.startsWith('\ufeff')) text = text.slice(1);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      return { text, invalid: bytes.length % 2 !== 0 };
    },
  };
}

const CODECS: Record<SourceEncoding, NewlineCodec> = {
  'utf-8': { newlineBytes: 1, indexOfNewline: (chunk, from) => chunk.indexOf(0x0a, from), decode: utf8Decode },
  latin1: {
    newlineBytes: 1,
    indexOfNewline: (chunk, from) => chunk.indexOf(0x0a, from),
    decode: (bytes) => ({ text: bytes.toString('latin1'), invalid: false }),
  },
  'utf-16le': utf16Codec(false),
  'utf-16be': utf16Codec(true),
};

export function codecFor(encoding: SourceEncoding): NewlineCodec {
  return CODECS[encoding];
}
