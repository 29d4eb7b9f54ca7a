import { describe, expect, it } from 'vitest';
import { EventIdScope } from './event-id.js';
import { EscapeScanner, RawLogNdjsonWriter, type RawLogFileFields, type SerializedRawLogEvent } from './raw-log-ndjson.js';

const OBSERVED_AT = '2026-11-23T12:00:00.123Z';

const plainFields: RawLogFileFields = {
  host: 'web-1',
  agentId: 'agent-1',
  sourceName: 'app',
  path: '/var/log/app.log',
  fileId: '2049:131',
  labels: undefined,
};

/** Every string field hostile: quotes, backslashes, control characters, lone surrogates, U+2028. */
const nastyFields: RawLogFileFields = {
  host: 'h"o\\st\n\u0000',
  agentId: 'agent\ud800-\udc00x\u2028',
  sourceName: 'na"me\t',
  path: 'C:\\logs\\"odd"\u2029\u001f/ä✓😀.log',
  fileId: '\udfff:\ud83d',
  labels: { 'service.name': 'sh"op', 'k\\\n': '\ud800', '': '\u007f\u0085' },
};

interface Line {
  bytes: Buffer;
  start: number;
  end: number;
  offset: number;
  truncated: boolean;
}

/** What the tailer used to do: build the object, JSON.stringify it. */
function reference(fields: RawLogFileFields, lines: readonly Line[]): string {
  const ids = new EventIdScope([fields.agentId, fields.fileId]);
  const source = { type: 'file' as const, name: fields.sourceName, path: fields.path, file_id: fields.fileId };
  let ndjson = '';
  for (const line of lines) {
    const event: SerializedRawLogEvent = {
      id: ids.id(line.offset),
      observed_at: OBSERVED_AT,
      body: line.bytes.toString('utf8', line.start, line.end),
      host: fields.host,
      agent_id: fields.agentId,
      source: { ...source, offset: line.offset },
    };
    if (fields.labels) event.labels = fields.labels;
    if (line.truncated) event.truncated = true;
    ndjson += `${JSON.stringify(event)}\n`;
  }
  return ndjson;
}

function written(fields: RawLogFileFields, lines: readonly Line[], takeEvery = Infinity): string {
  const writer = new RawLogNdjsonWriter(fields, new EventIdScope([fields.agentId, fields.fileId]));
  writer.startChunk(OBSERVED_AT);
  let ndjson = '';
  let events = 0;
  for (const line of lines) {
    writer.add(line.bytes, line.start, line.end, line.offset, line.truncated);
    if (writer.eventCount >= takeEvery) {
      events += writer.eventCount;
      ndjson += writer.take();
    }
  }
  events += writer.eventCount;
  ndjson += writer.take();
  writer.finishChunk();
  expect(events).toBe(lines.length);
  return ndjson;
}

/** Lays the bodies out in one buffer separated by newlines, the way they sit in a read chunk. */
function linesInOneBuffer(bodies: readonly Buffer[], misalignment = 0, firstOffset = 0): Line[] {
  const chunk = Buffer.alloc(misalignment + bodies.reduce((sum, body) => sum + body.length + 1, 0));
  let at = misalignment;
  const lines: Line[] = [];
  const view = chunk.subarray(misalignment);
  for (const [index, body] of bodies.entries()) {
    body.copy(chunk, at);
    lines.push({ bytes: view, start: at - misalignment, end: at - misalignment + body.length, offset: firstOffset + at, truncated: index % 7 === 3 });
    at += body.length;
    chunk[at++] = 0x0a;
  }
  return lines;
}

