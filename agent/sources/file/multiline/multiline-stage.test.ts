import { describe, expect, it } from 'vitest';
import type { LineRecord } from '../line-stage.js';
import { multilineSchema } from './config.js';
import { MultilineStage } from './multiline-stage.js';

/** Consecutive lines from `start`, with offsets as the line splitter reports them ("\n" line ends). */
function linesOf(texts: readonly string[], start = 0): LineRecord[] {
  let offset = start;
  return texts.map((text) => {
    const line = { text, offset, end: offset + Buffer.byteLength(text) + 1, truncated: false };
    offset = line.end;
    return line;
  });
}

function stageFor(config: Record<string, unknown>): MultilineStage {
  return new MultilineStage(multilineSchema.parse(config));
}

/** Pushes everything at one time, then ends the file. */
function runAll(config: Record<string, unknown>, lines: readonly LineRecord[]): LineRecord[] {
  const stage = stageFor(config);
  return [...stage.push(lines, 0), ...stage.flushAll()];
}

function textsOf(records: readonly LineRecord[]): string[] {
  return records.map((record) => record.text);
}

const TIMESTAMP_START = { mode: 'start_pattern', pattern: '^\\d{4}-\\d{2}-\\d{2} ' };

describe('MultilineStage modes', () => {
  it('start_pattern: a matching line starts a record, every other line continues it', () => {
    const lines = linesOf(['2024-05-01 10:00:00 first', '  detail a', 'detail b', '2024-05-01 10:00:01 second', 'detail c']);
    const stage = stageFor(TIMESTAMP_START);
    // The second record waits: the next line could still continue it.
    expect(stage.push(lines, 0)).toEqual([{ text: '2024-05-01 10:00:00 first\n  detail a\ndetail b', offset: 0, end: lines[2]?.end, truncated: false }]);
    expect(stage.flushAll()).toEqual([{ text: '2024-05-01 10:00:01 second\ndetail c', offset: lines[3]?.offset, end: lines[4]?.end, truncated: false }]);
  });

  it('start_pattern: lines before the first start form a record of their own', () => {
    const lines = linesOf(['orphan 1', 'orphan 2', '2024-05-01 10:00:00 first']);
    expect(textsOf(runAll(TIMESTAMP_START, lines))).toEqual(['orphan 1\norphan 2', '2024-05-01 10:00:00 first']);
  });

  it('continuation_pattern: a matching line continues the record, every other line starts one', () => {
    const lines = linesOf(['java.lang.Exception: x', '\tat a.B.c(B.java:1)', 'Caused by: java.io.IOException: y', '\tat d.E.f(E.java:2)', 'next', 'last']);
    expect(textsOf(runAll({ mode: 'continuation_pattern', pattern: '^\\s+at |^Caused by:' }, lines))).toEqual([
      'java.lang.Exception: x\n\tat a.B.c(B.java:1)\nCaused by: java.io.IOException: y\n\tat d.E.f(E.java:2)',
      'next',
      'last',
    ]);
  });

  it('indented: lines starting with a space or tab continue; blank and unindented lines start a record', () => {
    const lines = linesOf(['config:', '  a: 1', '\tb: 2', '', 'done', ' tail']);
    expect(textsOf(runAll({ mode: 'indented' }, lines))).toEqual(['config:\n  a: 1\n\tb: 2', '', 'done\n tail']);
  });
});

