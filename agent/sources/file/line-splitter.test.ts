import { describe, expect, it } from 'vitest';
import { LineSplitter, type SplitLine } from './line-splitter.js';

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
});
