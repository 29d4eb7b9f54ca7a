import { describe, expect, it } from 'vitest';
import { LineSplitter, type SplitLine } from './line-splitter.js';
import { codecFor } from './encoding.js';

/** The splitter as it was before `forEachLine`: the behaviour the fast path must keep. */
class ReferenceSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private partialStart = 0;
  private overflowed = false;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer, chunkOffset: number): SplitLine[] {
    const lines: SplitLine[] = [];
    let position = 0;
    while (position < chunk.length) {
      const newline = chunk.indexOf(0x0a, position);
      if (newline === -1) {
        this.keepPartial(chunk.subarray(position), chunkOffset + position);
        break;
      }
      const end = chunkOffset + newline + 1;
      if (this.partialBytes > 0 || this.overflowed) {
        this.keepPartial(chunk.subarray(position, newline), chunkOffset + position);
        lines.push(this.makeLine(Buffer.concat(this.partial, this.partialBytes), this.partialStart, end, this.overflowed));
        this.partial = [];
        this.partialBytes = 0;
        this.overflowed = false;
      } else {
        lines.push(this.makeLine(chunk.subarray(position, newline), chunkOffset + position, end, false));
      }
      position = newline + 1;
    }
    return lines;
  }

  private keepPartial(bytes: Buffer, offset: number): void {
    if (this.partialBytes === 0 && !this.overflowed) this.partialStart = offset;
    const room = this.maxLineBytes + 1 - this.partialBytes;
    if (room <= 0 || bytes.length === 0) {
      this.overflowed ||= bytes.length > 0;
      return;
    }
    const kept = Buffer.from(bytes.subarray(0, room));
    this.partial.push(kept);
    this.partialBytes += kept.length;
    if (bytes.length > room) this.overflowed = true;
  }

  private makeLine(bytes: Buffer, offset: number, end: number, overflowed: boolean): SplitLine {
    let length = bytes.length;
    if (!overflowed && length > 0 && bytes[length - 1] === 0x0d) length--;
    const truncated = overflowed || length > this.maxLineBytes;
    if (truncated) length = Math.min(length, this.maxLineBytes);
    return { text: bytes.toString('utf8', 0, length), offset, end, truncated };
  }
}

function referenceSplit(chunks: readonly Buffer[], maxLineBytes: number): SplitLine[] {
  const splitter = new ReferenceSplitter(maxLineBytes);
  const lines: SplitLine[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    lines.push(...splitter.push(chunk, offset));
    offset += chunk.length;
  }
  return lines;
}

function splitAll(splitter: LineSplitter, chunks: Array<string | Buffer>): SplitLine[] {
  const lines: SplitLine[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    lines.push(...splitter.push(bytes, offset));
    offset += bytes.length;
  }
  return lines;
}

