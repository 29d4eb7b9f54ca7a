import { describe, expect, it } from 'vitest';
import type { LineRecord } from '../line-stage.js';
import { ContainerFormatStage } from './container-stage.js';

const T1 = '2024-01-01T00:00:00.123456789Z';

function lines(...texts: string[]): LineRecord[] {
  let offset = 0;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const line = { text, offset, end, truncated: false };
    offset = end;
    return line;
  });
}

describe('ContainerFormatStage', () => {
  it('auto: decides per line between CRI and Docker json-file', () => {
    const stage = new ContainerFormatStage('auto', 1024);
    const input = lines(
      `${T1} stdout P cri `,
      `{"log":"docker ","stream":"stdout","time":"${T1}"}`,
      `{"log":"json\\n","stream":"stderr","time":"${T1}"}`,
      `${T1} stdout F line`,
      `{"log":"file\\n","stream":"stdout","time":"${T1}"}`,
    );
    expect(stage.push(input, 0).map((record) => [record.text, record.attributes?.['log.iostream'], record.offset])).toEqual([
      ['json', 'stderr', input[2]?.offset],
      // Pending is kept per stream whatever the format: a file holds one format in practice.
      ['cri docker line', 'stdout', 0],
      ['file', 'stdout', input[4]?.offset],
    ]);
    expect(stage.stats.malformed).toBe(0);
  });

  it('auto: blames Docker for a line starting with "{" and CRI for any other', () => {
    const stage = new ContainerFormatStage('auto', 1024);
    const records = stage.push(lines('{"level":"info"', 'plain text', ''), 0);
    expect(records.map((record) => [record.text, record.attributes])).toEqual([
      ['{"level":"info"', { 'tributary.parse_error': 'docker' }],
      ['plain text', { 'tributary.parse_error': 'cri' }],
      ['', { 'tributary.parse_error': 'cri' }],
    ]);
    expect(stage.stats.malformed).toBe(3);
  });

  it('auto: reads a Docker entry whose fields come in another order', () => {
    const stage = new ContainerFormatStage('auto', 1024);
    expect(stage.push(lines(`{"stream":"stderr","time":"${T1}","log":"x\\n"}`), 0)[0]).toMatchObject({ text: 'x', time: T1 });
  });

  it('keeps attributes an earlier stage set on a malformed line', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    const [line] = lines('garbage');
    if (line === undefined) throw new Error('fixture');
    expect(stage.push([{ ...line, attributes: { origin: 'test' } }], 0)[0]?.attributes).toEqual({ origin: 'test', 'tributary.parse_error': 'cri' });
  });

  it('has no deadlines: pending partials wait for their final line', () => {
    const stage = new ContainerFormatStage('cri', 1024);
    stage.push(lines(`${T1} stdout P waiting`), 0);
    expect(stage.nextDeadline()).toBeUndefined();
    expect(stage.flushDue(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(stage.pendingOffset()).toBe(0);
  });

  it('starts with zeroed counters', () => {
    expect(new ContainerFormatStage('docker', 1).stats).toEqual({ malformed: 0, truncated: 0, partialsDropped: 0, unterminated: 0 });
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxBytes %s', (maxBytes) => {
    expect(() => new ContainerFormatStage('cri', maxBytes)).toThrow(RangeError);
  });
});