describe('MultilineStage records', () => {
  it('keeps the first line offset, time and attributes, and spans to the last line end', () => {
    const [first, second] = linesOf(['head', ' more'], 100);
    const stderr = { 'log.iostream': 'stderr' };
    const records = runAll({ mode: 'indented' }, [
      { ...(first as LineRecord), time: '2024-05-01T10:00:00.000000001Z', attributes: stderr },
      { ...(second as LineRecord), time: '2024-05-01T10:00:00.5Z', attributes: stderr },
    ]);
    expect(records).toEqual([{ text: 'head\n more', offset: 100, end: 111, truncated: false, time: '2024-05-01T10:00:00.000000001Z', attributes: stderr }]);
  });

  it('flags the record truncated when any of its lines was truncated', () => {
    const [head, cutLine, next] = linesOf(['head', ' xxxx', 'next']);
    const records = runAll({ mode: 'indented' }, [head as LineRecord, { ...(cutLine as LineRecord), truncated: true }, next as LineRecord]);
    expect(records.map((record) => [record.text, record.truncated])).toEqual([
      ['head\n xxxx', true],
      ['next', false],
    ]);
  });

  it('never continues a record with a line from another stream', () => {
    const [a, b, c] = linesOf(['panic on stderr', ' indented stdout', ' indented stderr']);
    const records = runAll({ mode: 'indented' }, [
      { ...(a as LineRecord), attributes: { 'log.iostream': 'stderr' } },
      { ...(b as LineRecord), attributes: { 'log.iostream': 'stdout' } },
      { ...(c as LineRecord), attributes: { 'log.iostream': 'stderr' } },
    ]);
    expect(textsOf(records)).toEqual(['panic on stderr', ' indented stdout', ' indented stderr']);
  });

  it('gives the same records whatever the batching of pushes', () => {
    const lines = linesOf(['2024-05-01 a', 'x', 'y', '2024-05-01 b', '2024-05-01 c', 'z']);
    const oneByOne = stageFor(TIMESTAMP_START);
    const records = lines.flatMap((line) => oneByOne.push([line], 0));
    records.push(...oneByOne.flushAll());
    expect(records).toEqual(runAll(TIMESTAMP_START, lines));
  });
});

