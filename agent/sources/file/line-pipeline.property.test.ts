import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  type LinearTimeOptions,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../../../shared/test-support/boundary-contract.js';
import { ContainerFormatStage } from './container/container-stage.js';
import { codecFor } from './encoding.js';
import type { LineRecord } from './line-stage.js';
import { LineSplitter, type SplitLine } from './line-splitter.js';
import { multilineSchema } from './multiline/config.js';
import { MultilineStage } from './multiline/multiline-stage.js';

/**
 * The file source's input boundary, bytes of any file to records: the line
 * splitter, container envelopes (CRI, Docker json-file) and multiline. Whatever
 * a file holds: nothing throws (these stages have no typed errors: bad input
 * becomes flagged records), records stay within their caps, offsets stay
 * consistent, no shared prototype is touched, and time is linear in input size
 * on the shapes a naive implementation would choke on.
 */

/**
 * `expectLinearTime`, given three tries: on a loaded machine (two cores shared by many test runs) one
 * measurement can be off by a large factor, while a quadratic stage fails every try.
 */
function expectLinearTimeOnLoadedMachine<T>(makeInput: (size: number) => T, run: (input: T) => unknown, options: LinearTimeOptions = {}): void {
  for (let attempt = 1; ; attempt++) {
    try {
      expectLinearTime(makeInput, run, options);
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

const LINEAR_TIMEOUT_MS = 60_000;

const NO_TYPED_ERRORS: readonly (abstract new (...args: never[]) => Error)[] = [];

/** Bytes cut at random places into chunks, as reads of a growing file deliver them. */
const chunkedBytes = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 2_000 }),
      // Line-shaped text with newlines, carriage returns, multi-byte characters and invalid bytes.
      fc
        .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('\n', '\r\n', '\r', '\uFFFD', 'é', '😀')), { maxLength: 80 })
        .map((parts) => new Uint8Array(Buffer.from(parts.join('')))),
    ),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
  )
  .map(([bytes, sizes]) => {
    const buffer = Buffer.from(bytes);
    const chunks: Buffer[] = [];
    let position = 0;
    for (let index = 0; position < buffer.length; index++) {
      const size = sizes[index % sizes.length] ?? 1;
      chunks.push(buffer.subarray(position, position + size));
      position += size;
    }
    return { buffer, chunks };
  });

function splitAll(chunks: readonly Buffer[], maxLineBytes: number, encoding: 'utf-8' | 'utf-16le' | 'latin1' = 'utf-8'): SplitLine[] {
  const splitter = new LineSplitter(maxLineBytes, codecFor(encoding));
  const lines: SplitLine[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    lines.push(...splitter.push(chunk, offset));
    offset += chunk.length;
  }
  return lines;
}

describe('line splitter: property-based boundary contract', () => {
  it(
    'any bytes in any chunking: no throw, lines within max_line_bytes, offsets contiguous, same lines as one chunk',
    () => {
      fc.assert(
        fc.property(
          chunkedBytes,
          fc.integer({ min: 1, max: 300 }),
          fc.constantFrom('utf-8' as const, 'utf-16le' as const, 'latin1' as const),
          ({ buffer, chunks }, max, encoding) => {
            const lines = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => splitAll(chunks, max, encoding), NO_TYPED_ERRORS)) as SplitLine[];
            let expectedOffset = 0;
            for (const line of lines) {
              // One code unit per source byte at most, whatever the encoding: the cap bounds memory.
              expect(line.text.length).toBeLessThanOrEqual(max);
              expect(line.offset).toBe(expectedOffset);
              expect(line.end).toBeGreaterThan(line.offset);
              expect(line.end).toBeLessThanOrEqual(buffer.length);
              expectedOffset = line.end;
            }
            expect(splitAll([buffer], max, encoding)).toEqual(lines);
          },
        ),
        propertyParameters('line splitter'),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time: one huge line with no newline, fed in 4 KiB reads',
    () => {
      const chunk = Buffer.alloc(4 * 1024, 0x61);
      expectLinearTimeOnLoadedMachine(
        (size) => size,
        (reads) => {
          const splitter = new LineSplitter(256 * 1024);
          for (let index = 0; index < reads; index++) splitter.push(chunk, index * chunk.length);
        },
        { maxBaseSize: 1 << 16 },
      );
    },
    LINEAR_TIMEOUT_MS,
  );

  it(
    'linear time: many tiny lines (a file of newlines and one-byte lines)',
    () => {
      expectLinearTimeOnLoadedMachine(
        (size) => Buffer.from('a\n\n'.repeat(size)),
        (buffer) => {
          // Counted, not collected: a growing result array would measure the garbage collector, not the splitter.
          let count = 0;
          new LineSplitter(1024).forEachLine(buffer, 0, () => count++);
          new LineSplitter(1024, codecFor('latin1')).push(buffer.subarray(0, 4096), 0);
          return count;
        },
      );
    },
    LINEAR_TIMEOUT_MS,
  );
});

