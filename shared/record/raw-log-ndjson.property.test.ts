import fc from 'fast-check';
import { compress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { encodeFrame, FrameReader } from '../frame/frame-codec.js';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../test-support/boundary-contract.js';
import { EventIdScope } from './event-id.js';
import { RawLogNdjsonWriter, type RawLogFileFields } from './raw-log-ndjson.js';

const OBSERVED_AT = '2026-11-23T12:00:00.123Z';
const CAP = 4 * 1024 * 1024;

/** Serializes `bodies` (each one file line's bytes, no newline) as the agent does; returns the NDJSON bytes. */
function serialize(fields: RawLogFileFields, bodies: readonly Uint8Array[]): Buffer {
  const writer = new RawLogNdjsonWriter(fields, new EventIdScope([fields.agentId, fields.fileId]));
  const file = Buffer.concat(bodies.flatMap((body) => [Buffer.from(body), Buffer.from('\n')]));
  writer.startChunk(OBSERVED_AT);
  let start = 0;
  for (const body of bodies) {
    writer.add(file, start, start + body.length, start, false);
    start += body.length + 1;
  }
  writer.finishChunk();
  return Buffer.from(writer.take(), 'utf8');
}

/** Decodes raw-log NDJSON the way the collector does (frame → incremental reader), a few lines per read. */
function decode(ndjson: Buffer): unknown[] {
  const frame = encodeFrame('raw.log.v1', ndjson, 0);
  const reader = FrameReader.openSync(frame.value, frame.headers, CAP);
  const events: unknown[] = [];
  while (!reader.done) {
    for (const line of reader.read(3, 4096)) {
      if (line.error !== undefined) throw line.error;
      events.push(line.event);
    }
  }
  return events;
}

/** File lines a hostile application writes: any byte but the newline (control bytes, quotes, backslashes, invalid UTF-8). */
const hostileBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => bytes.map((byte) => (byte === 0x0a ? 0x20 : byte))),
  fc.string({ maxLength: 100 }).map((text) => Buffer.from(text.replace(/\n/g, ''), 'utf8')),
  fc.integer({ min: 1, max: 500 }).map((count) => Buffer.from('\u0000"\\'.repeat(count), 'latin1')),
  fc.constantFrom(
    Buffer.from('{"__proto__":{"polluted":1}}'),
    Buffer.from('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'),
  ),
);

const hostileText = fc.string({ maxLength: 40 });
const hostileFields = fc.record({
  host: hostileText,
  agentId: hostileText,
  sourceName: hostileText,
  path: hostileText,
  fileId: hostileText,
  labels: fc.option(fc.dictionary(fc.oneof(hostileText, fc.constantFrom('__proto__', 'constructor', 'prototype')), hostileText, { maxKeys: 4 }), {
    nil: undefined,
  }),
});

describe('raw log NDJSON decoding boundary contract', () => {
  it(
    'every serialized line decodes to exactly its event (body = the bytes as UTF-8), only typed errors, prototypes untouched',
    () => {
      fc.assert(
        fc.property(hostileFields, fc.array(hostileBody, { maxLength: 12 }), (fields, bodies) => {
          const ndjson = serialize(fields, bodies);
          const decoded = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => decode(ndjson), [TributaryError]));
          if (decoded instanceof Error) throw decoded; // every line the writer produces is valid JSON of depth 3
          expect(decoded).toHaveLength(bodies.length);
          decoded.forEach((event, index) => {
            const body = Buffer.from(bodies[index] ?? new Uint8Array()).toString('utf8');
            expect(event).toMatchObject({ body, host: fields.host, agent_id: fields.agentId, observed_at: OBSERVED_AT });
            // Label keys such as __proto__ are own data keys after decoding, never a prototype.
            if (fields.labels !== undefined) expect(JSON.stringify((event as { labels: unknown }).labels)).toBe(JSON.stringify(fields.labels));
          });
        }),
        propertyParameters('raw log NDJSON: hostile lines'),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'arbitrary bytes as raw-log NDJSON: only typed errors, output within the cap',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
          const outcome = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => decode(Buffer.from(bytes)), [TributaryError]));
          if (!(outcome instanceof Error)) expect(outcome.length).toBeLessThanOrEqual(bytes.length);
        }),
        propertyParameters('raw log NDJSON: arbitrary bytes'),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'decoding is linear on long escape runs and on many tiny lines',
    () => {
      const fields: RawLogFileFields = { host: 'h', agentId: 'a', sourceName: 's', path: '/p', fileId: 'f', labels: undefined };
      const escapeRun = (count: number): Buffer => compress(serialize(fields, [Buffer.from('\u0001"\\'.repeat(count), 'latin1')]));
      const tinyLines = (count: number): Buffer =>
        compress(
          serialize(
            fields,
            Array.from({ length: count }, () => Buffer.from('x')),
          ),
        );
      const readAll = (value: Buffer): void => {
        const reader = FrameReader.openSync(value, { 'tributary.schema': 'raw.log.v1' }, 64 * 1024 * 1024);
        while (!reader.done) reader.read(10_000, 4 * 1024 * 1024);
      };
      const noiseTolerant = { minBaseMs: 20, repetitions: 7 };
      expectLinearTime(escapeRun, readAll, { ...noiseTolerant, maxBaseSize: 1 << 20 });
      expectLinearTime(tinyLines, readAll, { ...noiseTolerant, maxBaseSize: 1 << 17 });
    },
    propertyTimeoutMs(60_000),
  );
});