const nastyBodies: Buffer[] = [
  Buffer.from(''),
  Buffer.from('plain ascii line with spaces and = signs'),
  Buffer.from('"quoted" and \\backslashed\\ and \\"both\\"'),
  Buffer.from(Array.from({ length: 32 }, (_, code) => code).filter((code) => code !== 0x0a)),
  Buffer.from('tab\there, carriage\rreturn mid-line, DEL \u007f, C1 \u0085'),
  Buffer.from('line separators \u2028 and \u2029 stay raw in JSON.stringify'),
  Buffer.from('ünïcödé ✓ 😀 𝄞 and a BOM \ufeff'),
  Buffer.from([0x61, 0xff, 0x62]), // a byte that is never UTF-8
  Buffer.from([0x80, 0x80, 0x61]), // stray continuation bytes
  Buffer.from([0x61, 0xe2, 0x9c]), // a character cut at the end of the line
  Buffer.from([0xe2, 0x9c, 0x22, 0x61]), // a cut character followed by a quote
  Buffer.from([0x61, 0xf0, 0x9f, 0x98]), // four-byte character cut after three
  Buffer.from([0xed, 0xa0, 0x80, 0x61]), // an encoded surrogate (CESU-8): invalid in UTF-8
  Buffer.from([0xc0, 0xaf, 0xe0, 0x80, 0xaf]), // overlong encodings
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
  Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0x5c, 0xc3]), // an emoji, a backslash, a cut character
  Buffer.from('x'.repeat(1000)),
  Buffer.from(`${'y'.repeat(301)}\u0001`),
  Buffer.from(`${'z'.repeat(41)}\u001f${'z'.repeat(40)}`), // the highest control byte, inside a word
];

describe('RawLogNdjsonWriter', () => {
  it('writes exactly what JSON.stringify writes for the same event', () => {
    const lines = linesInOneBuffer(nastyBodies, 0, 1_000);
    expect(written(plainFields, lines)).toBe(reference(plainFields, lines));
  });

  it('serializes hostile agent ids, hosts, paths, file ids and labels like JSON.stringify', () => {
    const lines = linesInOneBuffer(nastyBodies);
    expect(written(nastyFields, lines)).toBe(reference(nastyFields, lines));
  });

  it('produces NDJSON that parses back to the events', () => {
    const lines = linesInOneBuffer(nastyBodies);
    const events = written(nastyFields, lines)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as SerializedRawLogEvent);
    expect(events.map((event) => event.body)).toEqual(lines.map((line) => line.bytes.toString('utf8', line.start, line.end)));
    expect(events[0]?.labels).toEqual(nastyFields.labels);
    expect(events[3]?.truncated).toBe(true);
    expect(events[0]).not.toHaveProperty('truncated');
  });

  it('gives the same text when the batch is taken in pieces', () => {
    const lines = linesInOneBuffer(nastyBodies);
    expect(written(plainFields, lines, 3)).toBe(reference(plainFields, lines));
    expect(written(plainFields, lines, 1)).toBe(reference(plainFields, lines));
  });

  it('handles lines in separate buffers, at any alignment, and huge offsets', () => {
    for (let misalignment = 0; misalignment < 4; misalignment++) {
      const lines = linesInOneBuffer(nastyBodies, misalignment, Number.MAX_SAFE_INTEGER - 100_000);
      expect(written(plainFields, lines)).toBe(reference(plainFields, lines));
    }
    const separate = nastyBodies.map((body, index) => ({ bytes: Buffer.from(body), start: 0, end: body.length, offset: index * 10, truncated: false }));
    expect(written(nastyFields, separate)).toBe(reference(nastyFields, separate));
  });

  it('matches JSON.stringify on random bytes', () => {
    const random = seededRandom(7);
    // Biased towards the bytes that matter: controls, quotes, backslashes, UTF-8 lead and continuation bytes.
    const interesting = [0x00, 0x01, 0x09, 0x0d, 0x1f, 0x20, 0x22, 0x5c, 0x7f, 0x80, 0xbf, 0xc2, 0xe2, 0xed, 0xf0, 0xf4, 0xff];
    for (let round = 0; round < 200; round++) {
      const bodies = Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
        const body = Buffer.alloc(Math.floor(random() * 40));
        for (let index = 0; index < body.length; index++) {
          const roll = random();
          body[index] =
            roll < 0.1
              ? (interesting[Math.floor(random() * interesting.length)] as number)
              : roll < 0.2
                ? 0x80 + Math.floor(random() * 0x80)
                : 0x20 + Math.floor(random() * 0x5f);
          if (body[index] === 0x0a) body[index] = 0x0b;
        }
        return body;
      });
      const lines = linesInOneBuffer(bodies, round % 4, round * 1_000);
      expect(written(round % 2 === 0 ? plainFields : nastyFields, lines)).toBe(reference(round % 2 === 0 ? plainFields : nastyFields, lines));
    }
  });

  it('matches JSON.stringify on random strings, lone surrogates included, encoded as the file would hold them', () => {
    const random = seededRandom(11);
    const pieces = ['a', ' ', '"', '\\', '\t', '\r', '\u0000', '\u001b', 'é', '✓', '😀', '\u2028', '\ud800', '\udc00', '\u007f', '\ufffd'];
    for (let round = 0; round < 200; round++) {
      const bodies = Array.from({ length: 1 + Math.floor(random() * 10) }, () =>
        Buffer.from(Array.from({ length: Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)] as string).join('')),
      );
      const lines = linesInOneBuffer(bodies, round % 4);
      expect(written(nastyFields, lines)).toBe(reference(nastyFields, lines));
    }
  });

  it('keeps its buffer from growing without bound after one huge line', () => {
    const writer = new RawLogNdjsonWriter(plainFields, new EventIdScope(['a', 'b']));
    writer.startChunk(OBSERVED_AT);
    const huge = Buffer.alloc(512 * 1024, 0x01); // every byte escaped: six bytes out per byte in
    writer.add(huge, 0, huge.length, 0, false);
    expect(writer.byteLength).toBeGreaterThan(6 * huge.length);
    const text = writer.take();
    expect(JSON.parse(text)).toMatchObject({ body: '\u0001'.repeat(huge.length) });
    writer.add(Buffer.from('small'), 0, 5, 1, false);
    expect(writer.take()).toContain('"body":"small"');
  });
});

