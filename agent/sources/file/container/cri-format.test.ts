import { describe, expect, it } from 'vitest';
import type { LineRecord } from '../line-stage.js';
import { ContainerFormatStage } from './container-stage.js';
import { parseCriLine } from './cri-format.js';

const T1 = '2024-01-01T00:00:00.123456789Z';
const T2 = '2024-01-01T00:00:00.223456789Z';
const T3 = '2024-01-01T00:00:01Z';

/** Physical lines as the line splitter would hand them over, from byte offset `start`. */
function linesAt(start: number, ...texts: string[]): LineRecord[] {
  let offset = start;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const line = { text, offset, end, truncated: false };
    offset = end;
    return line;
  });
}

const lines = (...texts: string[]) => linesAt(0, ...texts);

describe('parseCriLine', () => {
  it('reads time, stream, tag and content', () => {
    expect(parseCriLine(`${T1} stdout F message text`)).toEqual({ time: T1, stream: 'stdout', content: 'message text', partial: false });
    expect(parseCriLine(`${T1} stderr P first half`)).toEqual({ time: T1, stream: 'stderr', content: 'first half', partial: true });
  });

  it('keeps the content exactly, leading spaces and tabs included', () => {
    expect(parseCriLine(`${T1} stdout F   indented\tand "quoted" `)?.content).toBe('  indented\tand "quoted" ');
  });

  it('reads only the first of several colon-separated tag flags', () => {
    expect(parseCriLine(`${T1} stdout P:x:y partial with flags`)).toMatchObject({ partial: true, content: 'partial with flags' });
    expect(parseCriLine(`${T1} stdout F:future full`)).toMatchObject({ partial: false, content: 'full' });
  });

  it('accepts empty content with or without the space after the tag', () => {
    expect(parseCriLine(`${T1} stdout F `)?.content).toBe('');
    expect(parseCriLine(`${T1} stdout F`)?.content).toBe('');
  });

  it('accepts the numeric zone offsets CRI-O writes and seconds without fraction', () => {
    expect(parseCriLine('2016-10-06T00:17:09.669794202-07:00 stdout F x')?.time).toBe('2016-10-06T00:17:09.669794202-07:00');
    expect(parseCriLine(`${T3} stderr F x`)?.time).toBe(T3);
  });

  it.each([
    ['plain text', 'hello world'],
    ['an empty line', ''],
    ['an unknown stream', `${T1} stdin F x`],
    ['an unknown tag', `${T1} stdout X x`],
    ['a tag glued to the content', `${T1} stdout Fx`],
    ['a missing tag', `${T1} stdout`],
    ['a space inside the time', '2024-01-01 00:00:00Z stdout F x'],
    ['a time without zone', '2024-01-01T00:00:00 stdout F x'],
    ['a Docker json-file line', `{"log":"x\\n","stream":"stdout","time":"${T1}"}`],
  ])('rejects %s', (_name, text) => {
    expect(parseCriLine(text)).toBeUndefined();
  });
});