const CRI_TIME = '2026-12-07T06:00:00.123456789Z';
/** CRI and Docker lines, well formed or damaged, full or partial, plus anything at all. */
const containerLine = fc.oneof(
  fc
    .tuple(fc.constantFrom('stdout', 'stderr', 'bogus'), fc.constantFrom('P', 'F', 'X', ''), fc.string({ maxLength: 60 }))
    .map(([stream, tag, text]) => `${CRI_TIME} ${stream} ${tag} ${text}`),
  fc
    .tuple(fc.string({ maxLength: 60 }), fc.boolean(), fc.constantFrom('stdout', 'stderr'))
    .map(([text, partial, stream]) => JSON.stringify({ log: partial ? text : `${text}\n`, stream, time: CRI_TIME })),
  fc.constantFrom('{"log":"x","stream":"stdout","time":"t","__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{', '[]', 'null'),
  fc.string({ maxLength: 80 }),
);

function asRecords(texts: readonly string[]): LineRecord[] {
  let offset = 0;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const record: LineRecord = { text, offset, end, truncated: false };
    offset = end;
    return record;
  });
}

function runStage(stage: ContainerFormatStage | MultilineStage, lines: readonly LineRecord[]): LineRecord[] {
  const out: LineRecord[] = [];
  let now = 0;
  for (const line of lines) {
    now += 10;
    out.push(...stage.push([line], now), ...stage.flushDue(now));
  }
  out.push(...stage.flushAll());
  return out;
}

/** Feeds lines one by one and only counts what comes out: what linear-time checks measure. */
function drainStage(stage: ContainerFormatStage | MultilineStage, lines: readonly LineRecord[]): number {
  let count = 0;
  let now = 0;
  for (const line of lines) {
    now += 10;
    count += stage.push([line], now).length + stage.flushDue(now).length;
  }
  return count + stage.flushAll().length;
}

describe('container formats: property-based boundary contract', () => {
  it(
    'any mix of CRI/Docker lines: no throw, records within the cap, every record inside the input, nothing pending after flushAll',
    () => {
      fc.assert(
        fc.property(
          fc.array(containerLine, { maxLength: 60 }),
          fc.constantFrom('cri' as const, 'docker' as const, 'auto' as const),
          fc.integer({ min: 1, max: 200 }),
          (texts, format, max) => {
            const lines = asRecords(texts);
            const stage = new ContainerFormatStage(format, max);
            const records = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => runStage(stage, lines), NO_TYPED_ERRORS)) as LineRecord[];
            const last = lines.at(-1)?.end ?? 0;
            for (const record of records) {
              // A malformed line passes through whole (it is already within max_line_bytes from the splitter); parsed content is capped.
              if (record.attributes?.['tributary.parse_error'] === undefined) expect(Buffer.byteLength(record.text)).toBeLessThanOrEqual(max);
              expect(record.offset).toBeGreaterThanOrEqual(0);
              expect(record.end).toBeLessThanOrEqual(last);
              expect(Object.getPrototypeOf(record.attributes ?? {})).toBe(Object.prototype);
            }
            expect(stage.pendingOffset()).toBeUndefined();
            expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          },
        ),
        propertyParameters('container formats'),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time: CRI partial lines that never end (P, P, P, …)',
    () => {
      expectLinearTimeOnLoadedMachine(
        (size) => asRecords(Array.from({ length: size }, () => `${CRI_TIME} stdout P ${'p'.repeat(100)}`)),
        (lines) => drainStage(new ContainerFormatStage('cri', 256 * 1024), lines),
        { maxBaseSize: 1 << 16, minBaseMs: 25 },
      );
    },
    LINEAR_TIMEOUT_MS,
  );

  it(
    'linear time: Docker json-file partials (no trailing newline in log) that never end',
    () => {
      const partial = JSON.stringify({ log: 'p'.repeat(100), stream: 'stderr', time: CRI_TIME });
      expectLinearTimeOnLoadedMachine(
        (size) => asRecords(Array.from({ length: size }, () => partial)),
        (lines) => drainStage(new ContainerFormatStage('docker', 256 * 1024), lines),
        { maxBaseSize: 1 << 16, minBaseMs: 25 },
      );
    },
    LINEAR_TIMEOUT_MS,
  );
});

