import { compress } from 'zstd-napi';
import binding from 'zstd-napi/binding.js';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { FRAME_HEADER, FrameReader, decodeFrame, encodeEvents, encodeFrame, type FrameLine } from './frame-codec.js';
import { decompressCapped } from './zstd-capped.js';

const { CCtx, EndDirective, CParameter, getFrameContentSize } = binding;

const events = [
  { id: 'a', body: 'first line' },
  { id: 'b', body: 'ünïcödé ✓ and "quotes"' },
];

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TributaryError);
    return (error as TributaryError).code;
  }
  throw new Error('expected an error');
}

describe('frame codec', () => {
  it('round-trips events with the documented headers', () => {
    const frame = encodeEvents('raw.log.v1', events);
    expect(frame.headers).toEqual({
      [FRAME_HEADER.schema]: 'raw.log.v1',
      [FRAME_HEADER.contentType]: 'application/x-ndjson',
      [FRAME_HEADER.contentEncoding]: 'zstd',
      [FRAME_HEADER.eventCount]: '2',
      [FRAME_HEADER.uncompressedBytes]: String(frame.uncompressedBytes),
    });
    expect(frame.value.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // zstd magic: readable by `zstd -d`
    expect(decodeFrame(frame.value, frame.headers)).toEqual({ schema: 'raw.log.v1', events, uncompressedBytes: frame.uncompressedBytes });
  });

  it('compresses repetitive log lines well', () => {
    const ndjson = Array.from({ length: 1000 }, (_, index) => `{"id":"${index}","body":"GET /api/orders 200 12ms user=alice"}\n`).join('');
    const frame = encodeFrame('raw.log.v1', ndjson, 1000);
    expect(frame.uncompressedBytes / frame.value.length).toBeGreaterThan(10);
  });

  it('refuses a frame that decompresses past the cap', () => {
    const frame = encodeFrame('raw.log.v1', `${'x'.repeat(2 * 1024 * 1024)}\n`, 1);
    expect(codeOf(() => decodeFrame(frame.value, frame.headers, 1024 * 1024))).toBe('FRAME_TOO_LARGE');
  });

  it('caps zstd data whose header does not declare its size', () => {
    // A streamed frame omits the content size, so the cap must be enforced while decompressing.
    const body = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const compressed = compressWithoutDeclaredSize(body);
    expect(getFrameContentSize(compressed)).toBeNull();
    expect(() => decompressCapped(compressed, 1024 * 1024)).toThrow(/more than the cap of 1048576 bytes/);
    expect(decompressCapped(compressed, 4 * 1024 * 1024).length).toBe(body.length);
  });

  it.each([
    ['an unknown schema', { [FRAME_HEADER.schema]: 'raw.trace.v9' }, encodeEvents('raw.log.v1', events).value],
    ['a missing schema', {}, encodeEvents('raw.log.v1', events).value],
    ['an unknown encoding', { [FRAME_HEADER.schema]: 'raw.log.v1', [FRAME_HEADER.contentEncoding]: 'lz4' }, Buffer.from('x')],
    ['bytes that are not zstd', { [FRAME_HEADER.schema]: 'raw.log.v1' }, Buffer.from('definitely not zstd')],
    ['an empty value', { [FRAME_HEADER.schema]: 'raw.log.v1' }, Buffer.alloc(0)],
    ['a wrong event count', { ...encodeEvents('raw.log.v1', events).headers, [FRAME_HEADER.eventCount]: '3' }, encodeEvents('raw.log.v1', events).value],
    ['a line that is not JSON', { [FRAME_HEADER.schema]: 'raw.log.v1' }, compress(Buffer.from('{"ok":1}\n{broken\n'))],
  ])('rejects %s as FRAME_INVALID', (_name, headers, value) => {
    expect(codeOf(() => decodeFrame(value, headers))).toBe('FRAME_INVALID');
  });

  it('names the line that is not JSON', () => {
    expect(() => decodeFrame(compress(Buffer.from('{"ok":1}\n{broken\n')), { [FRAME_HEADER.schema]: 'raw.log.v1' })).toThrow(/frame line 2 is not valid JSON/);
  });
});

describe('incremental frame reader', () => {
  it('13.9: reading stops at its deadline even across empty lines, and resumes without losing a line', () => {
    const frame = encodeFrame('raw.log.v1', `${'\n'.repeat(200_000)}{"a":1}\n{"b":2}\n`, 2);
    const reader = FrameReader.openSync(frame.value, frame.headers);
    // A deadline already passed: each read gives back the event loop after at most 64 lines scanned.
    expect(reader.read(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0)).toEqual([]);
    const lines: FrameLine[] = [];
    let reads = 1;
    while (!reader.done) {
      lines.push(...reader.read(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0));
      reads++;
    }
    expect(lines.map((line) => [line.lineNumber, line.event])).toEqual([
      [200_001, { a: 1 }],
      [200_002, { b: 2 }],
    ]);
    expect(reads).toBeGreaterThan(200_000 / 64);
  });

  it('13.10: a line that is not JSON or nests too deep is returned with its typed error; the lines after it are read', () => {
    const frame = encodeFrame('raw.log.v1', `{broken\n${'['.repeat(65)}${']'.repeat(65)}\n${'['.repeat(64)}${']'.repeat(64)}\n{"ok":1}\n`, 4);
    const lines = FrameReader.openSync(frame.value, frame.headers).read(10, 1 << 20);
    expect(lines.map((line) => [line.lineNumber, line.error?.message ?? 'ok'])).toEqual([
      [1, 'frame line 1 is not valid JSON'],
      [2, 'frame line 2 nests deeper than 64 levels'],
      [3, 'ok'],
      [4, 'ok'],
    ]);
    expect(lines[3]?.event).toEqual({ ok: 1 });
  });
});

/** Streams data through a compression context the way other producers do, leaving the size out of the header. */
function compressWithoutDeclaredSize(body: Buffer): Buffer {
  const context = new CCtx();
  context.setParameter(CParameter.compressionLevel, 1);
  const output: Buffer[] = [];
  let input: Uint8Array = body;
  let directive = EndDirective.continue;
  for (;;) {
    const chunk = Buffer.alloc(1024 * 1024);
    const [remaining, produced, consumed] = context.compressStream2(chunk, input, directive);
    output.push(chunk.subarray(0, produced));
    input = input.subarray(consumed);
    if (input.length === 0 && directive === EndDirective.continue) directive = EndDirective.end;
    else if (directive === EndDirective.end && remaining === 0) break;
  }
  return Buffer.concat(output);
}