describe('LineSplitter', () => {
  it('splits lines and tracks byte offsets', () => {
    expect(splitAll(new LineSplitter(100), ['one\ntwo\n'])).toEqual([
      { text: 'one', offset: 0, end: 4, truncated: false },
      { text: 'two', offset: 4, end: 8, truncated: false },
    ]);
  });

  it('joins a line split across chunks and waits for its newline', () => {
    const splitter = new LineSplitter(100);
    expect(splitAll(splitter, ['hel', 'lo wo'])).toEqual([]);
    expect(splitter.hasPartial).toBe(true);
    expect(splitter.push(Buffer.from('rld\nnext'), 8)).toEqual([{ text: 'hello world', offset: 0, end: 12, truncated: false }]);
  });

  it('keeps a multi-byte character that straddles two chunks whole', () => {
    const bytes = Buffer.from('naïve ✓\n');
    const cut = bytes.indexOf(0x9c); // inside the three bytes of ✓
    expect(splitAll(new LineSplitter(100), [bytes.subarray(0, cut), bytes.subarray(cut)]).map((line) => line.text)).toEqual(['naïve ✓']);
  });

  it('drops the carriage return of CRLF line ends', () => {
    expect(splitAll(new LineSplitter(100), ['a\r\nb\r\n']).map((line) => [line.text, line.end])).toEqual([
      ['a', 3],
      ['b', 6],
    ]);
  });

  it('keeps empty lines as events', () => {
    expect(splitAll(new LineSplitter(100), ['\n\nx\n']).map((line) => line.text)).toEqual(['', '', 'x']);
  });

  it('replaces invalid UTF-8 instead of failing', () => {
    expect(splitAll(new LineSplitter(100), [Buffer.from([0x61, 0xff, 0x62, 0x0a])])[0]?.text).toBe('a\ufffdb');
  });

  it('truncates an over-long line, flags it, and resumes at its newline', () => {
    const long = 'x'.repeat(50);
    const lines = splitAll(new LineSplitter(10), [long.slice(0, 20), long.slice(20), '\nshort\n']);
    expect(lines).toEqual([
      { text: 'x'.repeat(10), offset: 0, end: 51, truncated: true },
      { text: 'short', offset: 51, end: 57, truncated: false },
    ]);
  });

  it('truncates an over-long line that arrives in one chunk', () => {
    expect(splitAll(new LineSplitter(4), ['abcdefgh\n'])).toEqual([{ text: 'abcd', offset: 0, end: 9, truncated: true }]);
  });

  it('holds at most the cap of an endless line in memory', () => {
    const splitter = new LineSplitter(1024);
    let offset = 0;
    for (let chunk = 0; chunk < 100; chunk++) {
      expect(splitter.push(Buffer.alloc(64 * 1024, 0x61), offset)).toEqual([]);
      offset += 64 * 1024;
    }
    const [line] = splitter.push(Buffer.from('\n'), offset);
    expect(line).toMatchObject({ offset: 0, end: offset + 1, truncated: true });
    expect(line?.text.length).toBe(1024);
  });

  it('visits the bytes of every line without decoding them, in the chunk itself when the line is whole', () => {
    const splitter = new LineSplitter(8);
    const chunk = Buffer.from('ab\r\ncdefghijkl\nmn');
    const visited: Array<[boolean, string, number, number, boolean]> = [];
    splitter.forEachLine(chunk, 100, (bytes, start, end, offset, lineEnd, truncated) =>
      visited.push([bytes === chunk, bytes.toString('latin1', start, end), offset, lineEnd, truncated]),
    );
    splitter.forEachLine(Buffer.from('o\n'), 117, (bytes, start, end, offset, lineEnd, truncated) =>
      visited.push([false, bytes.toString('latin1', start, end), offset, lineEnd, truncated]),
    );
    expect(visited).toEqual([
      [true, 'ab', 100, 104, false],
      [true, 'cdefghij', 104, 115, true],
      [false, 'mno', 115, 119, false],
    ]);
  });

  it('splits any byte stream, cut anywhere, exactly as before', () => {
    let state = 17;
    const random = (): number => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return state / 2 ** 32;
    };
    const alphabet = [0x61, 0x62, 0x0a, 0x0a, 0x0d, 0x22, 0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xff, 0x00];
    for (let round = 0; round < 300; round++) {
      const stream = Buffer.from(Array.from({ length: Math.floor(random() * 400) }, () => alphabet[Math.floor(random() * alphabet.length)] as number));
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length;) {
        const size = 1 + Math.floor(random() * 50);
        chunks.push(Buffer.from(stream.subarray(at, at + size)));
        at += size;
      }
      const maxLineBytes = 1 + Math.floor(random() * 30);
      // The reference predates the `invalid` flag; text, offsets and truncation must match exactly.
      const lines = splitAll(new LineSplitter(maxLineBytes), chunks).map(({ invalid: _invalid, ...line }) => line);
      expect(lines).toEqual(referenceSplit(chunks, maxLineBytes));
    }
  });
});

describe('LineSplitter with other encodings', () => {
  it('splits UTF-16LE on whole newline units and tracks byte offsets', () => {
    const splitter = new LineSplitter(1024, codecFor('utf-16le'));
    const bytes = Buffer.from('\ufeffné\r\nzwei\n', 'utf16le');
    expect(splitter.push(bytes, 0)).toEqual([
      { text: 'né', offset: 0, end: 10, truncated: false },
      { text: 'zwei', offset: 10, end: 20, truncated: false },
    ]);
  });

  it('flags lines with invalid UTF-8', () => {
    const [line] = new LineSplitter(1024).push(Buffer.from([0x61, 0xff, 0x0a]), 0);
    expect(line).toEqual({ text: 'a\ufffd', offset: 0, end: 3, truncated: false, invalid: true });
  });
});