const multilineConfig = fc.oneof(
  fc.constantFrom({ preset: 'java' }, { preset: 'python' }, { preset: 'go' }, { mode: 'indented' }),
  fc.constantFrom('^\\d', '^\\s', 'never-ever-matches', '.*', '^(a|b)+$', '^Caused by').map((pattern) => ({ mode: 'start_pattern', pattern })),
  fc.constantFrom('^\\s', '^\\.\\.\\.', '.*').map((pattern) => ({ mode: 'continuation_pattern', pattern })),
);
const multilineText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom(
    'Exception in thread "main" java.lang.IllegalStateException: boom',
    '\tat com.example.App.main(App.java:10)',
    'Caused by: java.io.IOException: disk',
    '\t... 3 more',
    'Traceback (most recent call last):',
    '  File "app.py", line 1, in <module>',
    'ValueError: bad',
    'panic: runtime error',
    'goroutine 1 [running]:',
    '2026-12-07 06:00:00 INFO started',
    '    indented',
  ),
);

describe('multiline: property-based boundary contract', () => {
  it(
    'any lines with any rules: no throw, records within max_bytes and max_lines, in file order, nothing pending after flushAll',
    () => {
      fc.assert(
        fc.property(
          fc.array(multilineText, { maxLength: 80 }),
          multilineConfig,
          fc.integer({ min: 8, max: 400 }),
          fc.integer({ min: 1, max: 20 }),
          (texts, rules, maxBytes, maxLines) => {
            const stage = new MultilineStage(multilineSchema.parse({ ...rules, max_bytes: maxBytes, max_lines: maxLines, flush_timeout: '25ms' }));
            const records = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => runStage(stage, asRecords(texts)), NO_TYPED_ERRORS)) as LineRecord[];
            let previousOffset = -1;
            for (const record of records) {
              expect(Buffer.byteLength(record.text)).toBeLessThanOrEqual(maxBytes);
              expect(record.text.split('\n').length).toBeLessThanOrEqual(maxLines);
              expect(record.offset).toBeGreaterThan(previousOffset);
              previousOffset = record.offset;
            }
            expect(stage.pendingOffset()).toBeUndefined();
          },
        ),
        propertyParameters('multiline'),
      );
    },
    propertyTimeoutMs(),
  );

  const manyLines = (size: number) => asRecords(Array.from({ length: size }, (_, index) => `line ${index} ${'m'.repeat(60)}`));

  it(
    'linear time: a start pattern that never matches (one endless record, cut at its caps)',
    () => {
      expectLinearTimeOnLoadedMachine(
        manyLines,
        (lines) => drainStage(new MultilineStage(multilineSchema.parse({ mode: 'start_pattern', pattern: '^NEVER' })), lines),
        {
          maxBaseSize: 1 << 16,
          minBaseMs: 15,
        },
      );
    },
    LINEAR_TIMEOUT_MS,
  );

  it(
    'linear time: a start pattern that always matches (every line its own record)',
    () => {
      expectLinearTimeOnLoadedMachine(
        manyLines,
        (lines) => drainStage(new MultilineStage(multilineSchema.parse({ mode: 'start_pattern', pattern: '^line' })), lines),
        {
          maxBaseSize: 1 << 16,
          minBaseMs: 15,
        },
      );
    },
    LINEAR_TIMEOUT_MS,
  );

  it(
    'linear time: an endless Java stack trace (every line continues the record)',
    () => {
      expectLinearTimeOnLoadedMachine(
        (size) =>
          asRecords(['Exception in thread "main" java.lang.Error: x', ...Array.from({ length: size }, (_, index) => `\tat com.example.C${index}.m(C.java:1)`)]),
        (lines) => drainStage(new MultilineStage(multilineSchema.parse({ preset: 'java' })), lines),
        { maxBaseSize: 1 << 16, minBaseMs: 25 },
      );
    },
    LINEAR_TIMEOUT_MS,
  );
});
