import { describe, expect, it } from 'vitest';
import type { LineRecord } from '../line-stage.js';
import { PartialAssembler, type ContainerFormatStats, type ContainerLine, type IoStream } from './partial-assembler.js';

const TIME = '2024-01-01T00:00:00Z';

function newAssembler(maxBytes: number): { assembler: PartialAssembler; stats: ContainerFormatStats } {
  const stats = { malformed: 0, truncated: 0, partialsDropped: 0, unterminated: 0 };
  return { assembler: new PartialAssembler(maxBytes, stats), stats };
}

/** Feeds pieces as consecutive 10-byte physical lines, returns the texts of completed records. */
function feed(assembler: PartialAssembler, pieces: Array<[IoStream, string, boolean]>): LineRecord[] {
  const records: LineRecord[] = [];
  pieces.forEach(([stream, content, partial], index) => {
    const parsed: ContainerLine = { time: TIME, stream, content, partial };
    const record = assembler.add({ text: 'raw', offset: index * 10, end: index * 10 + 10, truncated: false }, parsed);
    if (record) records.push(record);
  });
  return records;
}

describe('PartialAssembler', () => {
  it('cuts a whole line longer than maxBytes without splitting a character, and counts it', () => {
    const { assembler, stats } = newAssembler(5);
    // 'ab' is 2 bytes, '😀' 4: only 'ab' fits in 5.
    expect(feed(assembler, [['stdout', 'ab😀c', false]])).toMatchObject([{ text: 'ab', truncated: true, offset: 0, end: 10 }]);
    expect(stats.truncated).toBe(1);
  });

  it('keeps a line of exactly maxBytes whole', () => {
    const { assembler, stats } = newAssembler(4);
    expect(feed(assembler, [['stdout', '😀', false]])).toMatchObject([{ text: '😀', truncated: false }]);
    expect(stats.truncated).toBe(0);
  });

  it('counts pending bytes as UTF-8, not UTF-16 units', () => {
    const { assembler } = newAssembler(6);
    // 'éé' is 2 units but 4 bytes: 'x' still fits after it, 'yz' no longer does.
    expect(
      feed(assembler, [
        ['stdout', 'éé', true],
        ['stdout', 'x', true],
        ['stdout', 'yz', false],
      ]),
    ).toMatchObject([{ text: 'ééxy', truncated: true }]);
  });

  it('drops every later piece of a cut record, the final one included', () => {
    const { assembler, stats } = newAssembler(3);
    const records = feed(assembler, [
      ['stderr', 'abcd', true],
      ['stderr', 'e', true],
      ['stderr', 'f', false],
      ['stderr', 'g', false],
    ]);
    expect(records.map((record) => [record.text, record.truncated, record.offset, record.end])).toEqual([
      ['abc', true, 0, 30],
      ['g', false, 30, 40],
    ]);
    expect(stats).toMatchObject({ truncated: 1, partialsDropped: 2 });
  });

  it('reports the oldest pending offset across streams', () => {
    const { assembler } = newAssembler(100);
    expect(assembler.pendingOffset()).toBeUndefined();
    feed(assembler, [
      ['stdout', 'a', false],
      ['stderr', 'b', true],
      ['stdout', 'c', true],
    ]);
    expect(assembler.pendingOffset()).toBe(10);
    assembler.add({ text: 'raw', offset: 30, end: 40, truncated: false }, { time: TIME, stream: 'stderr', content: 'd', partial: false });
    expect(assembler.pendingOffset()).toBe(20);
  });
});
