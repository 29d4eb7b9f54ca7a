import { describe, expect, it } from 'vitest';
import type { LineRecord } from '../line-stage.js';
import { ContainerFormatStage } from './container-stage.js';
import { parseDockerLine } from './docker-format.js';

const T1 = '2024-01-01T00:00:00.123456789Z';
const T2 = '2024-01-01T00:00:00.223456789Z';
const DOCKER_BUFFER_BYTES = 16 * 1024;

/**
 * A json-file line as dockerd writes it: besides JSON's own escapes, its
 * encoder escapes `<`, `>`, `&`, U+2028 and U+2029 as \uXXXX.
 */
function dockerLine(log: string, stream: 'stdout' | 'stderr' = 'stdout', time = T1): string {
  const escaped = JSON.stringify(log).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `{"log":${escaped},"stream":"${stream}","time":"${time}"}`;
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes between characters, as dockerd's 16 KiB copier buffer does. */
function splitBytes(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) {
      pieces.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += char;
    bytes += size;
  }
  pieces.push(piece);
  return pieces;
}

function lines(...texts: string[]): LineRecord[] {
  let offset = 0;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const line = { text, offset, end, truncated: false };
    offset = end;
    return line;
  });
}

describe('parseDockerLine', () => {
  it('reads log, stream and time, dropping the newline of a full line', () => {
    expect(parseDockerLine(`{"log":"message\\n","stream":"stderr","time":"${T1}"}`)).toEqual({
      time: T1,
      stream: 'stderr',
      content: 'message',
      partial: false,
    });
  });

  it('decodes the escapes dockerd writes', () => {
    const line = `{"log":"say \\"hi\\"\\tto caf\\u00e9 \\u003cb\\u003e \\\\o/ \\ud83d\\ude00\\n","stream":"stdout","time":"${T1}"}`;
    expect(parseDockerLine(line)?.content).toBe('say "hi"\tto café <b> \\o/ 😀');
  });

  it('takes a log without a trailing newline for a partial', () => {
    expect(parseDockerLine(dockerLine('first 16 KiB'))).toMatchObject({ content: 'first 16 KiB', partial: true });
  });

  it('drops the carriage return a TTY writes before the newline', () => {
    expect(parseDockerLine(dockerLine('tty line\r\n'))?.content).toBe('tty line');
  });

  it('ignores extra fields such as attrs', () => {
    expect(parseDockerLine(`{"log":"x\\n","stream":"stdout","attrs":{"tag":"web"},"time":"${T1}"}`)?.content).toBe('x');
  });

  it.each([
    ['plain text', 'hello world'],
    ['JSON cut short', `{"log":"x\\n","stream":"stdout","ti`],
    ['null', 'null'],
    ['an array', '["x"]'],
    ['a string', '"x"'],
    ['a non-string log', `{"log":1,"stream":"stdout","time":"${T1}"}`],
    ['an unknown stream', `{"log":"x\\n","stream":"stdin","time":"${T1}"}`],
    ['a missing time', '{"log":"x\\n","stream":"stdout"}'],
    ['a CRI line', `${T1} stdout F x`],
  ])('rejects %s', (_name, text) => {
    expect(parseDockerLine(text)).toBeUndefined();
  });
});