describe('ContainerFormatStage (cri)', () => {
  it('turns full lines into records with the content, the full-precision time and the stream', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    expect(stage.push(lines(`${T1} stdout F hello`, `${T2} stderr F oops`), 0)).toEqual([
      { text: 'hello', offset: 0, end: 46, truncated: false, time: T1, attributes: { 'log.iostream': 'stdout' } },
      { text: 'oops', offset: 46, end: 91, truncated: false, time: T2, attributes: { 'log.iostream': 'stderr' } },
    ]);
  });

  it('joins partials up to the F line: offset of the first piece, end of the last, time of the first', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const input = lines(`${T1} stdout P one `, `${T1} stdout P two `, `${T2} stdout F three`);
    expect(stage.push(input.slice(0, 2), 0)).toEqual([]);
    expect(stage.pendingOffset()).toBe(0);
    expect(stage.push(input.slice(2), 0)).toEqual([
      { text: 'one two three', offset: 0, end: input[2]?.end, truncated: false, time: T1, attributes: { 'log.iostream': 'stdout' } },
    ]);
    expect(stage.pendingOffset()).toBeUndefined();
  });

  it('reassembles interleaved stdout and stderr partials separately', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const input = lines(`${T1} stdout P out-a `, `${T1} stderr P err-a `, `${T2} stdout F out-b`, `${T2} stderr P err-b `, `${T3} stderr F err-c`);
    const records = stage.push(input, 0);
    expect(records.map((record) => [record.text, record.attributes?.['log.iostream'], record.offset, record.end])).toEqual([
      ['out-a out-b', 'stdout', input[0]?.offset, input[2]?.end],
      ['err-a err-b err-c', 'stderr', input[1]?.offset, input[4]?.end],
    ]);
  });

  it('emits records in order of completion, so a later stream may overtake an older pending one', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const input = lines(`${T1} stdout P slow `, `${T2} stderr F quick`, `${T3} stdout F done`);
    expect(stage.push(input.slice(0, 2), 0).map((record) => record.text)).toEqual(['quick']);
    // The stderr record ends past the pending stdout partial: checkpoints must stop at the partial.
    expect(stage.pendingOffset()).toBe(0);
    expect(stage.push(input.slice(2), 0).map((record) => [record.text, record.offset])).toEqual([['slow done', 0]]);
  });

  it('handles empty content in partials and in the final line', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const records = stage.push(lines(`${T1} stdout P `, `${T1} stdout P abc`, `${T1} stdout F `, `${T2} stdout F `), 0);
    expect(records.map((record) => record.text)).toEqual(['abc', '']);
  });

  it('keeps a P line at the end of the file pending, and flushAll emits it flagged truncated', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const input = linesAt(100, `${T1} stdout F whole`, `${T2} stdout P never `, `${T2} stdout P finished`);
    expect(stage.push(input, 0).map((record) => record.text)).toEqual(['whole']);
    expect(stage.flushDue(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(stage.nextDeadline()).toBeUndefined();
    expect(stage.flushAll()).toEqual([
      { text: 'never finished', offset: input[1]?.offset, end: input[2]?.end, truncated: true, time: T2, attributes: { 'log.iostream': 'stdout' } },
    ]);
    expect(stage.stats.unterminated).toBe(1);
    expect(stage.flushAll()).toEqual([]);
    expect(stage.pendingOffset()).toBeUndefined();
  });

  it('flushAll emits pending records of both streams oldest first', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    stage.push(lines(`${T1} stderr P first`, `${T1} stdout P second`), 0);
    expect(stage.flushAll().map((record) => [record.text, record.offset])).toEqual([
      ['first', 0],
      ['second', 46],
    ]);
  });

  it('cuts a record at max_bytes, drops the rest of its pieces until its F line, and counts them', () => {
    const stage = new ContainerFormatStage('cri', 10);
    const input = lines(`${T1} stdout P aaaaaa`, `${T1} stdout P bbbbbb`, `${T1} stdout P cccc`, `${T1} stdout F dd`, `${T2} stdout F next`);
    expect(stage.push(input.slice(0, 3), 0)).toEqual([]);
    expect(stage.push(input.slice(3), 0)).toEqual([
      { text: 'aaaaaabbbb', offset: 0, end: input[3]?.end, truncated: true, time: T1, attributes: { 'log.iostream': 'stdout' } },
      { text: 'next', offset: input[4]?.offset, end: input[4]?.end, truncated: false, time: T2, attributes: { 'log.iostream': 'stdout' } },
    ]);
    expect(stage.stats).toMatchObject({ truncated: 1, partialsDropped: 2 });
  });

  it('passes a malformed line through with a parse error, without disturbing pending partials', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const input = lines(`${T1} stdout P part `, 'panic: not a CRI line', `${T2} stdout F end`);
    expect(stage.push(input, 0)).toEqual([
      { text: 'panic: not a CRI line', offset: input[1]?.offset, end: input[1]?.end, truncated: false, attributes: { 'tributary.parse_error': 'cri' } },
      { text: 'part end', offset: 0, end: input[2]?.end, truncated: false, time: T1, attributes: { 'log.iostream': 'stdout' } },
    ]);
    expect(stage.stats.malformed).toBe(1);
  });

  it('keeps the truncated flag of a physical line the splitter cut', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const [first, second] = lines(`${T1} stdout P cut by the spli`, `${T1} stdout F tter`);
    if (first === undefined || second === undefined) throw new Error('fixture');
    expect(stage.push([{ ...first, truncated: true }, second], 0)[0]).toMatchObject({ text: 'cut by the splitter', truncated: true });
  });
});