describe('MultilineStage flush timing', () => {
  it('emits a pending record once no line arrived for flush_timeout', () => {
    const stage = stageFor({ ...TIMESTAMP_START, flush_timeout: '1s' });
    expect(stage.nextDeadline()).toBeUndefined();
    const lines = linesOf(['2024-05-01 a', 'x', 'y']);
    expect(stage.push(lines.slice(0, 2), 5_000)).toEqual([]);
    expect(stage.nextDeadline()).toBe(6_000);
    // Another line moves the deadline: it counts from the latest line.
    expect(stage.push(lines.slice(2), 5_500)).toEqual([]);
    expect(stage.nextDeadline()).toBe(6_500);
    expect(stage.flushDue(6_499)).toEqual([]);
    expect(stage.flushDue(6_500)).toEqual([{ text: '2024-05-01 a\nx\ny', offset: 0, end: lines[2]?.end, truncated: false }]);
    expect(stage.nextDeadline()).toBeUndefined();
    expect(stage.flushDue(99_999)).toEqual([]);
  });

  it('lets a late line continue the record when flushDue was not called (push never flushes on time)', () => {
    const stage = stageFor({ ...TIMESTAMP_START, flush_timeout: '1s' });
    const lines = linesOf(['2024-05-01 a', 'x']);
    stage.push(lines.slice(0, 1), 0);
    // A backlog read slowly under backpressure: the continuation arrives long after the deadline.
    expect(stage.push(lines.slice(1), 60_000)).toEqual([]);
    expect(textsOf(stage.flushAll())).toEqual(['2024-05-01 a\nx']);
  });

  it('starts a new record with a continuation line arriving after a flush', () => {
    const stage = stageFor({ ...TIMESTAMP_START, flush_timeout: 200 });
    const lines = linesOf(['2024-05-01 a', 'late']);
    stage.push(lines.slice(0, 1), 0);
    expect(textsOf(stage.flushDue(200))).toEqual(['2024-05-01 a']);
    stage.push(lines.slice(1), 300);
    expect(stage.flushAll()).toEqual([{ text: 'late', offset: lines[1]?.offset, end: lines[1]?.end, truncated: false }]);
  });

  it('emits at once a record that nothing can continue (a terminal state of a preset)', () => {
    const stage = stageFor({ preset: 'go' });
    const lines = linesOf([
      '2024/05/01 12:00:00 listening on :8080',
      'panic: boom',
      '',
      'goroutine 1 [running]:',
      'main.main()',
      '\t/app/main.go:8 +0x25',
      'exit status 2',
    ]);
    expect(textsOf(stage.push(lines.slice(0, 1), 0))).toEqual(['2024/05/01 12:00:00 listening on :8080']);
    expect(stage.nextDeadline()).toBeUndefined();
    expect(textsOf(stage.push(lines.slice(1), 0))).toEqual(['panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:8 +0x25\nexit status 2']);
    expect(stage.nextDeadline()).toBeUndefined();
  });

  it('flushes a record and then the tentative lines it handed back, when due', () => {
    const stage = stageFor({ preset: 'python', flush_timeout: 100 });
    const lines = linesOf(['Traceback (most recent call last):', '  File "a.py", line 1, in <module>', 'ValueError: x', '', '']);
    expect(stage.push(lines, 0)).toEqual([]);
    // The blank lines were tentative: no chaining sentence came, so they are records of their own.
    expect(stage.flushDue(100)).toEqual([
      { text: 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nValueError: x', offset: 0, end: lines[2]?.end, truncated: false },
      { text: '', offset: lines[3]?.offset, end: lines[3]?.end, truncated: false },
      { text: '', offset: lines[4]?.offset, end: lines[4]?.end, truncated: false },
    ]);
    expect(stage.nextDeadline()).toBeUndefined();
  });
});

describe('MultilineStage caps', () => {
  it('cuts a record at max_lines, drops the rest of its lines until the next start, and spans them', () => {
    const lines = linesOf(['2024-05-01 a', '1', '2', '3', '4', '5', '2024-05-01 b', '6']);
    const stage = stageFor({ ...TIMESTAMP_START, max_lines: 3 });
    expect(stage.push(lines, 0)).toEqual([{ text: '2024-05-01 a\n1\n2', offset: 0, end: lines[5]?.end, truncated: true }]);
    expect(stage.stats).toEqual({ recordsCut: 1, linesDropped: 3 });
    expect(stage.flushAll()).toEqual([{ text: '2024-05-01 b\n6', offset: lines[6]?.offset, end: lines[7]?.end, truncated: false }]);
    expect(stage.stats).toEqual({ recordsCut: 1, linesDropped: 3 });
  });

  it('keeps a record of exactly max_lines whole', () => {
    const lines = linesOf(['2024-05-01 a', '1', '2', '2024-05-01 b']);
    const records = runAll({ ...TIMESTAMP_START, max_lines: 3 }, lines);
    expect(records.map((record) => [record.text, record.truncated])).toEqual([
      ['2024-05-01 a\n1\n2', false],
      ['2024-05-01 b', false],
    ]);
  });

  it('cuts at max_bytes between characters, keeping the part of the line that fits', () => {
    // "start" is 5 bytes, the separator 1, each "é" 2: 6 bytes of room hold three of them.
    const lines = linesOf(['start', 'ééééé', 'dropped', 'start again']);
    const stage = stageFor({ mode: 'start_pattern', pattern: '^start', max_bytes: 12 });
    expect(stage.push(lines, 0)).toEqual([{ text: 'start\nééé', offset: 0, end: lines[2]?.end, truncated: true }]);
    expect(Buffer.byteLength('start\nééé')).toBe(12);
    expect(stage.stats).toEqual({ recordsCut: 1, linesDropped: 1 });
  });

  it('drops a line of which nothing but its separator would fit, without a dangling newline', () => {
    const lines = linesOf(['start', 'x', 'start']);
    const stage = stageFor({ mode: 'start_pattern', pattern: '^start', max_bytes: 6 });
    expect(stage.push(lines, 0)).toEqual([{ text: 'start', offset: 0, end: lines[1]?.end, truncated: true }]);
    expect(stage.stats).toEqual({ recordsCut: 1, linesDropped: 1 });
  });

  it('cuts a first line longer than max_bytes', () => {
    const records = runAll({ mode: 'indented', max_bytes: 4 }, linesOf(['abcdefgh', ' cont']));
    expect(records).toEqual([{ text: 'abcd', offset: 0, end: 15, truncated: true }]);
  });

  it('counts tentative lines against the caps, committing them once they no longer fit', () => {
    // Two lines of room: the traceback header and its File line fill it, so the blank cannot wait as a tentative line.
    const lines = linesOf(['Traceback (most recent call last):', '  File "a.py", line 1, in <module>', '', 'next']);
    const stage = stageFor({ preset: 'python', max_lines: 2 });
    expect(textsOf(stage.push(lines, 0))).toEqual(['Traceback (most recent call last):\n  File "a.py", line 1, in <module>']);
    expect(stage.stats).toEqual({ recordsCut: 1, linesDropped: 1 });
    expect(textsOf(stage.flushAll())).toEqual(['next']);
  });
});

describe('MultilineStage checkpoints', () => {
  /**
   * Simulates a crash after each prefix of the input: the checkpoint is the end
   * of the last record returned so far (what the tailer acknowledges), and a
   * fresh stage re-reads from there. Returned-before-the-crash plus replayed
   * records must equal the records of an uninterrupted run.
   */
  function expectReplayIdentical(config: Record<string, unknown>, texts: readonly string[]): void {
    const lines = linesOf(texts);
    const expected = runAll(config, lines);
    for (let crashAfter = 0; crashAfter <= lines.length; crashAfter++) {
      const before = stageFor(config);
      const delivered = lines.slice(0, crashAfter).flatMap((line) => before.push([line], 0));
      const checkpoint = delivered.at(-1)?.end ?? 0;
      const pendingOffset = before.pendingOffset();
      if (pendingOffset !== undefined) expect(pendingOffset).toBeGreaterThanOrEqual(checkpoint);
      const replayed = runAll(
        config,
        lines.filter((line) => line.offset >= checkpoint),
      );
      expect([...delivered, ...replayed], `crash after ${crashAfter} lines`).toEqual(expected);
    }
  }

  it('re-reads pending lines into the same records (start_pattern, with a cut record)', () => {
    expectReplayIdentical({ ...TIMESTAMP_START, max_lines: 2 }, ['orphan', '2024-05-01 a', 'x', 'y', 'z', '2024-05-01 b', 'w', '2024-05-01 c']);
  });

  it('re-reads pending lines into the same records (python, tentative blank lines)', () => {
    expectReplayIdentical({ preset: 'python' }, [
      'INFO start',
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in <module>',
      'ValueError: x',
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "a.py", line 3, in <module>',
      'RuntimeError: y',
      '',
      '',
      'INFO next',
    ]);
  });

  it('re-reads pending lines into the same records (java, with a cut record)', () => {
    expectReplayIdentical({ preset: 'java', max_bytes: 40 }, [
      '10:00 ERROR failed',
      'java.lang.IllegalStateException: boom',
      '\tat a.B.c(B.java:1)',
      '\tat a.B.d(B.java:2)',
      'Caused by: java.io.IOException: reset',
      '\t... 3 more',
      '10:01 INFO ok',
    ]);
  });

  it('reports the offset of the first pending line', () => {
    const stage = stageFor(TIMESTAMP_START);
    const lines = linesOf(['2024-05-01 a', 'x', '2024-05-01 b'], 50);
    expect(stage.pendingOffset()).toBeUndefined();
    stage.push(lines.slice(0, 2), 0);
    expect(stage.pendingOffset()).toBe(50);
    stage.push(lines.slice(2), 0);
    expect(stage.pendingOffset()).toBe(lines[2]?.offset);
    stage.flushAll();
    expect(stage.pendingOffset()).toBeUndefined();
  });
});