describe('ContainerFormatStage (docker)', () => {
  it('turns full lines into records with the content, the time and the stream', () => {
    const stage = new ContainerFormatStage('docker', 1024);
    const input = lines(dockerLine('hello\n'), dockerLine('oops\n', 'stderr', T2));
    expect(stage.push(input, 0)).toEqual([
      { text: 'hello', offset: 0, end: input[0]?.end, truncated: false, time: T1, attributes: { 'log.iostream': 'stdout' } },
      { text: 'oops', offset: input[1]?.offset, end: input[1]?.end, truncated: false, time: T2, attributes: { 'log.iostream': 'stderr' } },
    ]);
  });

  it('rejoins a line dockerd split at 16 KiB, escapes and multi-byte characters included', () => {
    const unit = 'key="va\\lue"\t<b>&amp; café ✓ 😀 \u2028\u0001 ';
    const message = unit.repeat(Math.ceil((3 * DOCKER_BUFFER_BYTES) / Buffer.byteLength(unit)));
    const pieces = splitBytes(`${message}\n`, DOCKER_BUFFER_BYTES);
    expect(pieces.length).toBeGreaterThan(3);
    const input = lines(...pieces.map((piece, index) => dockerLine(piece, 'stdout', index === 0 ? T1 : T2)));
    const stage = new ContainerFormatStage('docker', 1024 * 1024);
    expect(stage.push(input.slice(0, -1), 0)).toEqual([]);
    expect(stage.push(input.slice(-1), 0)).toEqual([
      { text: message, offset: 0, end: input[input.length - 1]?.end, truncated: false, time: T1, attributes: { 'log.iostream': 'stdout' } },
    ]);
    expect(stage.stats).toEqual({ malformed: 0, truncated: 0, partialsDropped: 0, unterminated: 0 });
  });

  it('takes a final piece holding only the newline', () => {
    const stage = new ContainerFormatStage('docker', 1024);
    expect(stage.push(lines(dockerLine('exactly one buffer'), dockerLine('\n')), 0).map((record) => record.text)).toEqual(['exactly one buffer']);
  });

  it('reassembles interleaved stdout and stderr pieces separately, in order of completion', () => {
    const stage = new ContainerFormatStage('docker', 1024);
    const input = lines(dockerLine('out-a ', 'stdout'), dockerLine('err-a ', 'stderr'), dockerLine('err-b\n', 'stderr'), dockerLine('out-b\n', 'stdout'));
    expect(stage.push(input, 0).map((record) => [record.text, record.attributes?.['log.iostream'], record.offset, record.end])).toEqual([
      ['err-a err-b', 'stderr', input[1]?.offset, input[2]?.end],
      ['out-a out-b', 'stdout', input[0]?.offset, input[3]?.end],
    ]);
  });

  it('cuts at max_bytes between characters and drops the rest of the record', () => {
    const stage = new ContainerFormatStage('docker', 6);
    // 'aé' is 3 bytes; of 'éé' (4 bytes) only one character fits in the 3 left.
    const input = lines(dockerLine('aé'), dockerLine('éé'), dockerLine('zz'), dockerLine('\n'), dockerLine('next\n'));
    expect(stage.push(input, 0).map((record) => [record.text, record.truncated, record.end])).toEqual([
      ['aéé', true, input[3]?.end],
      ['next', false, input[4]?.end],
    ]);
    expect(stage.stats).toMatchObject({ truncated: 1, partialsDropped: 2 });
  });

  it('flushAll emits a piece still waiting for its newline as truncated', () => {
    const stage = new ContainerFormatStage('docker', 1024);
    const input = lines(dockerLine('exited mid-line'));
    stage.push(input, 0);
    expect(stage.flushAll()).toEqual([
      { text: 'exited mid-line', offset: 0, end: input[0]?.end, truncated: true, time: T1, attributes: { 'log.iostream': 'stdout' } },
    ]);
  });

  it('passes malformed JSON through with a parse error and counts it', () => {
    const stage = new ContainerFormatStage('docker', 1024);
    const input = lines(dockerLine('part '), '{"log":"broken', dockerLine('end\n'));
    expect(stage.push(input, 0)).toEqual([
      { text: '{"log":"broken', offset: input[1]?.offset, end: input[1]?.end, truncated: false, attributes: { 'tributary.parse_error': 'docker' } },
      { text: 'part end', offset: 0, end: input[2]?.end, truncated: false, time: T1, attributes: { 'log.iostream': 'stdout' } },
    ]);
    expect(stage.stats.malformed).toBe(1);
  });
});
