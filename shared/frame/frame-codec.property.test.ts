import fc from 'fast-check';
import { compress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectOnlyTypedErrorsAsync,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../test-support/boundary-contract.js';
import { FRAME_HEADER, FrameReader, MAX_EVENT_DEPTH, decodeFrame, type FrameLine } from './frame-codec.js';
import { MAX_ZSTD_FRAMES, decompressCapped } from './zstd-capped.js';

const CAP = 64 * 1024;
const LOG_HEADERS = { [FRAME_HEADER.schema]: 'raw.log.v1' };

/** A zstd skippable frame (magic 0x184D2A5?, little-endian size, payload): decoders skip it, producing nothing. */
function skippableFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Every line of a frame, reading at most `maxLines` / `maxBytes` at a time, checking each read stays within them. */
function readAll(reader: FrameReader, maxLines: number, maxBytes: number): FrameLine[] {
  const lines: FrameLine[] = [];
  while (!reader.done) {
    const batch = reader.read(maxLines, maxBytes);
    expect(batch.length).toBeLessThanOrEqual(maxLines);
    const bytes = batch.reduce((sum, line) => sum + line.bytes.length, 0);
    // The line that reaches the byte bound is included: a read overshoots by less than its last line.
    expect(bytes - (batch.at(-1)?.bytes.length ?? 0)).toBeLessThan(maxBytes);
    lines.push(...batch);
  }
  return lines;
}

/** The deepest nesting of a JSON value (for text that is not JSON, of its brackets outside strings). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth);
    else if (char === ']' || char === '}') depth--;
  }
  return deepest;
}

/** JSON-ish lines a hostile producer would send: valid values, broken text, deep nesting, escape runs, prototype keys. */
const hostileLine = fc.oneof(
  fc.json(),
  fc.string({ maxLength: 200 }).map((text) => text.replace(/\n/g, ' ')),
  fc.integer({ min: 1, max: 300 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 1, max: 300 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.integer({ min: 1, max: 2000 }).map((count) => `"${'\\u0000\\"\\\\'.repeat(count)}"`),
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"a":1', ''),
);

describe('frame decoder boundary contract', () => {
  it(
    'arbitrary bytes and headers: only typed errors, output within the cap, prototypes untouched',
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 2048 }),
          fc.constantFrom('raw.log.v1', 'raw.metric.v1', 'raw.trace.v9', undefined),
          fc.constantFrom('zstd', 'identity', 'lz4', undefined),
          (bytes, schema, encoding) => {
            const headers: Record<string, string> = {};
            if (schema !== undefined) headers[FRAME_HEADER.schema] = schema;
            if (encoding !== undefined) headers[FRAME_HEADER.contentEncoding] = encoding;
            const outcome = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => decodeFrame(Buffer.from(bytes), headers, CAP), [TributaryError]));
            if (!(outcome instanceof Error)) expect(outcome.uncompressedBytes).toBeLessThanOrEqual(CAP);
          },
        ),
        propertyParameters('frame decoder: arbitrary bytes'),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'hostile NDJSON in several zstd and skippable frames: the incremental reader returns every line, parsed or with a typed error, within its bounds',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileLine, { maxLength: 20 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 16, max: 4096 }),
          async (lines, frames, maxLines, maxBytes) => {
            const text = lines.map((line) => `${line}\n`).join('');
            const body = Buffer.from(text);
            // The same bytes split over several zstd frames with skippable frames between: one logical body.
            const parts: Buffer[] = [];
            const step = Math.ceil(body.length / frames) || 1;
            for (let start = 0; start < body.length; start += step) {
              parts.push(compress(body.subarray(start, start + step)), skippableFrame(Buffer.from('skip')));
            }
            if (parts.length === 0) parts.push(compress(Buffer.alloc(0)));
            const value = Buffer.concat(parts);
            const reader = await expectOnlyTypedErrorsAsync(() => FrameReader.open(value, LOG_HEADERS, CAP), [TributaryError]);
            if (reader instanceof Error) {
              expect(body.length).toBeGreaterThan(CAP);
              return;
            }
            expect(reader.uncompressedBytes).toBe(body.length);
            const read = expectPrototypesUntouched(() => readAll(reader, maxLines, maxBytes));
            const expected = text.split('\n').flatMap((line, index) => {
              if (line === '') return [];
              if (nestingDepth(line) > MAX_EVENT_DEPTH) return [{ lineNumber: index + 1, event: undefined, failed: true }];
              try {
                return [{ lineNumber: index + 1, event: JSON.parse(line) as unknown, failed: false }];
              } catch {
                return [{ lineNumber: index + 1, event: undefined, failed: true }];
              }
            });
            expect(read.map((line) => ({ lineNumber: line.lineNumber, event: line.event, failed: line.error !== undefined }))).toEqual(expected);
            for (const line of read) if (line.error !== undefined) expect(line.error).toBeInstanceOf(TributaryError);
          },
        ),
        propertyParameters('frame decoder: hostile NDJSON', 100),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time on adversarial shapes: skippable frames, deep nesting, long escape runs',
    async () => {
      // Skippable frames count against the frame cap like any other; under it, time grows with their number.
      const skippables = (count: number): Buffer =>
        Buffer.concat([...Array.from({ length: count }, () => skippableFrame(Buffer.alloc(4))), compress(Buffer.from('{}\n'))]);
      expect(() => decompressCapped(skippables(MAX_ZSTD_FRAMES + 1), CAP)).toThrow(/concatenated zstd frames/);
      const decodeRepeatedly = (message: Buffer): void => {
        for (let repeat = 0; repeat < 64; repeat++) decompressCapped(message, CAP);
      };
      expectLinearTime(skippables, decodeRepeatedly, { maxBaseSize: MAX_ZSTD_FRAMES / 4 - 1, minBaseMs: 20, repetitions: 5 });

      const readWhole = async (value: Buffer): Promise<number> => {
        const reader = await FrameReader.open(value, LOG_HEADERS, 64 * 1024 * 1024);
        return readAll(reader, 10_000, 4 * 1024 * 1024).length;
      };
      // The collector's path (FrameReader, lines read a step at a time and let go) measured by its synchronous twin.
      const readLines = (value: Buffer): void => {
        const reader = FrameReader.openSync(value, LOG_HEADERS, 64 * 1024 * 1024);
        while (!reader.done) reader.read(10_000, 4 * 1024 * 1024);
      };
      const nested = (depth: number): Buffer => compress(Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}\n`));
      const escapes = (count: number): Buffer => compress(Buffer.from(`"${'\\u0000\\"\\\\'.repeat(count)}"\n`));
      const tinyLines = (count: number): Buffer => compress(Buffer.from('{}\n'.repeat(count)));
      // A larger base (≥ 40 ms) and best of five keep scheduler noise on a shared machine out of the ratio.
      const noiseTolerant = { minBaseMs: 40, repetitions: 5 };
      expectLinearTime(nested, readLines, { ...noiseTolerant, maxBaseSize: 1 << 21 });
      expectLinearTime(escapes, readLines, { ...noiseTolerant, maxBaseSize: 1 << 19 });
      expectLinearTime(tinyLines, readLines, { ...noiseTolerant, maxBaseSize: 1 << 21 });
      expect(await readWhole(tinyLines(1000))).toBe(1000);
    },
    propertyTimeoutMs(60_000),
  );
});