describe('EscapeScanner', () => {
  function naive(bytes: Buffer, start: number, end: number): boolean {
    for (let index = start; index < end; index++) {
      const byte = bytes[index] as number;
      if ((byte < 0x20 && byte !== 0x0a) || byte === 0x22 || byte === 0x5c) return true;
    }
    return false;
  }

  it('agrees with a byte-by-byte scan over consecutive ranges at every alignment', () => {
    const random = seededRandom(3);
    for (let round = 0; round < 300; round++) {
      const backing = Buffer.alloc(600);
      for (let index = 0; index < backing.length; index++) {
        const roll = random();
        backing[index] =
          roll < 0.01 ? 0x00 : roll < 0.02 ? 0x22 : roll < 0.03 ? 0x5c : roll < 0.06 ? 0x0a : roll < 0.07 ? 0x1f : 0x20 + Math.floor(random() * 0xe0);
      }
      const bytes = backing.subarray(round % 5, 600 - (round % 3));
      const scanner = new EscapeScanner();
      let start = 0;
      while (start < bytes.length) {
        const end = Math.min(bytes.length, start + Math.floor(random() * 40));
        expect(scanner.needsEscape(bytes, start, end)).toBe(naive(bytes, start, end));
        start = end + Math.floor(random() * 3);
      }
    }
  });

  it('starts over for another buffer or after a reset', () => {
    const scanner = new EscapeScanner();
    const first = Buffer.from('clean line\nclean line');
    expect(scanner.needsEscape(first, 0, 10)).toBe(false);
    const second = Buffer.from('dirty "line"');
    expect(scanner.needsEscape(second, 0, second.length)).toBe(true);
    first.write('"', 11);
    scanner.reset();
    expect(scanner.needsEscape(first, 11, 21)).toBe(true);
  });
});

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}
