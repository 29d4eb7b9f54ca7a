import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  decodePayload,
  decodeRecordHeader,
  decodeSegmentHeader,
  encodeRecord,
  encodeSegmentHeader,
  payloadIntact,
  stampRecord,
} from './spool-format.js';

/** One record, byte for byte: a change here is a change of the on-disk format and needs a new FORMAT_VERSION. */
const RECORD_FIXTURE = [
  '00000015', // payload bytes: 21
  '00000003', // event count
  '0000000000000001', // seq
  '0000000000000002', // events before
  '6ddb3add', // crc32 of the payload
  'cf42076b', // crc32 of the 28 bytes above
  '00000002' + '6b31', // key "k1"
  '00000001', // one header
  '00000001' + '68' + '00000001' + '78', // "h": "x"
  '76', // value "v"
].join('');

const SEGMENT_HEADER_FIXTURE = [
  '54525350', // "TRSP"
  '01000000', // version 1, reserved
  '0000000100000005', // start seq 2^32 + 5
  '0000000000000007', // start events
  'f3983496', // crc32 of the 24 bytes above
].join('');

function stamped(): Buffer {
  const record = encodeRecord({ key: 'k1', value: Buffer.from('v'), headers: { h: 'x' }, eventCount: 3 });
  stampRecord(record, { seq: 1, events: 2 });
  return record;
}

describe('spool format', () => {
  it('encodes a record as documented', () => {
    expect(stamped().toString('hex')).toBe(RECORD_FIXTURE);
  });

  it('decodes the header and payload it wrote', () => {
    const record = Buffer.from(RECORD_FIXTURE, 'hex');
    const header = decodeRecordHeader(record);
    expect(header).toEqual({ payloadBytes: 21, eventCount: 3, seq: 1, events: 2, payloadCrc: crc32(record.subarray(RECORD_HEADER_BYTES)) });
    const payload = record.subarray(RECORD_HEADER_BYTES);
    expect(header && payloadIntact(header, payload)).toBe(true);
    expect(decodePayload(payload)).toEqual({ key: 'k1', headers: { h: 'x' }, value: Buffer.from('v') });
  });

  it('detects every single damaged byte of a record', () => {
    const intact = stamped();
    for (let offset = 0; offset < intact.length; offset++) {
      const damaged = Buffer.from(intact);
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x01;
      const header = decodeRecordHeader(damaged);
      const caught = header === undefined || !payloadIntact(header, damaged.subarray(RECORD_HEADER_BYTES));
      expect(caught, `byte ${offset}`).toBe(true);
      // A damaged payload leaves the header trusted: only that one record is lost.
      if (offset >= RECORD_HEADER_BYTES) expect(header?.seq).toBe(1);
    }
  });

  it('does not take zeros or a torn header for a record', () => {
    expect(decodeRecordHeader(Buffer.alloc(RECORD_HEADER_BYTES))).toBeUndefined();
    expect(decodeRecordHeader(stamped().subarray(0, RECORD_HEADER_BYTES - 1))).toBeUndefined();
  });

  it('round-trips stream points past 32 bits, binary values and awkward header names', () => {
    const value = Buffer.from([0, 255, 10, 13, 0]);
    const record = encodeRecord({ key: 'ünïcödé', value, headers: { ['__proto__']: 'p', '': 'empty name' }, eventCount: 2 ** 32 - 1 });
    stampRecord(record, { seq: 2 ** 40 + 3, events: Number.MAX_SAFE_INTEGER - 1 });
    expect(decodeRecordHeader(record)).toMatchObject({ seq: 2 ** 40 + 3, events: Number.MAX_SAFE_INTEGER - 1, eventCount: 2 ** 32 - 1 });
    const decoded = decodePayload(record.subarray(RECORD_HEADER_BYTES));
    expect(decoded?.value).toEqual(value);
    expect(decoded?.key).toBe('ünïcödé');
    expect(Object.getPrototypeOf(decoded?.headers)).toBe(Object.prototype);
    expect(Object.entries(decoded?.headers ?? {})).toEqual(Object.entries({ ['__proto__']: 'p', '': 'empty name' }));
  });

  it('rejects an event count that does not fit the format', () => {
    expect(() => encodeRecord({ key: 'k', value: Buffer.alloc(0), headers: {}, eventCount: -1 })).toThrow(/invalid event count/);
    expect(() => encodeRecord({ key: 'k', value: Buffer.alloc(0), headers: {}, eventCount: 1.5 })).toThrow(/invalid event count/);
  });

  it('encodes and checks segment headers', () => {
    const header = encodeSegmentHeader({ seq: 2 ** 32 + 5, events: 7 });
    expect(header.toString('hex')).toBe(SEGMENT_HEADER_FIXTURE);
    expect(header).toHaveLength(SEGMENT_HEADER_BYTES);
    expect(decodeSegmentHeader(header)).toEqual({ seq: 2 ** 32 + 5, events: 7 });
    expect(decodeSegmentHeader(header.subarray(0, 20))).toBeUndefined();
    const damaged = Buffer.from(header);
    damaged[12] = 0xff;
    expect(decodeSegmentHeader(damaged)).toBeUndefined();
    expect(decodeSegmentHeader(Buffer.alloc(SEGMENT_HEADER_BYTES))).toBeUndefined();
  });

  it('refuses a segment written by a newer format rather than misreading it', () => {
    const header = encodeSegmentHeader({ seq: 0, events: 0 });
    header[4] = 2;
    header.writeUInt32BE(crc32(header.subarray(0, 24)), 24);
    expect(() => decodeSegmentHeader(header)).toThrow(/format version 2/);
  });
});
